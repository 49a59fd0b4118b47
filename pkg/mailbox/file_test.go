// Tests of deliveries to files named in aliases, .forward and :include: entries.

package mailbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestDeliverFile(t *testing.T) {
	dir := t.TempDir()
	msg := &Message{Sender: "s@example.com", Recipient: "bob@example.test"}
	archive := filepath.Join(dir, "archive")
	if err := DeliverFile(archive, msg, strings.NewReader("Subject: x\n\nbody\n"), allLocks, 0); err != nil {
		t.Fatalf("a new file: %v", err)
	}
	if data, _ := os.ReadFile(archive); !strings.HasPrefix(string(data), "From s@example.com  ") || !strings.HasSuffix(string(data), "\nSubject: x\n\nbody\n\n") {
		t.Errorf("archive: %q", data)
	}
	if _, err := os.Stat(archive + ".lock"); !os.IsNotExist(err) {
		t.Errorf("dot-lock left behind: %v", err)
	}
	// /dev/null, the usual "devnull: /dev/null" alias, takes the message.
	if err := DeliverFile(os.DevNull, msg, strings.NewReader("Subject: x\n\nbody\n"), allLocks, 0); err != nil {
		t.Errorf("/dev/null: %v", err)
	}

	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o700)
	os.Symlink(archive, filepath.Join(dir, "symlink"))
	os.WriteFile(filepath.Join(dir, "linked"), nil, 0o600)
	os.Link(filepath.Join(dir, "linked"), filepath.Join(dir, "hardlink"))
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, dsn, why string
	}{
		{script, "5.7.1", "file is executable"},
		{filepath.Join(dir, "symlink"), "5.2.0", "file is a symbolic link"},
		{filepath.Join(dir, "hardlink"), "5.2.0", "file has 2 hard links"},
		{fifo, "5.2.0", "file is not a regular file or a character device"},
		{dir, "5.2.0", "file is not a regular file or a character device"},
		{filepath.Join(dir, "none", "file"), "5.2.0", "cannot open file: No such file or directory"},
	}
	for _, tt := range tests {
		err := DeliverFile(tt.path, msg, strings.NewReader("x\n"), allLocks, 0)
		var failure *Error
		if !errors.As(err, &failure) || failure.DSN != tt.dsn || !failure.Permanent || failure.Text != "cannot append message to file "+tt.path+": "+tt.why {
			t.Errorf("%s: %+v, want a permanent %s %q", tt.path, err, tt.dsn, tt.why)
		}
	}
	if data, _ := os.ReadFile(script); string(data) != "#!/bin/sh\n" {
		t.Errorf("the executable file was written to: %q", data)
	}
	before, _ := os.ReadFile(archive)
	err := DeliverFile(archive, msg, strings.NewReader(strings.Repeat("line of text\n", 100)), allLocks, int64(len(before))+100)
	var failure *Error
	if !errors.As(err, &failure) || failure.DSN != "5.2.2" || !strings.HasPrefix(failure.Text, "cannot append message to file "+archive+": error writing message: ") {
		t.Errorf("over the size limit: %+v", err)
	}
	if after, _ := os.ReadFile(archive); string(after) != string(before) {
		t.Errorf("a failed delivery left %d bytes behind", len(after)-len(before))
	}
}

// TestDeliverFileWithoutDotlock: a file whose lock file cannot be made
// (here its name would be too long; usually a directory the user may not
// write to) still gets the message, as in Postfix (the dot-lock may fail
// for files).
func TestDeliverFileWithoutDotlock(t *testing.T) {
	path := filepath.Join(t.TempDir(), strings.Repeat("x", 252))
	if err := DeliverFile(path, &Message{Sender: "s@example.com"}, strings.NewReader("x\n"), allLocks, 0); err != nil {
		t.Errorf("DeliverFile: %v", err)
	}
	if data, _ := os.ReadFile(path); !strings.HasPrefix(string(data), "From s@example.com ") {
		t.Errorf("file: %q", data)
	}
	if err := DeliverMbox(path, &Message{Sender: "s@example.com"}, strings.NewReader("x\n"), allLocks, 0); err == nil {
		t.Errorf("a mailbox was delivered to without its dot-lock")
	}
}
