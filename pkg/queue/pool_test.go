package queue

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// untilReserved commits messages to incoming, as a busy cleanup does,
// until a writer gets a reserved file, and returns the IDs committed.
func untilReserved(t *testing.T, l *Layout) (*Writer, []string) {
	t.Helper()
	var ids []string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		w, err := l.Create(Incoming)
		if err != nil {
			t.Fatal(err)
		}
		if w.reserved != nil {
			return w, ids
		}
		if err := w.WriteEnvelope(spareEnvelope()); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "message %d\n", len(ids))
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, w.ID)
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no reserved file after 30s of messages")
	return nil, nil
}

// incomingNames lists incoming/, sorted.
func incomingNames(t *testing.T, l *Layout) []string {
	t.Helper()
	names, err := readNames(filepath.Join(l.Root, Incoming), -1)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

func TestReservedFileCommitsWithoutDirectorySync(t *testing.T) {
	l := newTestLayout(t)
	l.EnablePool()
	t.Cleanup(l.ClosePool)
	w, committed := untilReserved(t, l)
	// Named before it was handed out: an empty, uncommitted file that its
	// writer locks, which postsuper's ALL requests pass over.
	if st, err := os.Stat(w.Path); err != nil || st.Mode().Perm() != modeWriting || st.Size() != 0 {
		t.Fatalf("reserved %s: %v %v", w.Path, st, err)
	}
	if !Unborn(w.Path) {
		t.Errorf("reserved %s is not Unborn", w.Path)
	}
	syncs := l.syncer.Syncs()
	if err := w.WriteEnvelope(spareEnvelope()); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "the reserved one\n")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := l.syncer.Syncs(); got != syncs {
		t.Errorf("Commit of a reserved file synced incoming/ (%d directory syncs, want %d)", got, syncs)
	}
	if got := body(t, l, Incoming, w.ID); got != "the reserved one\n" {
		t.Errorf("content %q", got)
	}
	if ok, err := Ready(w.Path); !ok {
		t.Errorf("%s not committed: %v", w.ID, err)
	}
	if Unborn(w.Path) {
		t.Errorf("committed %s is Unborn", w.ID)
	}

	// The other reserved files: uncommitted, empty, locked; none is a
	// message to the queue manager or to PurgeAbandoned.
	removed, err := l.PurgeAbandoned(Incoming)
	if err != nil || len(removed) != 0 {
		t.Errorf("PurgeAbandoned removed %v (%v) while the pool's owner lives", removed, err)
	}
	want := append(append([]string{}, committed...), w.ID)
	sort.Strings(want)
	reservedLeft := 0
	for _, name := range incomingNames(t, l) {
		if ok, _ := Ready(filepath.Join(l.Root, Incoming, name)); ok {
			continue
		}
		reservedLeft++
		if !Unborn(filepath.Join(l.Root, Incoming, name)) {
			t.Errorf("uncommitted incoming/%s is not a reserved file", name)
		}
	}
	if reservedLeft == 0 {
		t.Errorf("no reserved file left in incoming/ besides %v", want)
	}

	// Closing gives them back to spare/: incoming/ holds the messages.
	l.ClosePool()
	if got := incomingNames(t, l); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("incoming/ after ClosePool: %v, want %v", got, want)
	}
	if len(spareNames(t, l)) < reservedLeft {
		t.Errorf("spare/ holds %v, want the %d files given back", spareNames(t, l), reservedLeft)
	}
	if w, err := l.Create(Incoming); err != nil || w.reserved != nil {
		t.Errorf("Create after ClosePool: %v, reserved %v", err, w.reserved != nil)
	} else {
		w.Abandon()
	}
}

