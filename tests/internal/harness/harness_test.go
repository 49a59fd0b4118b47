// Tests of the harness helpers that do not need Postern's binaries.

package harness

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name, want, got, diff string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"changed line", "a\nb\nc\n", "a\nB\nc\n", "  a\n- b\n+ B\n  c\n"},
		{"added line", "a\n", "a\nb\n", "  a\n+ b\n"},
		{"removed line", "a\nb\n", "b\n", "- a\n  b\n"},
		{"missing final newline", "a\n", "a", "  a\n+ \\ no newline at end\n"},
		{"empty want", "", "x\n", "+ x\n"},
		{"far equal lines elided", "1\n2\n3\n4\n5\n6\nx\n", "1\n2\n3\n4\n5\n6\ny\n",
			"  ... 4 equal lines\n  5\n  6\n- x\n+ y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Diff(tt.want, tt.got); got != tt.diff {
				t.Errorf("Diff(%q, %q) =\n%s\nwant\n%s", tt.want, tt.got, got, tt.diff)
			}
		})
	}
}

func TestRunCapturesOutputAndExitCode(t *testing.T) {
	tests := []struct {
		name string
		inv  Invocation
		want Result
	}{
		{
			name: "stdout stderr and status",
			inv:  Invocation{Path: "/bin/sh", Args: []string{"-c", "echo out; echo err >&2; exit 3"}},
			want: Result{Stdout: "out\n", Stderr: "err\n", ExitCode: 3},
		},
		{
			name: "config directory as -c",
			inv:  Invocation{Path: "/bin/echo", ConfigDir: "/some/dir", Args: []string{"x"}},
			want: Result{Stdout: "-c /some/dir x\n"},
		},
		{
			name: "config directory as MAIL_CONFIG",
			inv: Invocation{Path: "/bin/sh", ConfigDir: "/some/dir", ConfigViaEnv: true,
				Args: []string{"-c", `echo "$MAIL_CONFIG"`}},
			want: Result{Stdout: "/some/dir\n"},
		},
		{
			name: "stdin and extra environment",
			inv: Invocation{Path: "/bin/sh", Stdin: "in\n", Env: []string{"X=1"},
				Args: []string{"-c", `read line; echo "$line $X"`}},
			want: Result{Stdout: "in 1\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.inv.Run(t); got != tt.want {
				t.Errorf("%s:\ngot  %s\nwant %s", tt.inv.CommandLine(), got, tt.want)
			}
		})
	}
}

func TestRunDropsInheritedMailConfig(t *testing.T) {
	t.Setenv("MAIL_CONFIG", "/inherited")
	got := Invocation{Path: "/bin/sh", Args: []string{"-c", `echo "[$MAIL_CONFIG]"`}}.Run(t)
	if got.Stdout != "[]\n" {
		t.Errorf("child saw MAIL_CONFIG %q, want none", got.Stdout)
	}
}

func TestRunTimeout(t *testing.T) {
	inv := Invocation{Path: "/bin/sh", Args: []string{"-c", "sleep 5"}, Timeout: 100 * time.Millisecond}
	if _, err := inv.run(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("run of a program past its timeout: err = %v, want a kill report", err)
	}
}

func TestCommandLineQuotes(t *testing.T) {
	inv := Invocation{Path: "/usr/sbin/postmap", ConfigDir: "/d", Args: []string{"-q", "a b", "hash:/x"}}
	if got, want := inv.CommandLine(), "/usr/sbin/postmap -c /d -q 'a b' hash:/x"; got != want {
		t.Errorf("CommandLine() = %q, want %q", got, want)
	}
}

func TestNewConfigDirWritesBackdatedFiles(t *testing.T) {
	dir := NewConfigDir(t, map[string]string{"main.cf": "a = b\n", "maps/virtual": "x y\n"})
	for name, want := range map[string]string{"main.cf": "a = b\n", "maps/virtual": "x y\n"} {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if err != nil || string(data) != want {
			t.Errorf("%s = %q, %v; want %q", name, data, err, want)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if age := time.Since(fi.ModTime()); age < FileAge-time.Minute {
			t.Errorf("%s is %v old, want about %v", name, age, FileAge)
		}
	}
}

func TestFreeAddrIsBindable(t *testing.T) {
	addr := FreeAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("FreeAddr() = %q, want 127.0.0.1:PORT", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("bind %s: %v", addr, err)
	}
	l.Close()
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Errorf("FreePort() = %d", p)
	}
}

// FreeAddr's ports are outside the ephemeral range, where outgoing
// connections take theirs, and never the same twice.
func TestFreeAddrAvoidsEphemeralPortsAndRepeats(t *testing.T) {
	low := ephemeralLow()
	seen := map[int]bool{}
	for range 50 {
		p := FreePort(t)
		if low > portFloor+1000 && (p < portFloor || p >= low) {
			t.Errorf("FreePort() = %d, want it in [%d, %d)", p, portFloor, low)
		}
		if seen[p] {
			t.Errorf("FreePort() gave %d twice", p)
		}
		seen[p] = true
	}
}

func TestMainPackagesListsModuleCommands(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("moduleRoot() = %s without go.mod: %v", root, err)
	}
	pkgs, err := mainPackages(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if !strings.HasPrefix(p, "github.com/postern/postern/") {
			t.Errorf("main package %q is outside the module", p)
		}
		if strings.Contains(p, "/tests/") {
			t.Errorf("main package %q under tests/ would be built as a Postern binary", p)
		}
	}
}

func TestUnprivilegedRunWritesOnlyItsDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only a root test hands programs to another user")
	}
	own := NewConfigDir(t, map[string]string{"main.cf": ""})
	rootOwned := NewConfigDir(t, nil)
	inv := Invocation{Path: "/bin/sh", AsUser: Unprivileged(t, own), Args: []string{"-c",
		`id -un; touch "$0/written" && echo wrote-own; touch "$1/x" 2>/dev/null || echo denied-root`, own, rootOwned}}
	want := UnprivilegedUser + "\nwrote-own\ndenied-root\n"
	if got := inv.Run(t); got.Stdout != want {
		t.Errorf("unprivileged run printed %q, want %q (stderr %q)", got.Stdout, want, got.Stderr)
	}
}
