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

// Deliveries that arrive for one new/ while its fsync runs share the next
// round: one more fsync, of a joiner's descriptor of that directory.
func TestConcurrentDeliveriesShareTheDirectoryFsync(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var synced []int // the descriptor of each fsync, in order
	release := make(chan struct{})
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
	recorded := func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), synced...)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		t.Fatal(err)
	}
	id := dirID{dev: st.Dev, ino: st.Ino}
	errs := make(chan error, 9)
	go func() { errs <- s.sync(dir) }()
	waitUntil(t, "the first fsync", func() bool { return len(recorded()) == 1 })
	for range 8 {
		go func() { errs <- s.sync(dir) }()
	}
	waitUntil(t, "the deliveries to join a round", func() bool { return s.dirs.Waiting(id) == 8 })
	if n := len(recorded()); n != 1 {
		t.Fatalf("%d fsyncs before the first ended, want 1", n)
	}
	close(release)
	for range 9 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(recorded()); n != 2 {
		t.Fatalf("%d fsyncs for 9 deliveries, want 2", n)
	}
}

// A failed fsync fails every delivery of its round, naming the directory.
func TestFailedDirectoryFsyncFailsEveryMember(t *testing.T) {
	dir := t.TempDir()
	s := &dirSyncer{fsync: func(int) error { return unix.EIO }}
	err := s.sync(dir)
	if !errors.Is(err, unix.EIO) || !strings.Contains(err.Error(), "fsync "+dir) {
		t.Fatalf("got %v, want the fsync error about %s", err, dir)
	}
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
