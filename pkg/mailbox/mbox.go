// mbox delivery: append one From_-separated entry under the configured locks, or leave the file as it was.

package mailbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// DeliverMbox appends content to the mbox file path (created with mode
// 0600 when missing) under the locks l. The file must be a regular file
// with one link; a symbolic link is refused. limit > 0 bounds the size
// of the whole file. On a write error the file is truncated back to its
// size before the delivery. recipient names the user in error texts.
func DeliverMbox(path string, msg *Message, content io.Reader, l Locks, limit int64) error {
	return deliverMbox(path, msg, content, l, limit, -1)
}

// deliverMbox is DeliverMbox; with owner >= 0 (strict_mailbox_ownership)
// a file that user ID owner does not own is left alone and the delivery
// deferred (4.2.0), as Postfix's local and virtual do.
func deliverMbox(path string, msg *Message, content io.Reader, l Locks, limit int64, owner int) error {
	prefix := fmt.Sprintf("cannot update mailbox %s for user %s. ", path, msg.Recipient)
	fail := func(err error, what string) error {
		return failure(err, prefix, what+errnoText(err))
	}
	defer processLock(path)()
	if l.Dotlock {
		unlock, err := dotlock(path)
		if err != nil {
			return fail(err, "unable to lock for exclusive access: ")
		}
		defer unlock()
	}
	// A FIFO or a device is refused before it is opened, and the open
	// itself does not wait (O_NONBLOCK) should one appear in between:
	// a FIFO nobody reads would block the delivery forever. (A socket
	// cannot be opened: ENXIO, as in Postfix.)
	if st, err := os.Lstat(path); err == nil && st.Mode()&(os.ModeNamedPipe|os.ModeDevice|os.ModeCharDevice) != 0 {
		return notRegular(path, prefix)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|noFollow|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return refuse(prefix, "file is a symbolic link")
	}
	if err != nil {
		return fail(err, "cannot open file: ")
	}
	defer f.Close()
	uid, err := checkRegular(f)
	if errors.Is(err, errNotRegular) {
		return notRegular(path, prefix)
	} else if err != nil {
		return refuse(prefix, err.Error())
	}
	if owner >= 0 && uid != owner {
		return notOwned(path, prefix)
	}
	return appendEntry(f, msg, content, l, limit, prefix)
}

// notOwned is the deferral of an mbox file that the recipient does not
// own, with Postfix's hint as the warning to log.
func notOwned(path, prefix string) *Error {
	reason := fmt.Sprintf("destination %s is not owned by recipient", path)
	return &Error{DSN: setupSoftDSN, Text: prefix + reason, reason: reason,
		Warning: `specify "strict_mailbox_ownership = no" to ignore mailbox ownership mismatch`}
}

// refuse is the permanent failure of a mailbox that is not a plain file.
func refuse(prefix, reason string) *Error {
	return &Error{DSN: setupDSN, Text: prefix + reason, Permanent: true, reason: reason}
}

// notRegular is the permanent failure of a mailbox that is a FIFO or a
// device, worded as Postfix's local words it; Deliver rewords it for
// virtual.
func notRegular(path, prefix string) *Error {
	reason := fmt.Sprintf("destination %s is not a regular file", path)
	return &Error{DSN: setupDSN, Text: prefix + reason, Permanent: true, reason: reason, notRegular: true}
}

// errNotRegular is checkRegular's error for a file that is not a regular
// file.
var errNotRegular = errors.New("not a regular file")

// checkRegular refuses a mailbox that is not a regular file with exactly
// one hard link, as Postfix's safe_open and mailbox delivery do, and
// returns its owner's user ID.
func checkRegular(f *os.File) (uid int, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("cannot stat file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return 0, errNotRegular
	}
	sys := st.Sys().(*syscall.Stat_t)
	if sys.Nlink != 1 {
		return 0, fmt.Errorf("file has %d hard links", sys.Nlink)
	}
	return int(sys.Uid), nil
}

// OpenError is the failure of a delivery to user's mbox file path that
// could not be created or opened (err), as DeliverMbox words it.
func OpenError(path, user string, err error) *Error {
	return failure(err, fmt.Sprintf("cannot update mailbox %s for user %s. ", path, user), "cannot open file: "+errnoText(err))
}

// appendEntry appends content as an mbox entry to the open file f under
// the kernel locks of l, within limit (> 0) for the whole file, and syncs
// it; on a write error the file is truncated back to its size before.
// prefix starts the error texts.
func appendEntry(f *os.File, msg *Message, content io.Reader, l Locks, limit int64, prefix string) error {
	if err := kernelLocks(f, l); err != nil {
		return failure(err, prefix, "unable to lock for exclusive access: "+errnoText(err))
	}
	start, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return failure(err, prefix, "cannot seek: "+errnoText(err))
	}
	max := int64(0)
	if limit > 0 {
		max = limit - start
		if max <= 0 {
			return writeFailure(ErrTooLarge, prefix)
		}
	}
	err = msg.writeMbox(&limitWriter{w: f, max: max}, content)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Truncate(start)
		return writeFailure(err, prefix)
	}
	return nil
}
