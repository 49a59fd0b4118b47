// Work done with another user's credentials on one thread of this process: deliveries as the recipient without a child process.

package privs

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Credential is the user a RunAs call works as.
type Credential struct {
	UID, GID int
	Groups   []int // supplementary groups; none when empty
}

// key identifies the credentials in Threads' list of idle threads.
func (c Credential) key() string {
	return fmt.Sprint(c.UID, c.GID, c.Groups)
}

// threadIdleLimit is how long Threads keeps an unused switched thread
// unless told otherwise.
const threadIdleLimit = 10 * time.Second

// Threads runs work on operating system threads of this process switched
// to other users' credentials, and keeps each such thread for further work
// with the same credentials until it has been idle for IdleLimit. The zero
// value is ready to use; it is safe for concurrent use.
type Threads struct {
	IdleLimit time.Duration // 0: 10 seconds

	mu   sync.Mutex
	idle map[string][]*thread
}

// thread is one switched thread, waiting for work on jobs.
type thread struct {
	key  string
	jobs chan func()
}

// RunAs runs fn on a thread whose real, effective and saved user and
// group IDs are cred's and whose supplementary groups are cred.Groups, and
// returns fn's error. One thread does one fn at a time; concurrent calls
// get threads of their own. Linux keeps credentials per thread and the
// switch calls the kernel directly (Go's syscall.Setuid and friends would
// change every thread), so the rest of the process keeps its own. The
// thread is never the main thread and never runs anything but fn calls
// for cred: its goroutine stays locked to it and ends locked, which makes
// the Go runtime end the thread, and the runtime starts new threads from
// a clean one, never from a locked one. fn must do its work in the calling
// goroutine: goroutines it starts run on other threads with the process's
// credentials.
//
// RunAs needs CAP_SETUID and CAP_SETGID. It refuses user ID 0 and checks
// the switch (IDs, groups, no capability left) before any fn runs.
func (p *Threads) RunAs(cred Credential, fn func() error) error {
	if cred.UID <= 0 || cred.GID < 0 {
		return fmt.Errorf("refusing to work as uid %d gid %d", cred.UID, cred.GID)
	}
	t := p.take(cred.key())
	if t == nil {
		t = &thread{key: cred.key(), jobs: make(chan func())}
		started := make(chan error, 1)
		go p.serve(t, cred, started)
		if err := <-started; err != nil {
			return err
		}
	}
	done := make(chan error, 1)
	t.jobs <- func() { done <- fn() }
	err := <-done
	p.put(t)
	return err
}

func (p *Threads) take(key string) *thread {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[key]
	if len(list) == 0 {
		return nil
	}
	t := list[len(list)-1]
	list[len(list)-1] = nil
	p.idle[key] = list[:len(list)-1]
	return t
}

func (p *Threads) put(t *thread) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = map[string][]*thread{}
	}
	p.idle[t.key] = append(p.idle[t.key], t)
}

// retire takes t off the idle list; false when a RunAs took it meanwhile
// and is about to hand it work.
func (p *Threads) retire(t *thread) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[t.key]
	i := slices.Index(list, t)
	if i < 0 {
		return false
	}
	p.idle[t.key] = slices.Delete(list, i, i+1)
	if len(p.idle[t.key]) == 0 {
		delete(p.idle, t.key)
	}
	return true
}

// serve is t's goroutine: it locks itself to its thread, switches the
// thread to cred, says so on started and runs t's jobs until it has been
// idle for p.IdleLimit. On the main thread it does none of that: that
// thread stands for the process (in /proc, for kill's permission check)
// and the runtime never ends it, so it is held until another goroutine,
// which can then not land on it, has locked a thread of its own.
func (p *Threads) serve(t *thread, cred Credential, started chan<- error) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		locked := make(chan error, 1)
		go p.serve(t, cred, locked)
		err := <-locked
		runtime.UnlockOSThread()
		started <- err
		return
	}
	// No UnlockOSThread: the thread ends with this goroutine.
	if err := switchThread(cred); err != nil {
		started <- err
		return
	}
	started <- nil
	limit := p.IdleLimit
	if limit <= 0 {
		limit = threadIdleLimit
	}
	idle := time.NewTimer(limit)
	defer idle.Stop()
	for {
		select {
		case job := <-t.jobs:
			job()
		case <-idle.C:
			if p.retire(t) {
				return
			}
		}
		idle.Reset(limit)
	}
}

// switchThread gives the calling thread cred's groups, group and user, in
// that order (setgroups and setresgid need the privileges setresuid gives
// up), and verifies the result.
func switchThread(cred Credential) error {
	groups := make([]uint32, len(cred.Groups))
	for i, g := range cred.Groups {
		groups[i] = uint32(g)
	}
	var list unsafe.Pointer
	if len(groups) > 0 {
		list = unsafe.Pointer(&groups[0])
	}
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(list), 0); errno != 0 {
		return fmt.Errorf("setgroups(%v): %s", cred.Groups, errnoText(errno))
	}
	gid, uid := uintptr(cred.GID), uintptr(cred.UID)
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETRESGID, gid, gid, gid); errno != 0 {
		return fmt.Errorf("setresgid(%d): %s", cred.GID, errnoText(errno))
	}
	if _, _, errno := syscall.RawSyscall(unix.SYS_SETRESUID, uid, uid, uid); errno != 0 {
		return fmt.Errorf("setresuid(%d): %s", cred.UID, errnoText(errno))
	}
	return verifyThread(cred)
}

// verifyThread checks the calling thread's credentials against cred.
func verifyThread(cred Credential) error {
	ruid, euid, suid := unix.Getresuid()
	rgid, egid, sgid := unix.Getresgid()
	if ruid != cred.UID || euid != cred.UID || suid != cred.UID {
		return fmt.Errorf("switch to uid %d failed: user IDs are %d %d %d", cred.UID, ruid, euid, suid)
	}
	if rgid != cred.GID || egid != cred.GID || sgid != cred.GID {
		return fmt.Errorf("switch to gid %d failed: group IDs are %d %d %d", cred.GID, rgid, egid, sgid)
	}
	groups, err := unix.Getgroups()
	if err != nil {
		return fmt.Errorf("getgroups: %s", errnoText(err))
	}
	want := slices.Clone(cred.Groups)
	slices.Sort(groups)
	slices.Sort(want)
	if !slices.Equal(groups, want) {
		return fmt.Errorf("switch to groups %v failed: groups are %v", cred.Groups, groups)
	}
	caps, err := EffectiveCapabilities()
	if err != nil {
		return err
	}
	if caps != 0 {
		return fmt.Errorf("effective capabilities remain after the switch to uid %d: %#016x", cred.UID, caps)
	}
	return nil
}
