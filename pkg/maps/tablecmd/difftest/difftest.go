// Package difftest runs the same table-command steps with Postfix's real
// postmap/postalias and with Postern's, each in its own directory, and
// reports where their output or exit status differ.
package difftest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Step is one command run. Args exclude the program name.
type Step struct {
	Args  []string
	Stdin string
	// Unordered sorts standard output before comparing (postmap -s:
	// Berkeley DB hash order is not Postern's key order).
	Unordered bool
}

// Scenario is a set of source files and the steps run on them.
type Scenario struct {
	Name  string
	Files map[string]string
	Steps []Step
}

// Build compiles the package in the current directory (a command's
// main) into a temporary directory and returns the binary's path.
func Build(t *testing.T, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Compare runs each scenario with real and ours, which name binaries;
// tool is the program name of both (postmap, postalias, newaliases):
// ours is linked under that name. Lines starting with one of ignore are
// dropped from both outputs.
func Compare(t *testing.T, real, ours, tool string, scenarios []Scenario, ignore ...string) {
	t.Helper()
	if _, err := os.Stat(real); err != nil {
		t.Skipf("real %s not installed: %v", tool, err)
	}
	linkDir := t.TempDir()
	link := filepath.Join(linkDir, tool)
	if err := os.Symlink(ours, link); err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			realDir, oursDir := setup(t, sc), setup(t, sc)
			for i, step := range sc.Steps {
				want := run(t, real, realDir, step, ignore)
				got := run(t, link, oursDir, step, ignore)
				if got != want {
					t.Errorf("step %d (%s %q):\nPostfix:\n%s\nPostern:\n%s", i, tool, step.Args, want, got)
				}
			}
		})
	}
}

// setup writes a scenario's files and an empty main.cf into a new directory.
func setup(t *testing.T, sc Scenario) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range sc.Files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run executes one step and renders what it did as text.
func run(t *testing.T, bin, dir string, step Step, ignore []string) string {
	cmd := exec.Command(bin, step.Args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+dir)
	cmd.Stdin = strings.NewReader(step.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	status := 0
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("run %s: %v", bin, err)
		}
		status = exit.ExitCode()
	}
	out := keep(stdout.String(), ignore)
	if step.Unordered {
		sort.Strings(out)
	}
	return "stdout:\n" + strings.Join(out, "\n") + "\nstderr:\n" + strings.Join(keep(stderr.String(), ignore), "\n") +
		"\nstatus: " + strconv.Itoa(status)
}

func keep(text string, ignore []string) []string {
	var lines []string
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		drop := false
		for _, prefix := range ignore {
			drop = drop || strings.HasPrefix(line, prefix)
		}
		if !drop {
			lines = append(lines, line)
		}
	}
	return lines
}
