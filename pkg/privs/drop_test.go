// Tests that run the real chroot and privilege drop in a child process and inspect it via /proc.

package privs

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Environment of the child: what to do, where to chroot, whom to become.
const (
	childModeEnv  = "POSTERN_PRIVS_TEST_CHILD"
	childRootEnv  = "POSTERN_PRIVS_TEST_ROOT"
	childOwnerEnv = "POSTERN_PRIVS_TEST_OWNER"
)

func TestMain(m *testing.M) {
	if os.Getenv(childModeEnv) == "drop" {
		os.Exit(dropChild())
	}
	os.Exit(m.Run())
}

// dropChild drops privileges as a daemon would, reports "dropped" and
// what a few privileged operations now give, then waits for stdin to
// close so that the parent can look at it.
func dropChild() int {
	fail := func(err error) int {
		fmt.Printf("error: %v\n", err)
		return 1
	}
	owner, err := LookupMailOwner("main.cf", os.Getenv(childOwnerEnv))
	if err != nil {
		return fail(err)
	}
	if err := EnsureNoNewPrivs(); err != nil {
		return fail(err)
	}
	if err := Drop(os.Getenv(childRootEnv), owner); err != nil {
		return fail(err)
	}
	// None of these may work any more.
	fmt.Printf("setuid0=%v chroot=%v\n", errnoText(syscall.Setuid(0)), errnoText(syscall.Chroot("/")))
	fmt.Println("dropped")
	bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

func TestDropInChild(t *testing.T) {
	if !IsRoot() {
		t.Skip("the privilege drop needs root (runs in CI as root)")
	}
	owner := testMailOwner(t)
	want, err := LookupMailOwner("main.cf", owner)
	if err != nil {
		t.Fatal(err)
	}
	for _, chroot := range []bool{false, true} {
		t.Run(fmt.Sprintf("chroot=%v", chroot), func(t *testing.T) {
			root := ""
			if chroot {
				root = t.TempDir()
				// The directory the daemon would chroot into must be
				// reachable by mail_owner; the test's temp dir is 0700.
				if err := os.Chmod(filepath.Dir(root), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childModeEnv+"=drop", childRootEnv+"="+root, childOwnerEnv+"="+owner)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer stdin.Close()
			out := bufio.NewReader(stdout)
			var lines []string
			for {
				line, err := out.ReadString('\n')
				line = strings.TrimSpace(line)
				if err != nil {
					t.Fatalf("child ended before dropping privileges: %q", lines)
				}
				if line == "dropped" {
					break
				}
				lines = append(lines, line)
			}
			if len(lines) != 1 || lines[0] != "setuid0=Operation not permitted chroot=Operation not permitted" {
				t.Errorf("privileged calls after the drop: %q", lines)
			}
			st, err := ReadStatus(cmd.Process.Pid)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				if st.UID[i] != want.UID || st.GID[i] != want.GID {
					t.Errorf("child runs as uid %v gid %v, want %d/%d", st.UID, st.GID, want.UID, want.GID)
					break
				}
			}
			if len(st.Groups) != 1 || st.Groups[0] != want.GID {
				t.Errorf("child groups %v, want only the primary group %d", st.Groups, want.GID)
			}
			if st.CapEff != 0 || !st.NoNewPrivs {
				t.Errorf("child CapEff %#x NoNewPrivs %v, want 0 and true", st.CapEff, st.NoNewPrivs)
			}
			gotRoot, err := os.Readlink(fmt.Sprintf("/proc/%d/root", cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			if wantRoot := map[bool]string{false: "/", true: root}[chroot]; gotRoot != wantRoot {
				t.Errorf("child root %q, want %q", gotRoot, wantRoot)
			}
		})
	}
}
