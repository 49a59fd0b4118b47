// Builds every Postern main package once per test binary run and hands out binary paths.

package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// builtBinaries is the outcome of the one build a test binary run does.
type builtBinaries struct {
	dir     string            // where the binaries are
	owned   bool              // dir was created by the build and is removed by Main
	failed  map[string]string // binary name -> compiler output, for packages that did not build
	listErr error             // the build could not even start (go list failed, no module)
}

var (
	buildOnce sync.Once
	build     builtBinaries
)

// Main runs the tests of a package that uses the harness and removes the
// binaries built for it afterwards. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if build.owned {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// BinDir returns the directory holding the Postern binaries, building them
// on first use. It fails the test when the build could not run at all.
func BinDir(t testing.TB) string {
	t.Helper()
	buildOnce.Do(buildAll)
	if build.listErr != nil {
		t.Fatalf("building Postern binaries: %v", build.listErr)
	}
	return build.dir
}

// Bin returns the path of the Postern binary called name ("postconf",
// "smtpd", "newaliases", ...). It fails the test, with the compiler output,
// when that binary did not build or no main package produces it.
func Bin(t testing.TB, name string) string {
	t.Helper()
	dir := BinDir(t)
	if out, ok := build.failed[name]; ok {
		t.Fatalf("Postern binary %s did not build:\n%s", name, out)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no Postern binary %s in %s (is there a main package for it?): %v", name, dir, err)
	}
	return p
}

func buildAll() {
	if dir := os.Getenv("POSTERN_BIN"); dir != "" {
		build.dir = dir
		return
	}
	root, err := moduleRoot()
	if err != nil {
		build.listErr = err
		return
	}
	pkgs, err := mainPackages(root)
	if err != nil {
		build.listErr = err
		return
	}
	dir, err := os.MkdirTemp("", "postern-bin-")
	if err != nil {
		build.listErr = fmt.Errorf("create binary directory: %w", err)
		return
	}
	build.dir, build.owned = dir, true
	// Reachable by the unprivileged user that some programs run as.
	if err := os.Chmod(dir, 0o755); err != nil {
		build.listErr = fmt.Errorf("chmod %s: %w", dir, err)
		return
	}
	build.failed = compile(root, dir, pkgs)
	// Commands that are another command under a second name, linked as
	// the Makefile links them.
	for alias, target := range map[string]string{"newaliases": "postalias", "mailq": "postqueue"} {
		if _, err := os.Stat(filepath.Join(dir, target)); err != nil {
			continue
		}
		if err := os.Symlink(target, filepath.Join(dir, alias)); err != nil {
			build.listErr = fmt.Errorf("link %s: %w", alias, err)
		}
	}
}

// compile builds pkgs into dir. When the combined build fails it builds
// each package alone, so one broken package does not hide the others, and
// returns the compiler output of each package that failed, by binary name.
func compile(root, dir string, pkgs []string) map[string]string {
	failed := map[string]string{}
	if len(pkgs) == 0 {
		return failed
	}
	// No VCS stamping: git refuses a checkout owned by another user, and a
	// test binary needs no version control information.
	args := append([]string{"build", "-buildvcs=false", "-o", dir + string(filepath.Separator)}, pkgs...)
	if _, err := goCommand(root, args...); err == nil {
		return failed
	}
	for _, pkg := range pkgs {
		name := path.Base(pkg)
		if out, err := goCommand(root, "build", "-buildvcs=false", "-o", filepath.Join(dir, name), pkg); err != nil {
			failed[name] = out
		}
	}
	return failed
}

// moduleRoot finds the directory of the go.mod enclosing the working directory.
func moduleRoot() (string, error) {
	out, err := goCommand("", "env", "GOMOD")
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w: %s", err, out)
	}
	gomod := strings.TrimSpace(out)
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

// mainPackages lists the import paths of every main package in the module,
// so daemons added later are built without touching the harness.
func mainPackages(root string) ([]string, error) {
	out, err := goCommand(root, "list", "-e", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...")
	if err != nil {
		return nil, fmt.Errorf("go list: %w: %s", err, out)
	}
	var pkgs []string
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			pkgs = append(pkgs, line)
		}
	}
	sort.Strings(pkgs)
	return pkgs, nil
}

// goCommand runs the go tool in dir and returns its standard output, or
// on failure its standard error (progress lines such as "go: downloading"
// go to standard error and must not be taken for output).
func goCommand(dir string, args ...string) (string, error) {
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return stderr.String(), err
	}
	return string(out), nil
}

// goTool prefers the go that runs the tests (GOROOT/bin/go) over $PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
