package queue

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// commitMessage commits a message with the given body and one local
// recipient to incoming and returns its writer.
func commitMessage(t *testing.T, l *Layout, body string) *Writer {
	t.Helper()
	return writeMessage(t, l, Incoming, spareEnvelope(), body)
}

// spareEnvelope is testEnvelope with the one recipient body checks.
func spareEnvelope() *Envelope {
	env := testEnvelope()
	env.Recipients = []Recipient{{Address: "rcpt@local.example"}}
	return env
}

// busy starts a writer that stays uncommitted until the test ends, so
// that the writers the test makes are not alone (a lone writer makes a new
// file).
func busy(t *testing.T, l *Layout) {
	t.Helper()
	w, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Abandon() })
}

// inode returns the inode number of the file at path.
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*syscall.Stat_t).Ino
}

func spareNames(t *testing.T, l *Layout) []string {
	t.Helper()
	names, err := readNames(filepath.Join(l.Root, Spare), -1)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return names
}

// body returns the content of committed queue file id in queue.
func body(t *testing.T, l *Layout, queue, id string) string {
	t.Helper()
	m, err := l.Load(queue, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Recipients) != 1 || m.Recipients[0].Address != "rcpt@local.example" {
		t.Errorf("%s: recipients %+v", id, m.Recipients)
	}
	return readContent(t, m)
}

func TestRetiredFileHoldsTheNextMessage(t *testing.T) {
	l := newTestLayout(t)
	first := commitMessage(t, l, strings.Repeat("a long line of the first message\n", 100))
	ino := inode(t, first.Path)
	if err := l.Shift(first.ID, Incoming, Active); err != nil {
		t.Fatal(err)
	}
	if err := l.Retire(Active, first.ID); err != nil {
		t.Fatal(err)
	}
	busy(t, l)
	if _, err := os.Lstat(l.Path(Active, first.ID)); !os.IsNotExist(err) {
		t.Fatalf("retired file still in active: %v", err)
	}
	if got := spareNames(t, l); len(got) != 1 || got[0] != strconv.FormatUint(ino, 10) {
		t.Fatalf("spare/ holds %q, want the file's inode %d", got, ino)
	}

	w, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := InodeOf(w.ID); got != ino {
		t.Errorf("new ID %s has inode %d, want the spare file's %d", w.ID, got, ino)
	}
	if w.ID == first.ID {
		t.Errorf("new file got the old ID %s", w.ID)
	}
	if err := w.WriteEnvelope(spareEnvelope()); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "short second message\n"); err != nil {
		t.Fatal(err)
	}
	// Until Commit the new message is nowhere a queue scan looks.
	if _, err := os.Lstat(w.Path); !os.IsNotExist(err) {
		t.Fatalf("%s in incoming/ before Commit: %v", w.ID, err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := body(t, l, Incoming, w.ID); got != "short second message\n" {
		t.Errorf("content after reuse = %q (the previous message's tail must be gone)", got)
	}
	st, err := os.Lstat(w.Path)
	if err != nil || st.Mode().Perm() != modeReady || inode(t, w.Path) != ino {
		t.Errorf("committed file: %v, %v", st, err)
	}
	if got := spareNames(t, l); len(got) != 0 {
		t.Errorf("spare/ still holds %q", got)
	}
}

func TestAbandonedSpareStaysInSpare(t *testing.T) {
	l := newTestLayout(t)
	first := commitMessage(t, l, "first\n")
	if err := l.Retire(Incoming, first.ID); err != nil {
		t.Fatal(err)
	}
	busy(t, l)
	w, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	if w.spare == "" {
		t.Fatal("the spare file was not reused")
	}
	if _, err := io.WriteString(w, "never committed\n"); err == nil {
		t.Fatal("content before the envelope was accepted")
	}
	if err := w.Abandon(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(w.Path); !os.IsNotExist(err) {
		t.Errorf("%s in incoming/ after Abandon: %v", w.ID, err)
	}
	if got := spareNames(t, l); len(got) != 1 {
		t.Errorf("spare/ after Abandon holds %q, want the file back", got)
	}
	// And it serves the next message.
	next := commitMessage(t, l, "next\n")
	if got := inode(t, next.Path); strconv.FormatUint(got, 10) != filepath.Base(w.spare) {
		t.Errorf("next message in inode %d, want the spare file %s", got, w.spare)
	}
	if got, _ := InodeOf(next.ID); got != inode(t, next.Path) {
		t.Errorf("ID %s does not name inode %d", next.ID, inode(t, next.Path))
	}
	if got := body(t, l, Incoming, next.ID); got != "next\n" {
		t.Errorf("content = %q", got)
	}
}

func TestRetireKeepsOnlySmallSingleLinkedFiles(t *testing.T) {
	l := newTestLayout(t)
	big := commitMessage(t, l, strings.Repeat("x", maxSpareSize+1)+"\n")
	if err := l.Retire(Incoming, big.ID); err != nil {
		t.Fatal(err)
	}
	linked := commitMessage(t, l, "linked\n")
	if err := os.Link(linked.Path, filepath.Join(l.Root, "other-name")); err != nil {
		t.Fatal(err)
	}
	if err := l.Retire(Incoming, linked.ID); err != nil {
		t.Fatal(err)
	}
	if got := spareNames(t, l); len(got) != 0 {
		t.Errorf("spare/ holds %q, want neither the big nor the linked file", got)
	}
	for _, w := range []*Writer{big, linked} {
		if _, err := os.Lstat(w.Path); !os.IsNotExist(err) {
			t.Errorf("%s not removed: %v", w.ID, err)
		}
	}
}

func TestLockedSpareIsNotClaimed(t *testing.T) {
	l := newTestLayout(t)
	first := commitMessage(t, l, "first\n")
	ino := inode(t, first.Path)
	if err := l.Retire(Incoming, first.ID); err != nil {
		t.Fatal(err)
	}
	// Another writer holds it.
	f, err := os.Open(filepath.Join(l.Root, Spare, strconv.FormatUint(ino, 10)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	busy(t, l)
	next := commitMessage(t, l, "next\n")
	if got := inode(t, next.Path); got == ino {
		t.Errorf("a locked spare file (inode %d) was written", ino)
	}
	if got := spareNames(t, l); len(got) != 1 {
		t.Errorf("spare/ holds %q, want the locked file still there", got)
	}
}

func TestLoneWriterMakesANewFile(t *testing.T) {
	l := newTestLayout(t)
	first := commitMessage(t, l, "first\n")
	ino := inode(t, first.Path)
	if err := l.Retire(Incoming, first.ID); err != nil {
		t.Fatal(err)
	}
	w, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abandon()
	if w.spare != "" || inode(t, w.Path) == ino {
		t.Errorf("a lone writer reused spare file %d (its directory fsync could not start early)", ino)
	}
	// The writer counts: a second one reuses the spare file.
	second, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Abandon()
	if second.spare == "" {
		t.Error("a second concurrent writer did not reuse the spare file")
	}
}
