package profile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartWritesEveryProfile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	stop := Start("testd", t.Errorf)
	stop()
	for _, kind := range []string{"cpu", "heap", "allocs", "block", "mutex"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "testd.*."+kind+".pprof"))
		if len(matches) != 1 {
			t.Errorf("%s profile: found %v", kind, matches)
			continue
		}
		if st, err := os.Stat(matches[0]); err != nil || st.Size() == 0 {
			t.Errorf("%s profile empty or missing: %v", kind, err)
		}
	}
}
