package mailbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// syncCall is one sync a syncer made: "fsync" or "syncfs", and whether
// the descriptor was a directory's.
type syncCall struct {
	op  string
	dir bool
	fd  int
}

// recordingSyncer is a syncer whose syncs are recorded, not done; the
// first one waits for release when hold is set.
type recordingSyncer struct {
	syncer
	mu      sync.Mutex
	calls   []syncCall
	release chan struct{}
	fail    error // the result of every syncfs
}

func newRecordingSyncer(hold bool) *recordingSyncer {
	r := &recordingSyncer{}
	if hold {
		r.release = make(chan struct{})
	}
	record := func(op string) func(int) error {
		return func(fd int) error {
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil {
				return err
			}
			r.mu.Lock()
			first := len(r.calls) == 0
			r.calls = append(r.calls, syncCall{op: op, dir: st.Mode&unix.S_IFMT == unix.S_IFDIR, fd: fd})
			r.mu.Unlock()
			if first && r.release != nil {
				<-r.release
			}
			if op == "syncfs" {
				return r.fail
			}
			return nil
		}
	}
	r.fsync, r.syncfs = record("fsync"), record("syncfs")
	return r
}

func (r *recordingSyncer) recorded() []syncCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]syncCall(nil), r.calls...)
}

// openTestFile opens a new file in dir for writing and returns its
// descriptor and file system.
func openTestFile(t *testing.T, dir, name string) (int, uint64) {
	t.Helper()
	fd, err := unix.Open(filepath.Join(dir, name), unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return fd, st.Dev
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A delivery alone fsyncs its file, then its new/ directory, as without
// group commit: nothing else of the file system is written out for it.
func TestLoneDeliverySyncsItsFileThenItsDirectory(t *testing.T) {
	dir := t.TempDir()
	s := newRecordingSyncer(false)
	fd, dev := openTestFile(t, dir, "msg")
	if err := s.content(fd, dev, "msg"); err != nil {
		t.Fatal(err)
	}
	if err := s.name(fd, dev, dir); err != nil {
		t.Fatal(err)
	}
	calls := s.recorded()
	if len(calls) != 2 || calls[0] != (syncCall{op: "fsync", fd: fd}) || calls[1].op != "fsync" || !calls[1].dir {
		t.Fatalf("syncs %+v, want an fsync of the file (descriptor %d), then one of a directory", calls, fd)
	}
}

// Deliveries that arrive while a sync runs, whether their file waits for
// its content or its name to be durable, share the next round: one sync
// of the file system and one fsync (its flush), of a member's file.
func TestConcurrentDeliveriesShareOneFileSystemSync(t *testing.T) {
	dir := t.TempDir()
	s := newRecordingSyncer(true)
	first, dev := openTestFile(t, dir, "first")
	errs := make(chan error, 9)
	go func() { errs <- s.content(first, dev, "first") }()
	waitUntil(t, "the first fsync", func() bool { return len(s.recorded()) == 1 })
	members := map[int]bool{}
	for i := range 8 {
		fd, _ := openTestFile(t, dir, "m"+string(rune('a'+i)))
		members[fd] = true
		if i%2 == 0 {
			go func() { errs <- s.content(fd, dev, "content") }()
		} else {
			go func() { errs <- s.name(fd, dev, dir) }()
		}
	}
	waitUntil(t, "the deliveries to join a round", func() bool { return s.fileSystems.Waiting(dev) == 8 })
	close(s.release)
	for range 9 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	calls := s.recorded()
	if len(calls) != 3 || calls[0].fd != first || calls[1].op != "syncfs" || calls[2].op != "fsync" ||
		calls[1].fd != calls[2].fd || !members[calls[1].fd] {
		t.Fatalf("syncs %+v: want the first file's fsync, then a syncfs and an fsync of one member's file", calls)
	}
}

// A failed round fails every member, naming the sync that failed.
func TestFailedFileSystemSyncFailsEveryMember(t *testing.T) {
	dir := t.TempDir()
	s := newRecordingSyncer(true)
	s.fail = unix.EIO
	first, dev := openTestFile(t, dir, "first")
	errs := make(chan error, 4)
	go func() { errs <- s.content(first, dev, "first") }()
	waitUntil(t, "the first fsync", func() bool { return len(s.recorded()) == 1 })
	for i := range 3 {
		fd, _ := openTestFile(t, dir, "m"+string(rune('a'+i)))
		go func() { errs <- s.name(fd, dev, dir) }()
	}
	waitUntil(t, "the deliveries to join a round", func() bool { return s.fileSystems.Waiting(dev) == 3 })
	close(s.release)
	if err := <-errs; err != nil {
		t.Fatalf("the lone first delivery: %v", err)
	}
	for range 3 {
		err := <-errs
		if !errors.Is(err, unix.EIO) || !strings.Contains(err.Error(), "syncfs") {
			t.Fatalf("member got %v, want the syncfs error", err)
		}
	}
}

// Concurrent deliveries into several Maildirs, with the real syncs: every
// message is in new/, complete, and nothing is left in tmp/.
func TestConcurrentMaildirDeliveries(t *testing.T) {
	base := t.TempDir()
	var wg sync.WaitGroup
	const per, boxes = 10, 4
	errs := make(chan error, per*boxes)
	for b := range boxes {
		for i := range per {
			wg.Add(1)
			go func() {
				defer wg.Done()
				msg := &Message{Sender: "s@example.com", Recipient: "r@example.com"}
				body := strings.Repeat("line of box "+string(rune('a'+b))+"\n", 50+i)
				_, err := DeliverMaildir(filepath.Join(base, "box"+string(rune('a'+b))), msg, strings.NewReader(body), 0)
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for b := range boxes {
		box := filepath.Join(base, "box"+string(rune('a'+b)))
		files, err := os.ReadDir(filepath.Join(box, "new"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != per {
			t.Fatalf("%s/new has %d files, want %d", box, len(files), per)
		}
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(box, "new", f.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(string(data), "line of box "+string(rune('a'+b))+"\n") {
				t.Fatalf("%s: content ends %q", f.Name(), data[max(0, len(data)-40):])
			}
		}
		if tmp, _ := os.ReadDir(filepath.Join(box, "tmp")); len(tmp) != 0 {
			t.Fatalf("%s/tmp has %d files left", box, len(tmp))
		}
	}
}
