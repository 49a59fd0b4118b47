// Tests of RunAs: the credentials of the work thread, and the rest of the process left alone.

package privs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRunAsRefusesRoot(t *testing.T) {
	ran := false
	var threads Threads
	err := threads.RunAs(Credential{UID: 0, GID: 0}, func() error { ran = true; return nil })
	if err == nil || ran {
		t.Fatalf("RunAs as root: err %v, ran %v", err, ran)
	}
}

func TestRunAsNeedsPrivileges(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("as root the switch succeeds")
	}
	ran := false
	var threads Threads
	err := threads.RunAs(Credential{UID: 65534, GID: 65534}, func() error { ran = true; return nil })
	if err == nil || ran || !strings.Contains(err.Error(), "Operation not permitted") {
		t.Fatalf("RunAs without root: err %v, ran %v", err, ran)
	}
}

// TestRunAsSwitchesOneThread: the work runs with the credentials asked
// for, files it creates belong to them, what they may not write is
// refused, and the process's other threads stay root, however many
// switches ran at once; idle threads end.
func TestRunAsSwitchesOneThread(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to another uid needs root")
	}
	threads := Threads{IdleLimit: 100 * time.Millisecond}
	var mu sync.Mutex
	used := map[int]bool{}        // the switched threads' IDs
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
			errs <- threads.RunAs(Credential{UID: uid, GID: gid, Groups: []int{gid}}, func() error {
				if err := verifyThread(Credential{UID: uid, GID: gid, Groups: []int{gid}}); err != nil {
					return err
				}
				mu.Lock()
				used[unix.Gettid()] = true
				mu.Unlock()
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
	// The main thread stays root; the switched threads end once idle (the
	// runtime ends a thread whose goroutine ended locked to it).
	if used[os.Getpid()] {
		t.Error("work ran on the main thread")
	}
	main, err := ReadStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if main.UID != [4]int{0, 0, 0, 0} || main.GID != [4]int{0, 0, 0, 0} {
		t.Errorf("main thread has uid %v gid %v", main.UID, main.GID)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		left := liveThreads(t, used)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("switched threads %v still run after their idle limit", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r, e, s := unix.Getresuid(); r != 0 || e != 0 || s != 0 {
		t.Errorf("calling thread has uids %d %d %d", r, e, s)
	}
}

// liveThreads lists the threads of this process among ids.
func liveThreads(t *testing.T, ids map[int]bool) []int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, task := range tasks {
		if id, _ := strconv.Atoi(task.Name()); ids[id] {
			out = append(out, id)
		}
	}
	return out
}

// TestRunAsKeepsThreads: work with the same credentials reuses the
// thread, work with others gets another one.
func TestRunAsKeepsThreads(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to another uid needs root")
	}
	var threads Threads
	tid := func(cred Credential) int {
		var id int
		if err := threads.RunAs(cred, func() error { id = unix.Gettid(); return nil }); err != nil {
			t.Fatal(err)
		}
		return id
	}
	nobody := Credential{UID: 65534, GID: 65534}
	first := tid(nobody)
	if again := tid(nobody); again != first {
		t.Errorf("second run as nobody on thread %d, first on %d", again, first)
	}
	if other := tid(Credential{UID: 65533, GID: 65533}); other == first {
		t.Errorf("run as uid 65533 on nobody's thread %d", first)
	}
	if err := threads.RunAs(nobody, func() error { return verifyThread(nobody) }); err != nil {
		t.Error(err)
	}
}
