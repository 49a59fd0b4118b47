// Tests of queue files: round trip, done-marking, corrupt files, group commit, moves, repair.

package queue

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// newTestLayout makes a fresh queue tree with the deferred and defer
// queues hashed one level deep.
func newTestLayout(t testing.TB) *Layout {
	t.Helper()
	l := NewLayout(t.TempDir(), []string{"deferred", "defer"}, 1, false)
	if err := l.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	return l
}

var testArrival = time.Unix(1795870875, 250000000)

func testEnvelope() *Envelope {
	return &Envelope{
		ArrivalTime: testArrival,
		Sender:      "sender@remote.example",
		FullName:    "Remote Sender",
		Attrs:       []Attr{{AttrClientAddr, "127.0.0.1"}, {AttrProtocol, "ESMTP"}},
		Recipients: []Recipient{
			{Address: "a@elsewhere.example", Original: "alias@elsewhere.example", DSNNotify: 6, DSNOrcpt: "rfc822;alias@elsewhere.example"},
			{Address: "b@other.example"},
		},
	}
}

// writeMessage commits a queue file with the given content in queue.
func writeMessage(t testing.TB, l *Layout, queue string, env *Envelope, content string) *Writer {
	t.Helper()
	w, err := l.Create(queue)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEnvelope(env); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return w
}

