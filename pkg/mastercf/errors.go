// Errors and warnings from reading master.cf, worded as Postfix's master words them.

package mastercf

import (
	"errors"
	"fmt"
	"syscall"
)

// ErrorKind says what is wrong with an entry.
type ErrorKind int

// The kinds of entry errors.
const (
	// ErrMissingField: the line ends before Field.
	ErrMissingField ErrorKind = iota + 1
	// ErrNoDefault: Field (type or command) is "-", which has no default.
	ErrNoDefault
	// ErrBadType: the type column is not a known service type.
	ErrBadType
	// ErrBadValue: a y/n or numeric column holds something else.
	ErrBadValue
	// ErrInetPrivate: an inet service with "y" in the private column.
	ErrInetPrivate
	// ErrBadArgument: a "{ ... }" argument is not closed or has text after "}".
	ErrBadArgument
)

// Error is a fatal problem in one master.cf entry.
type Error struct {
	Path  string
	Line  int    // first line of the entry
	Text  string // the entry's text, continuation lines joined
	Kind  ErrorKind
	Field string // postconf's field name: "type", "private", "unprivileged", "chroot", "wakeup", "process_limit", "command"
	Value string // the offending value, for ErrBadType and ErrBadValue
	Msg   string // the detail, for ErrBadArgument
}

// masterFieldNames are the names master uses for fields in its messages.
var masterFieldNames = map[string]string{
	"type":          "transport type",
	"wakeup":        "wakeup_time",
	"process_limit": "max_proc",
}

func masterFieldName(field string) string {
	if name, ok := masterFieldNames[field]; ok {
		return name
	}
	return field
}

// Error words the problem as Postfix's master does, e.g.
// `/etc/postfix/master.cf: line 12: field "private": bad value: "x"`.
func (e *Error) Error() string {
	var detail string
	switch e.Kind {
	case ErrMissingField:
		detail = fmt.Sprintf("missing \"%s\" field", masterFieldName(e.Field))
	case ErrNoDefault:
		detail = fmt.Sprintf("field \"%s\" has no default value", masterFieldName(e.Field))
	case ErrBadType:
		detail = "bad transport type: " + e.Value
	case ErrBadValue:
		detail = fmt.Sprintf("field \"%s\": bad value: \"%s\"", masterFieldName(e.Field), e.Value)
	case ErrInetPrivate:
		detail = "inet service cannot be private"
	default:
		detail = e.Msg
	}
	return fmt.Sprintf("%s: line %d: %s", e.Path, e.Line, detail)
}

// WarningKind says what a Warning is about.
type WarningKind int

// The kinds of warnings.
const (
	// WarnLeadingWhitespace: text indented with no entry above it; dropped.
	WarnLeadingWhitespace WarningKind = iota + 1
	// WarnArgument: a malformed "{ }" word or "-o" value that postconf
	// reports and master passes on to the daemon (or, for "{ }" words, master
	// rejects: Parse makes those an Error).
	WarnArgument
)

// Warning is a problem that does not stop master.cf from being read.
type Warning struct {
	Kind WarningKind
	Line int
	Msg  string // e.g. `missing '=' after attribute name: "a b"`
}

// openError reports a master.cf that cannot be opened, worded as Postfix's
// "open /etc/postfix/master.cf: No such file or directory".
type openError struct {
	path string
	err  error
}

func (e *openError) Error() string { return "open " + e.path + ": " + strerror(e.err) }

func (e *openError) Unwrap() error { return e.err }

// strerror words a system error as C's strerror does: capitalised.
func strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	text := errno.Error()
	if text != "" && text[0] >= 'a' && text[0] <= 'z' {
		text = string(text[0]-'a'+'A') + text[1:]
	}
	return text
}
