// Tests of AsUser: the work's credentials, its files, and the thread and the rest of the process switched back.

package privs

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAsUserRefusesRoot(t *testing.T) {
	ran := false
	err := AsUser(Credential{UID: 0, GID: 0}, func() error { ran = true; return nil })
	if err == nil || ran {
		t.Fatalf("AsUser as root: err %v, ran %v", err, ran)
	}
}

func TestAsUserNeedsPrivileges(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("as root the switch succeeds")
	}
	ran := false
	err := AsUser(Credential{UID: 65534, GID: 65534}, func() error { ran = true; return nil })
	if err == nil || ran || !strings.Contains(err.Error(), "Operation not permitted") {
		t.Fatalf("AsUser without root: err %v, ran %v", err, ran)
	}
	// Nothing changed, so nothing needed switching back: the thread
	// is still usable and still the process's user.
	if euid := unix.Geteuid(); euid != os.Getuid() {
		t.Errorf("effective uid after the refused switch: %d", euid)
	}
}

// threadState is what the kernel says of the calling thread's credentials.
type threadState struct {
	ruid, euid, suid, rgid, egid, sgid int
	groups                             []int
	caps                               uint64
}

func readThreadState(t *testing.T) threadState {
	var s threadState
	s.ruid, s.euid, s.suid = unix.Getresuid()
	s.rgid, s.egid, s.sgid = unix.Getresgid()
	groups, err := unix.Getgroups()
	if err != nil {
		t.Error(err)
	}
	slices.Sort(groups)
	s.groups = groups
	if s.caps, err = EffectiveCapabilities(); err != nil {
		t.Error(err)
	}
	return s
}

// TestAsUserSwitchesOneThread: the work runs with the effective IDs and
// groups asked for and no capability, files it creates belong to them,
// what they may not write is refused, the work's error comes back, and
// afterwards the thread (checked while still locked to it) and every
// other thread have the process's credentials again, however many
// switches ran at once.
func TestAsUserSwitchesOneThread(t *testing.T) {
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

	runtime.LockOSThread()
	before := readThreadState(t)
	runtime.UnlockOSThread()
	// Threads already switched (by another test, say) are not this
	// test's to judge.
	switchedBefore := switchedThreads(t)

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Go(func() {
			runtime.LockOSThread() // so that the check after AsUser sees the same thread
			defer runtime.UnlockOSThread()
			errs <- AsUser(Credential{UID: uid, GID: gid, Groups: []int{gid, 4242}}, func() error {
				s := readThreadState(t)
				if s.euid != uid || s.egid != gid || !slices.Equal(s.groups, []int{4242, gid}) || s.caps != 0 {
					t.Errorf("in AsUser: euid %d egid %d groups %v caps %#x", s.euid, s.egid, s.groups, s.caps)
				}
				name := filepath.Join(home, "f"+string(rune('a'+i)))
				if err := os.WriteFile(name, []byte("x"), 0o600); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(rootOnly, "f"), []byte("x"), 0o600); err == nil {
					t.Errorf("uid %d wrote into a directory of root's", uid)
				}
				return nil
			})
			if after := readThreadState(t); !sameState(after, before) {
				t.Errorf("thread after AsUser: %+v, want %+v", after, before)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	entries, err := os.ReadDir(home)
	if err != nil || len(entries) != 20 {
		t.Fatalf("%d files in the home directory, %v", len(entries), err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s owned by %d:%d, want %d:%d", e.Name(), st.Uid, st.Gid, uid, gid)
		}
	}
	if _, err := os.Stat(filepath.Join(rootOnly, "f")); err == nil {
		t.Error("a file appeared in root's directory")
	}
	// Every other thread of the process is root again.
	for task, uids := range switchedThreads(t) {
		if _, ok := switchedBefore[task]; !ok {
			t.Errorf("thread %s after AsUser: %s", task, uids)
		}
	}
}

// switchedThreads are the process's threads whose effective user ID is
// not 0, with their "Uid:" lines, by thread ID.
func switchedThreads(t *testing.T) map[string]string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, task := range tasks {
		st, err := os.ReadFile(filepath.Join("/proc/self/task", task.Name(), "status"))
		if err != nil {
			continue // ended meanwhile
		}
		for _, line := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(line, "Uid:") && strings.Fields(line)[2] != "0" {
				out[task.Name()] = line
			}
		}
	}
	return out
}

func sameState(a, b threadState) bool {
	return a.ruid == b.ruid && a.euid == b.euid && a.suid == b.suid &&
		a.rgid == b.rgid && a.egid == b.egid && a.sgid == b.sgid &&
		slices.Equal(a.groups, b.groups) && a.caps == b.caps
}

// TestAsUserReturnsWorkError: fn's error is AsUser's.
func TestAsUserReturnsWorkError(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to another uid needs root")
	}
	want := os.ErrClosed
	if err := AsUser(Credential{UID: 65534, GID: 65534}, func() error { return want }); err != want {
		t.Fatalf("AsUser returned %v, want %v", err, want)
	}
}
