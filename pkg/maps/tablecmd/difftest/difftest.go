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
	// Program, when set, runs another name of the same binary (postalias
	// after newaliases): the real one from the same directory.
	Program string
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
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			realDir, oursDir := Setup(t, sc), Setup(t, sc)
			for i, step := range sc.Steps {
				program := tool
				if step.Program != "" {
					program = step.Program
				}
				want := Run(t, filepath.Join(filepath.Dir(real), program), realDir, step, ignore...)
				got := Run(t, Link(t, ours, program), oursDir, step, ignore...)
				if got != want {
					t.Errorf("step %d (%s %q):\nPostfix:\n%s\nPostern:\n%s", i, program, step.Args, want, got)
				}
			}
		})
	}
}

// Link returns a path that runs the binary ours under the name program.
func Link(t *testing.T, ours, program string) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), program)
	if err := os.Symlink(ours, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// defaultMainCF states the compatibility level both sides run at, since
// Postern's default level (3.6) is not Postfix's (0).
const defaultMainCF = "compatibility_level = 3.6\n"

// Setup writes a scenario's files into a new directory, with a main.cf
// that sets only compatibility_level unless the scenario has its own.
func Setup(t *testing.T, sc Scenario) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(defaultMainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range sc.Files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Run executes one step of bin in dir (also its MAIL_CONFIG) and renders
// its output and exit status as text, with dir written as DIR, and
// without the lines that start with one of ignore.
func Run(t *testing.T, bin, dir string, step Step, ignore ...string) string {
	t.Helper()
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
	// Both sides run in different directories: name them the same.
	out := keep(strings.ReplaceAll(stdout.String(), dir, "DIR"), ignore)
	if step.Unordered {
		sort.Strings(out)
	}
	return "stdout:\n" + strings.Join(out, "\n") + "\nstderr:\n" + strings.Join(keep(strings.ReplaceAll(stderr.String(), dir, "DIR"), ignore), "\n") +
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