func readContent(t *testing.T, m *Message) string {
	t.Helper()
	c, err := OpenContent(m.Path, m.Size.DataOffset)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	long := strings.Repeat("x", MaxLineRecord*2+10)
	tests := []struct {
		name, content, want string
	}{
		{"simple", "Subject: hi\n\nbody\n", "Subject: hi\n\nbody\n"},
		{"crlf", "Subject: hi\r\n\r\nbody\r\n", "Subject: hi\n\nbody\n"},
		{"no final newline", "Subject: hi\n\nbody", "Subject: hi\n\nbody\n"},
		{"empty", "", ""},
		{"long line", long + "\r\nend\n", long + "\nend\n"},
		{"line of exactly the record limit with CRLF", strings.Repeat("y", MaxLineRecord) + "\r\n", strings.Repeat("y", MaxLineRecord) + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLayout(t)
			env := testEnvelope()
			w, err := l.Create(Incoming)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteEnvelope(env); err != nil {
				t.Fatal(err)
			}
			// Feed the content in small pieces to exercise chunking.
			for p := []byte(tc.content); len(p) > 0; {
				n := min(len(p), 7)
				if _, err := w.Write(p[:n]); err != nil {
					t.Fatal(err)
				}
				p = p[n:]
			}
			if strings.HasSuffix(tc.content, "\n") && w.ContentLength() != int64(len(tc.want)) {
				t.Errorf("ContentLength before commit = %d, want %d", w.ContentLength(), len(tc.want))
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			m, err := l.Load(Incoming, w.ID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if m.Sender != env.Sender || m.FullName != env.FullName || !m.ArrivalTime.Equal(testArrival) || !m.CreateTime.Equal(time.Unix(testArrival.Unix(), 0)) {
				t.Errorf("envelope = %q %v %v", m.Sender, m.ArrivalTime, m.CreateTime)
			}
			if fmt.Sprint(m.Attrs) != fmt.Sprint(env.Attrs) {
				t.Errorf("attrs = %v, want %v", m.Attrs, env.Attrs)
			}
			if len(m.Recipients) != 2 {
				t.Fatalf("recipients = %+v", m.Recipients)
			}
			r0 := m.Recipients[0]
			if r0.Address != "a@elsewhere.example" || r0.Original != "alias@elsewhere.example" || r0.DSNNotify != 6 || r0.DSNOrcpt != "rfc822;alias@elsewhere.example" || r0.Done {
				t.Errorf("recipient 0 = %+v", r0)
			}
			if m.Recipients[1].Original != "b@other.example" {
				t.Errorf("recipient 1 original = %q", m.Recipients[1].Original)
			}
			if got := readContent(t, m); got != tc.want {
				t.Errorf("content = %q, want %q", got, tc.want)
			}
			if m.Size.ContentLength != int64(len(tc.want)) || m.Size.RecipientCount != 2 {
				t.Errorf("size = %+v, want content length %d", m.Size, len(tc.want))
			}
			if st, _ := os.Stat(m.Path); st.Mode().Perm() != modeReady {
				t.Errorf("mode = %v, want %v", st.Mode().Perm(), modeReady)
			}
		})
	}
}

func TestMarkDone(t *testing.T) {
	l := newTestLayout(t)
	w := writeMessage(t, l, Incoming, testEnvelope(), "x\n")
	offsets := w.Recipients()
	if err := MarkDone(w.Path, offsets[1].Offset); err != nil {
		t.Fatal(err)
	}
	if err := MarkDone(w.Path, offsets[1].Offset); err != nil {
		t.Errorf("second MarkDone: %v", err)
	}
	m, err := l.Load(Incoming, w.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Recipients[0].Done || !m.Recipients[1].Done {
		t.Errorf("done flags = %v %v, want false true", m.Recipients[0].Done, m.Recipients[1].Done)
	}
	if p := m.Pending(); len(p) != 1 || p[0].Address != "a@elsewhere.example" {
		t.Errorf("Pending = %+v", p)
	}
	if err := MarkDone(w.Path, offsets[1].Offset+1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("MarkDone at a wrong offset: %v, want ErrCorrupt", err)
	}
	if err := MarkDone(w.Path, 1<<20); !errors.Is(err, ErrCorrupt) {
		t.Errorf("MarkDone past the end: %v, want ErrCorrupt", err)
	}
}

// TestLoadForUpdate: the envelope as Load reads it, and recipients marked
// done through the file kept open, as MarkDone marks them.
func TestLoadForUpdate(t *testing.T) {
	l := newTestLayout(t)
	w := writeMessage(t, l, Incoming, testEnvelope(), "x\n")
	m, marker, err := l.LoadForUpdate(Incoming, w.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Recipients) != 2 || m.Path != w.Path || m.ID != w.ID {
		t.Fatalf("loaded %+v", m)
	}
	for range 2 {
		if err := marker.MarkDone(m.Recipients[0].Offset); err != nil {
			t.Fatal(err)
		}
	}
	if err := marker.MarkDone(m.Recipients[1].Offset + 1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("MarkDone at a wrong offset: %v, want ErrCorrupt", err)
	}
	if err := marker.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := l.Load(Incoming, w.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Recipients[0].Done || again.Recipients[1].Done {
		t.Errorf("done flags = %v %v, want true false", again.Recipients[0].Done, again.Recipients[1].Done)
	}
	if _, _, err := l.LoadForUpdate(Incoming, "NOSUCHFILE", nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}

func TestExtractedRecipient(t *testing.T) {
	l := newTestLayout(t)
	w, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	env := testEnvelope()
	env.Recipients = nil
	if err := w.WriteEnvelope(env); err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "To: c@x.example\n\nhi\n")
	if err := w.AddRecipient(Recipient{Address: "c@x.example"}); err != nil {
		t.Fatal(err)
	}
	if err := w.AddExtractedAttr(Attr{"encoding", "8bit"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	m, err := l.Load(Incoming, w.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Recipients) != 1 || m.Recipients[0].Offset <= m.ExtractedOffset {
		t.Errorf("recipients %+v, extracted at %d", m.Recipients, m.ExtractedOffset)
	}
	if v, _ := m.Attr("encoding"); v != "8bit" {
		t.Errorf("encoding attribute = %q", v)
	}
	if err := MarkDone(m.Path, m.Recipients[0].Offset); err != nil {
		t.Fatal(err)
	}
}

func TestAbandonRemovesFile(t *testing.T) {
	l := newTestLayout(t)
	w, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteEnvelope(testEnvelope())
	io.WriteString(w, "partial")
	if ready, err := Ready(w.Path); err != nil || ready {
		t.Errorf("Ready before commit = %v, %v", ready, err)
	}
	if err := w.Abandon(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(l.Root, Incoming))
	if len(entries) != 0 {
		t.Errorf("incoming has %d entries after Abandon", len(entries))
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after Abandon succeeded")
	}
}

func TestConcurrentCreateUniqueIDs(t *testing.T) {
	for _, long := range []bool{false, true} {
		l := newTestLayout(t)
		l.LongIDs = long
		const n = 200
		ids := make(chan string, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w, err := l.Create(Incoming)
				if err != nil {
					t.Error(err)
					return
				}
				ids <- w.ID
			}()
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			if seen[id] {
				t.Errorf("duplicate ID %s", id)
			}
			if IsLongID(id) != long {
				t.Errorf("ID %s: long = %v, want %v", id, IsLongID(id), long)
			}
			seen[id] = true
		}
		got, err := l.IDs(Incoming)
		if err != nil || len(got) != n {
			t.Errorf("incoming holds %d files (%v), want %d", len(got), err, n)
		}
	}
}

// N concurrent commits are all durable when Commit returns, and share
// directory fsyncs.
func TestGroupCommit(t *testing.T) {
	l := newTestLayout(t)
	var mu sync.Mutex
	var synced []string // files present at each directory fsync
	l.syncer.fsync = func(dir string) error {
		time.Sleep(20 * time.Millisecond) // a slow disk lets commits pile up
		names, err := os.ReadDir(dir)
		mu.Lock()
		for _, n := range names {
			synced = append(synced, n.Name())
		}
		mu.Unlock()
		return err
	}
	const n = 40
	var wg sync.WaitGroup
	results := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w := writeMessage(t, l, Incoming, testEnvelope(), fmt.Sprintf("message %d\n", i))
			// At this point an fsync that saw the file has completed.
			mu.Lock()
			found := false
			for _, name := range synced {
				found = found || name == w.ID
			}
			mu.Unlock()
			if !found {
				t.Errorf("Commit of %s returned before a directory fsync covered it", w.ID)
			}
			results <- w.ID
		}(i)
	}
	wg.Wait()
	close(results)
	for id := range results {
		if _, err := l.Load(Incoming, id, nil); err != nil {
			t.Errorf("load %s: %v", id, err)
		}
	}
	if s := l.syncer.Syncs(); s >= n || s == 0 {
		t.Errorf("%d directory fsyncs for %d commits, want fewer and at least one", s, n)
	}
}

func TestCorruptFileMovedToCorrupt(t *testing.T) {
	l := newTestLayout(t)
	good := writeMessage(t, l, Active, testEnvelope(), "hello\n")
	data, err := os.ReadFile(good.Path)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string][]byte{
		"truncated":      data[:len(data)-1],
		"empty":          {},
		"garbage":        []byte("this is not a queue file\n"),
		"trailing bytes": append(append([]byte{}, data...), 'E', 0),
		"wrong size":     bytes.Replace(data, []byte("hello"), []byte("hell"), 1),
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			id := "BAD" + strings.ToUpper(strings.ReplaceAll(name, " ", ""))
			if err := os.WriteFile(l.Path(Active, id), content, 0o700); err != nil {
				t.Fatal(err)
			}
			var warnings []string
			_, err := l.Load(Active, id, func(s string) { warnings = append(warnings, s) })
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load error = %v, want ErrCorrupt", err)
			}
			want := fmt.Sprintf(`saving corrupt file "%s" from queue "active" to queue "corrupt"`, id)
			if len(warnings) != 2 || warnings[1] != want {
				t.Errorf("warnings = %q, want second %q", warnings, want)
			}
			if _, err := os.Stat(l.Path(Corrupt, id)); err != nil {
				t.Errorf("not in corrupt/: %v", err)
			}
		})
	}
}

