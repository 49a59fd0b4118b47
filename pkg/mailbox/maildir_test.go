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
