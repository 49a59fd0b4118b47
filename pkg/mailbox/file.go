// Delivery to a file named in an alias, .forward or :include: entry, with Postfix's rules for such files (devices, dot-lock, executable files, texts and statuses).

package mailbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// DeliverFile appends content as an mbox entry to path, a file named in
// an alias, .forward or :include: entry, as Postfix's local delivers to
// files. A character device (/dev/null) is written to without locks. A
// regular file (created with mode 0600 when missing) gets the locks l,
// except a dot-lock that cannot be created (a file in a directory the
// user may not write to), must have one link and no execute bit, and is
// truncated back on a write error. A FIFO, socket or symbolic link is
// refused. Failures read "cannot append message to file PATH: ..." and
// are permanent (5.2.0) unless temporary, as Postfix's mbox_dsn says.
func DeliverFile(path string, msg *Message, content io.Reader, l Locks, limit int64) error {
	prefix := fmt.Sprintf("cannot append message to file %s: ", path)
	fail := func(err error, what string) error {
		return failure(err, prefix, what+errnoText(err))
	}
	refuse := func(dsn, why string) error {
		return &Error{DSN: dsn, Permanent: true, Text: fmt.Sprintf("cannot append message to file %s: %s", path, why)}
	}
	defer processLock(path)()
	st, statErr := os.Stat(path)
	regular := statErr != nil || st.Mode().IsRegular()
	if !regular && st.Mode()&os.ModeCharDevice == 0 {
		// A FIFO nobody reads would hold the delivery.
		return refuse("5.2.0", "file is not a regular file or a character device")
	}
	if l.Dotlock && regular {
		unlock, err := dotlock(path)
		switch {
		case err == nil:
			defer unlock()
		case errors.Is(err, unix.EAGAIN):
			return fail(err, "unable to lock for exclusive access: ")
		}
		// Otherwise the lock file cannot be made: as Postfix, go on
		// with the kernel locks alone.
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return refuse("5.2.0", "file is a symbolic link")
	}
	if err != nil {
		return fail(err, "cannot open file: ")
	}
	defer f.Close()
	fst, err := f.Stat()
	if err != nil {
		return fail(err, "cannot stat file: ")
	}
	if !fst.Mode().IsRegular() {
		if fst.Mode()&os.ModeCharDevice == 0 {
			return refuse("5.2.0", "file is not a regular file or a character device")
		}
		if err := msg.writeMbox(f, content); err != nil {
			return writeFailure(err, prefix)
		}
		return nil
	}
	if sys, ok := fst.Sys().(*syscall.Stat_t); ok && sys.Nlink != 1 {
		return refuse("5.2.0", fmt.Sprintf("file has %d hard links", sys.Nlink))
	}
	if fst.Mode()&0o111 != 0 {
		return refuse("5.7.1", "file is executable")
	}
	return appendEntry(f, msg, content, l, limit, prefix)
}