// TestReservedFileTakenBeforeCommitReturns: once a reserved file is
// ready, the queue manager may deliver and remove it while its Commit is
// still in the fsync; that Commit succeeds. A reserved file removed
// before it was ready (postsuper -d) fails its Commit.
func TestReservedFileTakenBeforeCommitReturns(t *testing.T) {
	l := newTestLayout(t)
	l.EnablePool()
	t.Cleanup(l.ClosePool)
	w, _ := untilReserved(t, l)
	for i := 0; i < 10; i++ {
		if w.reserved == nil {
			t.Fatalf("message %d: no reserved file", i)
		}
		// The queue manager: removes the file as soon as it is ready.
		taken := make(chan bool)
		go func(path string) {
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) {
				if ok, _ := Ready(path); ok {
					taken <- os.Remove(path) == nil
					return
				}
				time.Sleep(10 * time.Microsecond)
			}
			taken <- false
		}(w.Path)
		if err := w.WriteEnvelope(spareEnvelope()); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "message %d\n", i)
		if err := w.Commit(); err != nil {
			t.Errorf("message %d: Commit: %v", i, err)
		}
		if !<-taken {
			t.Fatalf("message %d: the file was never ready", i)
		}
		var err error
		if w, err = l.Create(Incoming); err != nil {
			t.Fatal(err)
		}
	}
	if w.reserved == nil {
		t.Fatal("no reserved file")
	}
	if err := os.Remove(w.Path); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEnvelope(spareEnvelope()); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "removed before it was ready\n")
	if err := w.Commit(); err == nil || !strings.Contains(err.Error(), "was removed while being written") {
		t.Errorf("Commit of a removed reserved file: %v, want 'was removed while being written'", err)
	}
}

