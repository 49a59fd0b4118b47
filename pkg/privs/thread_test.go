// Tests of RunAs: the credentials of the work thread, and the rest of the process left alone.

package privs

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRunAsRefusesRoot(t *testing.T) {
	ran := false
	err := RunAs(Credential{UID: 0, GID: 0}, func() error { ran = true; return nil })
	if err == nil || ran {
		t.Fatalf("RunAs as root: err %v, ran %v", err, ran)
	}
}

func TestRunAsNeedsPrivileges(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("as root the switch succeeds")
	}
	ran := false
	err := RunAs(Credential{UID: 65534, GID: 65534}, func() error { ran = true; return nil })
	if err == nil || ran || !strings.Contains(err.Error(), "Operation not permitted") {
		t.Fatalf("RunAs without root: err %v, ran %v", err, ran)
	}
}

// TestRunAsSwitchesOneThread: the work runs with the credentials asked
// for, files it creates belong to them, what they may not write is
// refused, and the process's other threads stay root, however many
// switches ran at once.
func TestRunAsSwitchesOneThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to another uid needs root")
	}
	const uid, gid = 65534, 65534 // nobody, nogroup
	base := t.TempDir()
	os.Chmod(base, 0o755)
	os.Chmod(filepath.Dir(base), 0o755)
	home := filepath.Join(base, "home")
	os.Mkdir(home, 0o700)
	os.Chown(home, uid, gid)
	rootOnly := filepath.Join(base, "rootonly")
	os.Mkdir(rootOnly, 0o700)

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			errs <- RunAs(Credential{UID: uid, GID: gid, Groups: []int{gid}}, func() error {
				if err := verifyThread(Credential{UID: uid, GID: gid, Groups: []int{gid}}); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(home, "f"+string(rune('a'+i))), []byte("x"), 0o600); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(rootOnly, "f"), []byte("x"), 0o600); err == nil {
					t.Errorf("uid %d wrote into a directory of root's", uid)
				}
				return nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 20 {
		t.Fatalf("home holds %d files, want 20", len(entries))
	}
	for _, e := range entries {
		st, err := os.Stat(filepath.Join(home, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != uid || sys.Gid != gid {
			t.Errorf("%s owned by %d:%d, want %d:%d", e.Name(), sys.Uid, sys.Gid, uid, gid)
		}
	}
	// The switched threads end after their goroutines (the runtime does
	// that after RunAs has returned): wait for it; every other thread of
	// the process is root throughout.
	deadline := time.Now().Add(time.Minute)
	for {
		switched := switchedThreads(t)
		if len(switched) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads %v still run as another user after RunAs returned", switched)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r, e, s := unix.Getresuid(); r != 0 || e != 0 || s != 0 {
		t.Errorf("calling thread has uids %d %d %d", r, e, s)
	}
}

// switchedThreads lists the threads of this process whose user or group
// IDs are not root's.
func switchedThreads(t *testing.T) []string {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, task := range tasks {
		data, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "status"))
		if err != nil {
			continue // the thread ended meanwhile
		}
		st, err := parseStatus(strings.NewReader(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		if st.UID != [4]int{0, 0, 0, 0} || st.GID != [4]int{0, 0, 0, 0} {
			out = append(out, task.Name())
		}
	}
	return out
}