// A bad record inside the content is found when the content is read, not
// by the envelope reader, which skips the content as the queue manager does.
func TestCorruptContentFoundOnRead(t *testing.T) {
	l := newTestLayout(t)
	w := writeMessage(t, l, Active, testEnvelope(), "hello\n")
	data, _ := os.ReadFile(w.Path)
	os.WriteFile(w.Path, bytes.Replace(data, []byte("N\x05hello"), []byte("S\x05hello"), 1), 0o700)
	m, err := l.Load(Active, w.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := OpenContent(m.Path, m.Size.DataOffset)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.ReadAll(c); !errors.Is(err, ErrCorrupt) {
		t.Errorf("reading bad content: %v, want ErrCorrupt", err)
	}
}

func TestMovesAndFind(t *testing.T) {
	l := newTestLayout(t)
	w := writeMessage(t, l, Incoming, testEnvelope(), "x\n")
	if err := l.Move(w.ID, Incoming, Deferred); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.Root, "deferred", w.ID[:1], w.ID)); err != nil {
		t.Errorf("not in hashed deferred dir: %v", err)
	}
	next := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := l.SetNextAttempt(Deferred, w.ID, next); err != nil {
		t.Fatal(err)
	}
	m, err := l.Load(Deferred, w.ID, nil)
	if err != nil || !m.ModTime.Equal(next) {
		t.Errorf("mtime = %v (%v), want %v", m.ModTime, err, next)
	}
	if q, err := l.Find(w.ID); err != nil || q != Deferred {
		t.Errorf("Find = %q, %v", q, err)
	}
	if _, err := l.Find("ABCDEF"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Find of a missing ID: %v", err)
	}
	if _, err := l.Find("../x"); err == nil {
		t.Error("Find accepted a bad ID")
	}
	if err := l.SetForcedExpire(Deferred, w.ID); err != nil {
		t.Fatal(err)
	}
	if m, _ := l.Load(Deferred, w.ID, nil); !m.ForcedExpire {
		t.Error("ForcedExpire not set")
	}
	if err := l.AppendStatus(Defer, w.ID, StatusEntry{Recipient: "a@x", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(Deferred, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Path(Defer, w.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("defer log survives Remove: %v", err)
	}
}

func TestShiftRenamesWithoutDirectoryFsync(t *testing.T) {
	l := newTestLayout(t)
	w := writeMessage(t, l, Incoming, testEnvelope(), "x\n")
	before := l.syncer.Syncs()
	if err := l.Shift(w.ID, Incoming, Active); err != nil {
		t.Fatal(err)
	}
	if err := l.Shift(w.ID, Active, Deferred); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.Root, "deferred", w.ID[:1], w.ID)); err != nil {
		t.Errorf("not in hashed deferred dir: %v", err)
	}
	if got := l.syncer.Syncs(); got != before {
		t.Errorf("Shift fsynced %d directories, want none", got-before)
	}
	if err := l.Move(w.ID, Deferred, Hold); err != nil {
		t.Fatal(err)
	}
	if got := l.syncer.Syncs() - before; got != 2 {
		t.Errorf("Move fsynced %d directories, want both", got)
	}
	if err := l.Shift(w.ID, Incoming, Active); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Shift of a missing file: %v, want ErrNotExist", err)
	}
}

