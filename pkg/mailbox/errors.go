// The delivery failure type: an enhanced status code, a text, and whether it is final.

package mailbox

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Error is a failed delivery, worded as Postfix logs it after "status=".
type Error struct {
	DSN       string // enhanced status code, "4.2.0" or "5.2.2"
	Text      string // e.g. "cannot update mailbox /x for user u. error writing message: File too large"
	Permanent bool   // bounce instead of defer
}

func (e *Error) Error() string { return e.Text }

// ErrTooLarge is wrapped when a write would exceed the size limit.
var ErrTooLarge = errors.New("File too large")

// failure turns err into an *Error with text, choosing the status code
// as Postfix's mbox_dsn does: exceeding the size limit bounces (5.2.2), a
// full disk or quota defers (4.3.1), anything else defers (4.2.0).
func failure(err error, format string, args ...any) *Error {
	text := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, ErrTooLarge), errors.Is(err, syscall.EFBIG):
		return &Error{DSN: "5.2.2", Text: text, Permanent: true}
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return &Error{DSN: "4.3.1", Text: text}
	}
	return &Error{DSN: "4.2.0", Text: text}
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
