// The delivery failure type: an enhanced status code, a text, and whether it is final.

package mailbox

import (
	"errors"
	"io/fs"
	"syscall"
)

// Error is a failed delivery, worded as Postfix logs it after "status=".
type Error struct {
	DSN       string // enhanced status code, e.g. "4.3.0" or "5.2.2"
	Text      string // e.g. "cannot update mailbox /x for user u. error writing message: File too large"
	Permanent bool   // bounce instead of defer
	// Warning is what the agent logs as a warning for this failure, ""
	// for none.
	Warning string

	reason     string // Text without the mailbox's prefix: "error writing message: ..."
	defaulted  bool   // DSN is the default of an open, lock or create error
	notRegular bool   // the mailbox is a FIFO or a device
}

func (e *Error) Error() string { return e.Text }

// ErrTooLarge is wrapped when a write would exceed the size limit.
var ErrTooLarge = errors.New("File too large")

// The status codes of errors that mboxDSN does not classify, as Postfix
// gives them: opening, locking or creating the mailbox (local's default;
// virtual's is setupSoftDSN), and writing the message (mail_copy's).
const (
	setupDSN     = "5.2.0"
	setupSoftDSN = "4.2.0"
	writeDSN     = "5.3.0"
)

// mboxDSN is the status code of err as Postfix's mbox_dsn chooses it:
// try again on EAGAIN and ESTALE (4.2.0), a full file system defers
// (4.3.0), a full mailbox (quota, file size, size limit) bounces (5.2.2),
// anything else gets def.
func mboxDSN(err error, def string) string {
	switch {
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.ESTALE):
		return "4.2.0"
	case errors.Is(err, syscall.ENOSPC):
		return "4.3.0"
	case errors.Is(err, ErrTooLarge), errors.Is(err, syscall.EFBIG), errors.Is(err, syscall.EDQUOT):
		return "5.2.2"
	}
	return def
}

// failure is an error opening, locking or creating the mailbox: reason
// (e.g. "cannot open file: Permission denied") after prefix, with
// mboxDSN's code, permanent (5.2.0) when err has no more specific one.
func failure(err error, prefix, reason string) *Error {
	dsn := mboxDSN(err, setupDSN)
	return &Error{DSN: dsn, Text: prefix + reason, Permanent: dsn[0] == '5',
		reason: reason, defaulted: dsn == setupDSN}
}

// writeFailure is an error writing the message: "error writing message:
// ..." after prefix, permanent (5.3.0) unless mboxDSN says otherwise, as
// Postfix's mail_copy reports it.
func writeFailure(err error, prefix string) *Error {
	reason := "error writing message: " + errnoText(err)
	dsn := mboxDSN(err, writeDSN)
	return &Error{DSN: dsn, Text: prefix + reason, Permanent: dsn[0] == '5', reason: reason}
}

// errnoText is the strerror-like text of err, as Postfix's %m prints it.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errnoMessage(errno)
	}
	if errors.Is(err, ErrTooLarge) {
		return ErrTooLarge.Error()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// errnoMessage capitalises Go's errno text as C's strerror does.
func errnoMessage(errno syscall.Errno) string {
	s := errno.Error()
	if s == "" {
		return s
	}
	if c := s[0]; c >= 'a' && c <= 'z' {
		s = string(c-'a'+'A') + s[1:]
	}
	return s
}
