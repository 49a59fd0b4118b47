package mailbox

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestUniqueName(t *testing.T) {
	when := time.Unix(1795883302, 619835123)
	tests := []struct {
		host string
		want string
	}{
		{"mail.example.test", "1795883302.M619835P42Q7.mail.example.test"},
		{"odd/host:name", `1795883302.M619835P42Q7.odd\057host\072name`},
	}
	for _, tt := range tests {
		if got := UniqueName(when, 42, 7, tt.host); got != tt.want {
			t.Errorf("UniqueName(%q) = %q, want %q", tt.host, got, tt.want)
		}
	}
}

func TestDeliverMaildirLayoutAndContent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bob") + "/"
	msg := &Message{Sender: "s@example.com", Recipient: "bob@example.test"}
	content := "Subject: hi\n\nFrom here\n"
	var paths []string
	for range 2 {
		p, err := DeliverMaildir(dir, msg, strings.NewReader(content), 0)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if paths[0] == paths[1] {
		t.Fatalf("two deliveries got the same name %s", paths[0])
	}
	name := regexp.MustCompile(`^\d+\.M\d+P\d+Q\d+\.[^/]+$`)
	for _, p := range paths {
		if filepath.Dir(p) != filepath.Join(dir, "new") || !name.MatchString(filepath.Base(p)) {
			t.Errorf("delivered to %s, want new/<unique name>", p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// Maildir files are not mbox-quoted and have no From_ line.
		if want := msg.Headers() + content; string(data) != want {
			t.Errorf("content %q, want %q", data, want)
		}
		st, _ := os.Stat(p)
		if st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", st.Mode().Perm())
		}
	}
	for _, sub := range []string{"tmp", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil || len(entries) != 0 {
			t.Errorf("%s: %v entries, err %v; want an empty directory", sub, len(entries), err)
		}
	}
	st, _ := os.Stat(dir)
	if st.Mode().Perm() != 0o700 {
		t.Errorf("maildir mode %v, want 0700", st.Mode().Perm())
	}
}

func TestDeliverMaildirLimit(t *testing.T) {
	dir := t.TempDir()
	msg := &Message{Recipient: "bob@example.test"}
	_, err := DeliverMaildir(dir, msg, strings.NewReader(strings.Repeat("x", 1000)), 500)
	failure, ok := err.(*Error)
	if !ok || !failure.Permanent || failure.DSN != "5.2.2" || !strings.Contains(failure.Text, "File too large") {
		t.Fatalf("over the limit: %#v", err)
	}
	for _, sub := range []string{"tmp", "new"} {
		if entries, _ := os.ReadDir(filepath.Join(dir, sub)); len(entries) != 0 {
			t.Errorf("%s keeps %d files after a failed delivery", sub, len(entries))
		}
	}
}

// watchTmp is message content that, while it is being read (the file
// is open), records what tmp/ holds.
type watchTmp struct {
	tmp     string
	r       *strings.Reader
	entries []string
}

func (w *watchTmp) Read(p []byte) (int, error) {
	if list, err := os.ReadDir(w.tmp); err == nil {
		for _, e := range list {
			w.entries = append(w.entries, e.Name())
		}
	}
	return w.r.Read(p)
}

// Where the system has O_TMPFILE and /proc, the file has no name in
// tmp/ while it is written; elsewhere it has one. Either way the
// delivered file is complete in new/ and tmp/ is left empty.
func TestDeliverMaildirUnnamedAndNamed(t *testing.T) {
	if !procFDs() {
		t.Skip("no /proc/self/fd")
	}
	for _, unnamed := range []bool{true, false} {
		if !unnamed {
			saved := procFDs
			procFDs = func() bool { return false }
			t.Cleanup(func() { procFDs = saved })
		}
		dir := t.TempDir()
		if err := makeMaildir(dir, "x"); err != nil {
			t.Fatal(err)
		}
		msg := &Message{Sender: "s@example.com", Recipient: "bob@example.test"}
		content := &watchTmp{tmp: filepath.Join(dir, "tmp"), r: strings.NewReader("Subject: hi\n\nbody\n")}
		p, err := DeliverMaildir(dir, msg, content, 0)
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(p); string(data) != msg.Headers()+"Subject: hi\n\nbody\n" {
			t.Errorf("unnamed=%v: delivered %q", unnamed, data)
		}
		if unnamed && len(content.entries) != 0 {
			t.Errorf("tmp/ held %v during an unnamed delivery", content.entries)
		}
		if !unnamed && (len(content.entries) == 0 || content.entries[0] != filepath.Base(p)) {
			t.Errorf("tmp/ held %v during a named delivery, want %s", content.entries, filepath.Base(p))
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(entries) != 0 {
			t.Errorf("unnamed=%v: tmp/ keeps %d files", unnamed, len(entries))
		}
	}
}

// The unnamed file is linked into new/ with AT_EMPTY_PATH or, once the
// kernel has refused that, through its /proc link; either way a missing
// new/ is made again, and a missing directory is not taken for a refusal.
func TestDeliverMaildirLinksUnnamed(t *testing.T) {
	if !procFDs() {
		t.Skip("no /proc/self/fd")
	}
	saved := emptyPathRefused.Load()
	t.Cleanup(func() { emptyPathRefused.Store(saved) })
	for _, refused := range []bool{false, true} {
		emptyPathRefused.Store(refused)
		dir := t.TempDir()
		msg := &Message{Sender: "s@example.com", Recipient: "bob@example.test"}
		for i := range 3 {
			if i == 1 {
				if err := os.Rename(filepath.Join(dir, "new"), filepath.Join(dir, "old")); err != nil {
					t.Fatal(err)
				}
			}
			p, err := DeliverMaildir(dir, msg, strings.NewReader("body\n"), 0)
			if err != nil {
				t.Fatalf("refused=%v, delivery %d: %v", refused, i, err)
			}
			if data, _ := os.ReadFile(p); string(data) != msg.Headers()+"body\n" {
				t.Errorf("refused=%v, delivery %d: %s holds %q", refused, i, p, data)
			}
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "new")); len(entries) != 2 {
			t.Errorf("refused=%v: new/ holds %d files, want the 2 delivered since it was made again", refused, len(entries))
		}
		if emptyPathRefused.Load() != refused && os.Geteuid() == 0 {
			// As root the kernel always takes AT_EMPTY_PATH: the missing
			// directory must not have set the flag.
			t.Errorf("refused=%v: flag now %v", refused, emptyPathRefused.Load())
		}
	}
}
