package mailbox

import (
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func openDirFD(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// waitFor polls cond, under s.mu, until it holds or a generous deadline
// passes.
func waitFor(t *testing.T, s *dirSyncer, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// While one fsync of a directory runs, every caller that arrives joins
// the next round: one more fsync covers them all, started only after
// they have all called.
func TestDirSyncerSharesOneFsyncPerRound(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	var mu sync.Mutex
	var synced []int // the descriptor of each fsync, in order
	s := &dirSyncer{fsync: func(fd int) error {
		mu.Lock()
		first := len(synced) == 0
		synced = append(synced, fd)
		mu.Unlock()
		if first {
			<-release
		}
		return nil
	}}
	leader := openDirFD(t, dir)
	errs := make(chan error, 10)
	go func() { errs <- s.sync(leader, dir) }()
	waitFor(t, s, "the first fsync", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(synced) == 1
	})
	const late = 8
	for range late {
		fd := openDirFD(t, dir)
		go func() { errs <- s.sync(fd, dir) }()
	}
	waitFor(t, s, "the late callers to queue", func() bool {
		for _, d := range s.dirs {
			if d.open != nil && d.open.joiners == late-1 {
				return true
			}
		}
		return false
	})
	mu.Lock()
	if len(synced) != 1 {
		t.Errorf("%d fsyncs before the first ended, want 1", len(synced))
	}
	mu.Unlock()
	close(release)
	for range late + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if len(synced) != 2 {
		t.Errorf("%d fsyncs for %d callers, want 2", len(synced), late+1)
	}
	if synced[0] != leader || synced[1] == leader {
		t.Errorf("fsyncs of descriptors %v: want the leader's %d, then a late caller's", synced, leader)
	}
	if len(s.dirs) != 0 {
		t.Errorf("%d directories still tracked after every round ended", len(s.dirs))
	}
}

// Every caller of a round gets its fsync's error, with the path it gave.
func TestDirSyncerRoundErrorReachesEveryCaller(t *testing.T) {
	dir := t.TempDir()
	release := make(chan struct{})
	calls := 0
	s := &dirSyncer{fsync: func(int) error {
		calls++ // under the rounds' order: never concurrent for one directory
		if calls == 1 {
			<-release
			return nil
		}
		return unix.EIO
	}}
	errs := make(chan error, 4)
	first := openDirFD(t, dir)
	go func() { errs <- s.sync(first, dir) }()
	waitFor(t, s, "the first round", func() bool {
		for _, d := range s.dirs {
			if d.running != nil {
				return true
			}
		}
		return false
	})
	for range 3 {
		fd := openDirFD(t, dir)
		go func() { errs <- s.sync(fd, dir+"/x") }()
	}
	waitFor(t, s, "the second round's callers", func() bool {
		for _, d := range s.dirs {
			if d.open != nil && d.open.joiners == 2 {
				return true
			}
		}
		return false
	})
	close(release)
	failed := 0
	for range 4 {
		err := <-errs
		if err == nil {
			continue
		}
		failed++
		if !errors.Is(err, unix.EIO) || err.Error() != "fsync "+dir+"/x: "+unix.EIO.Error() {
			t.Errorf("error %q, want fsync %s/x: %v", err, dir, unix.EIO)
		}
	}
	if failed != 3 {
		t.Errorf("%d callers got the failed fsync's error, want 3", failed)
	}
}

// Directories do not wait for each other: a caller for another directory
// syncs it while the first directory's fsync is still running.
func TestDirSyncerDirectoriesIndependent(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	fdA, fdB := openDirFD(t, a), openDirFD(t, b)
	release := make(chan struct{})
	s := &dirSyncer{fsync: func(fd int) error {
		if fd == fdA {
			<-release
		}
		return nil
	}}
	done := make(chan error, 1)
	go func() { done <- s.sync(fdA, a) }()
	waitFor(t, s, "the first directory's round", func() bool {
		for _, d := range s.dirs {
			if d.running != nil {
				return true
			}
		}
		return false
	})
	if err := s.sync(fdB, b); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