func TestWalkFindsHashedAndMisplaced(t *testing.T) {
	l := newTestLayout(t)
	a := writeMessage(t, l, Incoming, testEnvelope(), "a\n")
	b := writeMessage(t, l, Incoming, testEnvelope(), "b\n")
	l.Move(a.ID, Incoming, Deferred)
	// b lands in the deferred top directory: misplaced for depth 1.
	if err := os.Rename(b.Path, filepath.Join(l.Root, Deferred, b.ID)); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(l.Root, Deferred, "tmp.1.2"), nil, 0o600)
	var got []Entry
	l.Walk(Deferred, func(e Entry) error { got = append(got, e); return nil })
	if len(got) != 2 {
		t.Fatalf("Walk found %+v", got)
	}
	misplaced := 0
	for _, e := range got {
		if l.Misplaced(e) {
			misplaced++
			if e.ID != b.ID {
				t.Errorf("%s reported misplaced", e.ID)
			}
			if err := l.MoveEntry(e, Deferred); err != nil {
				t.Fatal(err)
			}
		}
	}
	if misplaced != 1 {
		t.Errorf("%d misplaced, want 1", misplaced)
	}
	if _, err := os.Stat(l.Path(Deferred, b.ID)); err != nil {
		t.Errorf("repair did not move the file: %v", err)
	}
}

