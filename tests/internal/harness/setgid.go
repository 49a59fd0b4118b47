// Builds commands whose compiled-in default configuration directory is a test's, for the set-group-id programs that trust only that one.

package harness

import (
	"path/filepath"
	"testing"
)

// BuildWithConfigDir builds the commands named (cmd/NAME) into dir with
// pkg/config.DefaultConfigDir set to configDir, as an installation
// compiled for that directory would have it: set-group-id postdrop and
// postqueue accept no other configuration directory from an ordinary
// user unless the default main.cf lists it.
func BuildWithConfigDir(t testing.TB, dir, configDir string, names ...string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	flags := "-X github.com/postern/postern/pkg/config.DefaultConfigDir=" + configDir
	for _, name := range names {
		out, err := goCommand(root, "build", "-buildvcs=false", "-ldflags", flags, "-o", filepath.Join(dir, name), "./cmd/"+name)
		if err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
}