func TestAbandonedReservedFileGoesBackToSpare(t *testing.T) {
	l := newTestLayout(t)
	l.EnablePool()
	t.Cleanup(l.ClosePool)
	w, _ := untilReserved(t, l)
	ino := inode(t, w.Path)
	if err := w.WriteEnvelope(spareEnvelope()); err != nil {
		t.Fatal(err)
	}
	if err := w.Abandon(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(w.Path); !os.IsNotExist(err) {
		t.Errorf("abandoned reserved %s still in incoming/: %v", w.ID, err)
	}
	if _, err := os.Lstat(filepath.Join(l.Root, Spare, fmt.Sprint(ino))); err != nil {
		t.Errorf("abandoned reserved file not in spare/: %v", err)
	}
}

// TestReservedFilesOfAKilledProcess kills a process holding reserved files:
// they are uncommitted files nobody holds, which PurgeAbandoned removes,
// leaving exactly the messages it committed.
func TestReservedFilesOfAKilledProcess(t *testing.T) {
	if os.Getenv("POSTERN_POOL_HELPER") != "" {
		return
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReservedFilesHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "POSTERN_POOL_HELPER="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var committed []string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		if id, ok := strings.CutPrefix(line, "committed "); ok {
			committed = append(committed, id)
		}
		if line == "reserved" {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	l := NewLayout(root, []string{"deferred", "defer"}, 1, false)
	names := incomingNames(t, l)
	if len(names) <= len(committed) {
		t.Fatalf("incoming/ holds %v, committed %v: no reserved file to test", names, committed)
	}
	removed, err := l.PurgeAbandoned(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != len(names)-len(committed) {
		t.Errorf("PurgeAbandoned removed %v of %v, committed %v", removed, names, committed)
	}
	sort.Strings(committed)
	if got := incomingNames(t, l); strings.Join(got, " ") != strings.Join(committed, " ") {
		t.Errorf("incoming/ after the purge: %v, want %v", got, committed)
	}
	for _, id := range committed {
		if ok, err := Ready(l.Path(Incoming, id)); !ok {
			t.Errorf("committed %s: %v", id, err)
		}
	}
}

// TestReservedFilesHelper is the process TestReservedFilesOfAKilledProcess
// kills: it commits messages until it holds reserved files, says so and
// waits.
func TestReservedFilesHelper(t *testing.T) {
	root := os.Getenv("POSTERN_POOL_HELPER")
	if root == "" {
		t.Skip("run by TestReservedFilesOfAKilledProcess")
	}
	l := NewLayout(root, []string{"deferred", "defer"}, 1, false)
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	l.EnablePool()
	w, ids := untilReserved(t, l)
	if err := w.WriteEnvelope(spareEnvelope()); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "reserved\n")
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, id := range append(ids, w.ID) {
		fmt.Printf("committed %s\n", id)
	}
	fmt.Println("reserved")
	// Keeps taking files, as a busy cleanup would, until killed.
	for range 6000 {
		time.Sleep(10 * time.Millisecond)
		if w, err := l.Create(Incoming); err == nil {
			w.Abandon()
		}
	}
}

func TestPoolGrowsByWhatItLacked(t *testing.T) {
	for _, c := range []struct{ size, ready, misses, want int }{
		{poolSize, 10, 0, poolSize},            // enough: unchanged
		{poolSize, 0, 1, 2 * (poolSize + 1)},   // one writer found it empty
		{poolSize, 0, 20, 2 * (poolSize + 20)}, // a burst
		{100, 90, 3, 100},                      // never shrinks while mail flows
		{poolSize, 0, 10000, poolMaxSize},      // bounded
	} {
		p := &namedPool{size: c.size, ready: make([]*reserved, c.ready), misses: c.misses}
		p.grow()
		if p.size != c.want || p.misses != 0 {
			t.Errorf("size %d, %d ready, %d misses: grew to %d (misses left %d), want %d", c.size, c.ready, c.misses, p.size, p.misses, c.want)
		}
	}
}

// TestPoolGrowsWithDemand holds more writers open at once than the pool
// has files, as hundreds of concurrent sessions do: the writers that find
// it empty make new files (not reused ones, whose Commit renames them
// into incoming/ and waits for a directory fsync), and the pool grows so
// that later writers get reserved files again.
func TestPoolGrowsWithDemand(t *testing.T) {
	l := newTestLayout(t)
	l.EnablePool()
	t.Cleanup(l.ClosePool)
	first, _ := untilReserved(t, l)
	var held []*Writer
	t.Cleanup(func() {
		for _, w := range held {
			w.Abandon()
		}
	})
	held = append(held, first)
	// Spare files a writer could reuse.
	for i := range 4 {
		w := commitMessage(t, l, fmt.Sprintf("delivered %d\n", i))
		if err := l.Retire(Incoming, w.ID); err != nil {
			t.Fatal(err)
		}
	}
	if len(spareNames(t, l)) == 0 {
		t.Fatal("no spare file to reuse")
	}
	missed := false
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && len(held) < 2*poolMaxSize {
		w, err := l.Create(Incoming)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, w)
		if w.reserved == nil {
			missed = true
			if w.spare != "" {
				t.Fatalf("writer %d found the pool empty and reused a spare file", len(held))
			}
		}
		l.pool.mu.Lock()
		size := l.pool.size
		l.pool.mu.Unlock()
		if missed && size > poolSize && w.reserved != nil {
			break
		}
		for w.reserved == nil && time.Now().Before(deadline) {
			// Until a round has named files again.
			l.pool.mu.Lock()
			ready := len(l.pool.ready)
			l.pool.mu.Unlock()
			if ready > 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	l.pool.mu.Lock()
	size := l.pool.size
	l.pool.mu.Unlock()
	if !missed || size <= poolSize || size > poolMaxSize || held[len(held)-1].reserved == nil {
		t.Fatalf("after %d writers: missed %v, pool size %d (from %d, at most %d), last reserved %v",
			len(held), missed, size, poolSize, poolMaxSize, held[len(held)-1].reserved != nil)
	}
	// Commits of every kind hold their messages.
	for i, w := range held[len(held)-3:] {
		if err := w.WriteEnvelope(spareEnvelope()); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "held %d\n", i)
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := body(t, l, Incoming, w.ID); got != fmt.Sprintf("held %d\n", i) {
			t.Errorf("%s: %q", w.ID, got)
		}
	}
}
