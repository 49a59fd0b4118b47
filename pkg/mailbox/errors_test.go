// Tests of the status codes failed deliveries get, as Postfix's mbox_dsn and mail_copy give them.

package mailbox

import (
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFailureStatus(t *testing.T) {
	tests := []struct {
		errno     syscall.Errno
		dsn       string
		permanent bool
		text      string
	}{
		{syscall.EDQUOT, "5.2.2", true, "error writing message: Disk quota exceeded"},
		{syscall.EFBIG, "5.2.2", true, "error writing message: File too large"},
		{syscall.ENOSPC, "4.3.0", false, "error writing message: No space left on device"},
		{syscall.EAGAIN, "4.2.0", false, "error writing message: Resource temporarily unavailable"},
		{syscall.ESTALE, "4.2.0", false, "error writing message: Stale file handle"},
		{syscall.EIO, "5.3.0", true, "error writing message: Input/output error"},
	}
	for _, tt := range tests {
		err := &fs.PathError{Op: "write", Path: "/x", Err: tt.errno}
		got := writeFailure(err, "maildir delivery failed: ")
		if got.DSN != tt.dsn || got.Permanent != tt.permanent || got.Text != "maildir delivery failed: "+tt.text {
			t.Errorf("%v: got %s %v %q, want %s %v %q", tt.errno, got.DSN, got.Permanent, got.Text, tt.dsn, tt.permanent, tt.text)
		}
	}
}

func TestOpenFailureStatus(t *testing.T) {
	for errno, want := range map[syscall.Errno]string{
		syscall.EACCES: "5.2.0", syscall.ENOTDIR: "5.2.0", syscall.EDQUOT: "5.2.2",
		syscall.ENOSPC: "4.3.0", syscall.EAGAIN: "4.2.0",
	} {
		got := OpenError("/var/mail/bob", "bob", &fs.PathError{Op: "open", Path: "/var/mail/bob", Err: errno})
		if got.DSN != want || got.Permanent != (want[0] == '5') ||
			got.Text != "cannot update mailbox /var/mail/bob for user bob. cannot open file: "+errnoMessage(errno) {
			t.Errorf("%v: got %s %v %q, want %s", errno, got.DSN, got.Permanent, got.Text, want)
		}
	}
}

// A full file system defers the delivery (4.3.0): /dev/full, a character
// device, is written to as a file named in an alias would be.
func TestDeliverFileFullDefers(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	req := &Request{Path: "/dev/full", File: true, Message: Message{Sender: "s@example.com", Recipient: "bob@example.test"}}
	err := Deliver(req, strings.NewReader("Subject: hi\n\nbody\n"))
	failure, ok := err.(*Error)
	if !ok || failure.DSN != "4.3.0" || failure.Permanent ||
		failure.Text != "cannot append message to file /dev/full: error writing message: No space left on device" {
		t.Errorf("got %v", err)
	}
}