func TestRequeue(t *testing.T) {
	l := newTestLayout(t)
	w := writeMessage(t, l, Incoming, testEnvelope(), "Subject: s\n\nbody\n")
	MarkDone(w.Path, w.Recipients()[0].Offset)
	if err := l.Move(w.ID, Incoming, Hold); err != nil {
		t.Fatal(err)
	}
	l.AppendStatus(Defer, w.ID, StatusEntry{Recipient: "b@other.example", Reason: "x"})
	if err := l.Requeue(Hold, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Path(Hold, w.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Error("file still in hold")
	}
	if _, err := os.Stat(l.Path(Defer, w.ID)); !errors.Is(err, os.ErrNotExist) {
		t.Error("defer log survives requeue")
	}
	m, err := l.Load(Maildrop, w.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.ArrivalTime.Equal(testArrival) {
		t.Errorf("arrival %v, want %v", m.ArrivalTime, testArrival)
	}
	if p := m.Pending(); len(p) != 1 || p[0].Address != "b@other.example" {
		t.Errorf("pending recipients %+v, want only b@other.example", p)
	}
	if got := readContent(t, m); got != "Subject: s\n\nbody\n" {
		t.Errorf("content %q", got)
	}
}

func TestStatusLog(t *testing.T) {
	l := newTestLayout(t)
	entries := []StatusEntry{
		{Recipient: "a@x", Offset: 10, Status: "4.4.1", Action: "delayed", Reason: "connect to x: Connection\nrefused"},
		{Recipient: "b@x", Reason: "other"},
	}
	if err := l.AppendStatus(Defer, "ABC123", entries[0]); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendStatus(Defer, "ABC123", entries[1]); err != nil {
		t.Fatal(err)
	}
	got, err := l.ReadStatus(Defer, "ABC123")
	if err != nil {
		t.Fatal(err)
	}
	entries[0].Reason = "connect to x: Connection refused"
	if fmt.Sprint(got) != fmt.Sprint(entries) {
		t.Errorf("ReadStatus = %+v, want %+v", got, entries)
	}
	if _, err := os.Stat(filepath.Join(l.Root, "defer", "A", "ABC123")); err != nil {
		t.Errorf("defer log not hashed: %v", err)
	}
	os.MkdirAll(l.Dir(Defer, "BAD1"), 0o700)
	os.WriteFile(l.Path(Defer, "BAD1"), []byte("recipient=a\nnoequals\n"), 0o600)
	if _, err := l.ReadStatus(Defer, "BAD1"); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("malformed log error = %v, want line 2", err)
	}
	if got, err := l.ReadStatus(Defer, "NONE"); err != nil || got != nil {
		t.Errorf("missing log = %v, %v", got, err)
	}
}

func TestInodeOf(t *testing.T) {
	tests := []struct {
		id    string
		inode uint64
		ok    bool
	}{
		{"577929840D3", 0x9840D3, true},
		{"4jc9bp2gwBz1SDRT", func() uint64 { v, _ := decodeSafe("1SDRT", 51); return v }(), true},
		{"tmpfile", 0, false},
		{"12345", 0, false},
		{"12345G", 0, false},
	}
	for _, tc := range tests {
		inode, ok := InodeOf(tc.id)
		if inode != tc.inode || ok != tc.ok {
			t.Errorf("InodeOf(%q) = %d, %v, want %d, %v", tc.id, inode, ok, tc.inode, tc.ok)
		}
	}
	if got := WithInode("577929840D3", 0xABC); got != "57792ABC" {
		t.Errorf("WithInode short = %q", got)
	}
	if got := WithInode("4jc9bp2gwBz1SDRT", 0); got != "4jc9bp2gwBz0" {
		t.Errorf("WithInode long = %q", got)
	}
}

func TestRepairStructure(t *testing.T) {
	l := newTestLayout(t)
	good := writeMessage(t, l, Incoming, testEnvelope(), "a\n")
	// A restored file: its name carries another inode.
	restored := writeMessage(t, l, Incoming, testEnvelope(), "b\n")
	os.Rename(restored.Path, l.Path(Hold, "12345ABCDEF"))
	l.AppendStatus(Defer, "12345ABCDEF", StatusEntry{Recipient: "r", Reason: "x"})
	// A misplaced deferred file with a correct name.
	misplaced := writeMessage(t, l, Incoming, testEnvelope(), "c\n")
	os.Rename(misplaced.Path, filepath.Join(l.Root, Deferred, misplaced.ID))
	os.WriteFile(filepath.Join(l.Root, Maildrop, "12.34"), nil, 0o600)
	var warnings []string
	report, err := l.RepairStructure(func(s string) { warnings = append(warnings, s) })
	if err != nil {
		t.Fatal(err)
	}
	if report != (RepairReport{Renamed: 1, Moved: 1}) {
		t.Errorf("report = %+v", report)
	}
	if fmt.Sprint(warnings) != "[bogus file name: maildrop/12.34]" {
		t.Errorf("warnings = %q", warnings)
	}
	ids, _ := l.IDs(Hold)
	if len(ids) != 1 || !strings.HasPrefix(ids[0], "12345") || ids[0] == "12345ABCDEF" {
		t.Fatalf("hold holds %v, want one renamed 12345... file", ids)
	}
	if inode, _ := InodeOf(ids[0]); inode == 0xABCDEF {
		t.Errorf("renamed ID %s keeps the wrong inode", ids[0])
	}
	if entries, _ := l.ReadStatus(Defer, ids[0]); len(entries) != 1 {
		t.Errorf("defer log did not follow the rename: %v", entries)
	}
	if _, err := os.Stat(l.Path(Deferred, misplaced.ID)); err != nil {
		t.Errorf("misplaced file not moved: %v", err)
	}
	if _, err := os.Stat(good.Path); err != nil {
		t.Errorf("good file touched: %v", err)
	}
	if again, _ := l.RepairStructure(func(string) {}); again != (RepairReport{}) {
		t.Errorf("second repair changed %+v", again)
	}
}

func TestRenameNoReplace(t *testing.T) {
	l := newTestLayout(t)
	from := filepath.Join(l.Root, Incoming, "A1")
	taken := filepath.Join(l.Root, Incoming, "B2")
	os.WriteFile(from, []byte("from"), 0o600)
	os.WriteFile(taken, []byte("taken"), 0o600)
	if err := l.renameNoReplace(from, taken); !errors.Is(err, os.ErrExist) {
		t.Fatalf("rename onto an existing name: %v, want ErrExist", err)
	}
	if data, _ := os.ReadFile(taken); string(data) != "taken" {
		t.Errorf("existing file overwritten: %q", data)
	}
	dst := l.Path(Deferred, "C3")
	if err := l.renameNoReplace(from, dst); err != nil {
		t.Fatalf("rename into a new hashed directory: %v", err)
	}
	if data, _ := os.ReadFile(dst); string(data) != "from" {
		t.Errorf("renamed file holds %q", data)
	}
}

// TestContentReaderReadSizes: the content reads back the same whatever
// the size of the reads, long lines (split in several records) included.
func TestContentReaderReadSizes(t *testing.T) {
	l := newTestLayout(t)
	var want strings.Builder
	for i := range 300 {
		fmt.Fprintf(&want, "line %d %s\n", i, strings.Repeat("x", i*37%5000))
	}
	want.WriteString("no newline at the end")
	w := writeMessage(t, l, Active, testEnvelope(), want.String())
	m, err := l.Load(Active, w.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	expect := want.String() + "\n"
	if got := readContent(t, m); got != expect {
		t.Fatalf("content of %d bytes differs from the %d written", len(got), len(expect))
	}
	c, err := OpenContent(m.Path, m.Size.DataOffset)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := iotest.TestReader(c, []byte(expect)); err != nil {
		t.Fatal(err)
	}
}
