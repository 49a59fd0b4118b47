package mailbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var allLocks = Locks{Fcntl: true, Flock: true, Dotlock: true}

func TestDeliverMboxAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bob")
	when := time.Date(2026, 11, 28, 13, 1, 26, 0, time.Local)
	msg := &Message{Sender: "s@example.com", Recipient: "bob@example.test", Time: when}
	for _, body := range []string{"one\nFrom me\n", "two\n"} {
		if err := DeliverMbox(path, msg, strings.NewReader("Subject: x\n\n"+body), allLocks, 0); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entry := "From s@example.com  Sat Nov 28 13:01:26 2026\n" + msg.Headers() + "Subject: x\n\n"
	want := entry + "one\n>From me\n\n" + entry + "two\n\n"
	if string(data) != want {
		t.Errorf("mbox %q, want %q", data, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
		t.Errorf("dot-lock left behind: %v", err)
	}
}

func TestDeliverMboxRefusesUnsafeFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o600)
	os.Symlink(target, filepath.Join(dir, "symlink"))
	os.Link(target, filepath.Join(dir, "hardlink"))
	os.Mkdir(filepath.Join(dir, "directory"), 0o700)
	tests := []struct {
		name, want string
	}{
		{"symlink", "file is a symbolic link"},
		{"hardlink", "file has 2 hard links"},
		{"directory", "Is a directory"},
	}
	msg := &Message{Recipient: "bob@example.test"}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		err := DeliverMbox(path, msg, strings.NewReader("x\n"), Locks{Fcntl: true}, 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) ||
			!strings.HasPrefix(err.Error(), "cannot update mailbox "+path+" for user bob@example.test. ") {
			t.Errorf("%s: error %v, want one saying %q", tt.name, err, tt.want)
		}
	}
	if data, _ := os.ReadFile(target); len(data) != 0 {
		t.Errorf("target written through a link: %q", data)
	}
}

func TestDeliverMboxLimitLeavesFileUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bob")
	msg := &Message{Recipient: "bob@example.test"}
	if err := DeliverMbox(path, msg, strings.NewReader("small\n"), allLocks, 1000); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	err := DeliverMbox(path, msg, strings.NewReader(strings.Repeat("line of text\n", 100)), allLocks, 1000)
	failure, ok := err.(*Error)
	if !ok || !failure.Permanent || failure.DSN != "5.2.2" ||
		failure.Text != "cannot update mailbox "+path+" for user bob@example.test. error writing message: File too large" {
		t.Fatalf("over the limit: %#v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("mailbox changed by a failed delivery:\n%q\nwas\n%q", after, before)
	}
}

// splitMbox cuts an mbox into its entries at the From_ lines, dropping
// the blank line that ends each entry.
func splitMbox(t *testing.T, data string) []string {
	t.Helper()
	if !strings.HasPrefix(data, "From ") || !strings.HasSuffix(data, "\n\n") {
		t.Fatalf("mbox does not start with a From_ line and end with a blank line: %.40q", data)
	}
	parts := strings.Split(strings.TrimSuffix(data, "\n"), "\n\nFrom ")
	for i := range parts {
		if i > 0 {
			parts[i] = "From " + parts[i]
		}
		if i < len(parts)-1 {
			parts[i] += "\n"
		}
	}
	return parts
}

// checkConcurrentMbox checks that path holds n intact entries, each
// written by deliver(i).
func checkConcurrentMbox(t *testing.T, path string, n int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	entries := splitMbox(t, string(data))
	if len(entries) != n {
		t.Fatalf("mbox holds %d entries, want %d", len(entries), n)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		_, body, ok := strings.Cut(e, "\n\n")
		id, _, _ := strings.Cut(body, "\n")
		if want := concurrentBody(id); !ok || body != want {
			t.Fatalf("entry is not intact:\n%.300q", e)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct messages, want %d", len(seen), n)
	}
}

// concurrentBody is the body message id must have in the mbox: its
// "From " line quoted, and long enough to need many writes.
func concurrentBody(id string) string {
	return id + "\n>From a line that must be quoted\n" + strings.Repeat(id+" locking must keep this line whole\n", 200)
}

func concurrentContent(i int) string {
	id := fmt.Sprintf("message-%02d", i)
	return "Subject: " + id + "\n\n" + strings.Replace(concurrentBody(id), ">From", "From", 1)
}

func TestDeliverMboxConcurrentGoroutines(t *testing.T) {
	for _, locks := range []Locks{allLocks, {Fcntl: true}} {
		path := filepath.Join(t.TempDir(), "bob")
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Go(func() {
				msg := &Message{Sender: "s@example.com", Recipient: "bob@example.test"}
				errs <- DeliverMbox(path, msg, strings.NewReader(concurrentContent(i)), locks, 0)
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		checkConcurrentMbox(t, path, 20)
	}
}

func TestDeliverMboxConcurrentProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bob")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), mboxChildEnv+"="+path)
			cmd.Stdin = strings.NewReader(concurrentContent(i))
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("delivery in a child process: %v: %s", err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkConcurrentMbox(t, path, 20)
}

// TestDeliverMboxRefusesFIFO: a mailbox path that is a FIFO (or a
// device) is refused at once with Postfix's words, local's ("destination
// PATH is not a regular file", 5.2.0) or virtual's (5.3.5 "mail system
// configuration error" and a warning); the delivery never waits for a
// reader.
func TestDeliverMboxRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		req                Request
		dsn, text, warning string
	}{
		{Request{Path: path, User: "bob"}, "5.2.0",
			"cannot update mailbox " + path + " for user bob. destination " + path + " is not a regular file", ""},
		{Request{Path: path, Virtual: true}, "5.3.5",
			"delivery failed to mailbox " + path + ": mail system configuration error",
			"recipient bob@example.com: destination " + path + " is not a regular file"},
	}
	for _, tt := range tests {
		tt.req.Message = Message{Sender: "s@example.com", Recipient: "bob@example.com"}
		done := make(chan error, 1)
		go func() { done <- Deliver(&tt.req, strings.NewReader("x\n")) }()
		select {
		case err := <-done:
			var failure *Error
			if !errors.As(err, &failure) || !failure.Permanent || failure.DSN != tt.dsn || failure.Text != tt.text || failure.Warning != tt.warning {
				t.Errorf("Deliver to a FIFO: %#v, want %s %q warning %q", err, tt.dsn, tt.text, tt.warning)
			}
		case <-time.After(time.Minute):
			t.Fatal("Deliver blocked on a FIFO")
		}
	}
}

// TestDeliverMboxStrictOwner: with StrictOwner an mbox file that Owner
// does not own is left as it was and the delivery deferred with 4.2.0
// and Postfix's words, local's or virtual's, and its warning; the
// owner's own file is written; a Maildir is not checked.
func TestDeliverMboxStrictOwner(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bob")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	other := os.Getuid() + 1
	const warning = `specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch`
	tests := []struct {
		req  Request
		text string
	}{
		{Request{Path: path, User: "bob", StrictOwner: true, Owner: other},
			"cannot update mailbox " + path + " for user bob. destination " + path + " is not owned by recipient"},
		{Request{Path: path, Virtual: true, StrictOwner: true, Owner: other},
			"delivery failed to mailbox " + path + ": destination " + path + " is not owned by recipient"},
	}
	for _, tt := range tests {
		tt.req.Message = Message{Sender: "s@example.com", Recipient: "bob@example.com"}
		err := Deliver(&tt.req, strings.NewReader("x\n"))
		var failure *Error
		if !errors.As(err, &failure) || failure.Permanent || failure.DSN != "4.2.0" || failure.Text != tt.text || failure.Warning != warning {
			t.Errorf("Deliver to another's mailbox: %#v, want 4.2.0 %q warning %q", err, tt.text, warning)
		}
	}
	if data, _ := os.ReadFile(path); len(data) != 0 {
		t.Errorf("another's mailbox was written: %q", data)
	}
	own := Request{Path: path, User: "bob", StrictOwner: true, Owner: os.Getuid(), Message: Message{Sender: "s@example.com", Recipient: "bob@example.com"}}
	if err := Deliver(&own, strings.NewReader("x\n")); err != nil {
		t.Errorf("Deliver to the owner's mailbox: %v", err)
	}
	maildir := Request{Path: filepath.Join(dir, "Maildir") + "/", Maildir: true, StrictOwner: true, Owner: other, Message: own.Message}
	if err := Deliver(&maildir, strings.NewReader("x\n")); err != nil {
		t.Errorf("Deliver to a Maildir: %v", err)
	}
}
