// Parsing master.cf into entries and checking each column.

package mastercf

import (
	"io"
	"os"
)

// File is a parsed master.cf.
type File struct {
	Path string
	// Entries are all entries in file order, repeated service/type pairs
	// included (postconf -M shows them all).
	Entries []*Entry
	// Warnings are problems that did not stop the parse.
	Warnings []Warning
}

// Services returns the entries master runs: one per service/type pair, the
// last one written winning, in the order of those last occurrences.
func (f *File) Services() []*Entry {
	last := make(map[string]int, len(f.Entries))
	for i, e := range f.Entries {
		last[e.Key()] = i
	}
	out := make([]*Entry, 0, len(last))
	for i, e := range f.Entries {
		if last[e.Key()] == i {
			out = append(out, e)
		}
	}
	return out
}

// Lookup returns the entry master runs for service/type, or nil.
func (f *File) Lookup(service string, typ Type) *Entry {
	for i := len(f.Entries) - 1; i >= 0; i-- {
		if e := f.Entries[i]; e.Service == service && e.Type == typ {
			return e
		}
	}
	return nil
}

// ParseFile reads and parses the master.cf at path with Parse.
func ParseFile(path string) (*File, error) {
	return parseFile(path, false)
}

// ParseFileLenient reads and parses the master.cf at path with ParseLenient.
func ParseFileLenient(path string) (*File, error) {
	return parseFile(path, true)
}

func parseFile(path string, lenient bool) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, &openError{path: path, err: err}
	}
	defer fh.Close()
	return parse(fh, path, lenient)
}

// Parse reads master.cf as Postfix's master does. The first problem in an
// entry is returned as an *Error naming path and line, together with a File
// holding what was read before it (so its Warnings can still be shown).
func Parse(r io.Reader, path string) (*File, error) {
	return parse(r, path, false)
}

// ParseLenient reads master.cf as "postconf -M" does: a command of "-" and
// an inet service marked private are accepted, a malformed "{ }" word is a
// Warning rather than an Error, and an entry with fewer than eight columns
// is reported as ErrMissingField before its other columns are checked.
func ParseLenient(r io.Reader, path string) (*File, error) {
	return parse(r, path, true)
}

func parse(r io.Reader, path string, lenient bool) (*File, error) {
	f := &File{Path: path}
	warn := func(w Warning) { f.Warnings = append(f.Warnings, w) }
	lines, err := readLogicalLines(r, path, warn)
	if err != nil {
		return nil, err
	}
	for _, ll := range lines {
		e, err := parseEntry(ll, path, lenient, warn)
		if err != nil {
			return f, err
		}
		f.Entries = append(f.Entries, e)
	}
	return f, nil
}

// columns names the eight columns in postconf's words.
var columns = [...]string{"service", "type", "private", "unprivileged", "chroot", "wakeup", "process_limit", "command"}

func parseEntry(ll logicalLine, path string, lenient bool, warn func(Warning)) (*Entry, error) {
	fail := func(kind ErrorKind, field, value string) error {
		return &Error{Path: path, Line: ll.line, Text: ll.text, Kind: kind, Field: field, Value: value}
	}
	words := splitWords(ll.text)
	if lenient && len(words) < len(columns) {
		return nil, fail(ErrMissingField, columns[len(words)], "")
	}
	// Master checks the columns left to right, stopping at the first bad one.
	for i := 1; i < len(columns); i++ {
		if i >= len(words) {
			return nil, fail(ErrMissingField, columns[i], "")
		}
		if err := checkColumn(columns[i], words[i], lenient); err != nil {
			err.Path, err.Line, err.Text = path, ll.line, ll.text
			return nil, err
		}
		if i == 2 && !lenient && words[1] == string(TypeInet) && words[2] == "y" {
			return nil, fail(ErrInetPrivate, "private", "y")
		}
	}
	e := &Entry{
		Service: words[0], Type: Type(words[1]),
		Private: words[2], Unprivileged: words[3], Chroot: words[4],
		Wakeup: words[5], ProcessLimit: words[6], Command: words[7],
		Path: path, Line: ll.line,
		words: words[8:],
	}
	for _, word := range e.words {
		arg, err := unbrace(word)
		if err != nil && !lenient {
			return nil, &Error{Path: path, Line: ll.line, Text: ll.text, Kind: ErrBadArgument, Msg: err.Error()}
		}
		e.Args = append(e.Args, arg)
	}
	_, e.Options = readArgs(e.words, func(msg string) {
		warn(Warning{Kind: WarnArgument, Line: ll.line, Msg: msg})
	})
	return e, nil
}

// checkColumn validates one column's value; "-" takes the default.
func checkColumn(field, value string, lenient bool) *Error {
	bad := &Error{Kind: ErrBadValue, Field: field, Value: value}
	switch field {
	case "type":
		if value == "-" && !lenient {
			return &Error{Kind: ErrNoDefault, Field: field}
		}
		if !validType(value) {
			bad.Kind = ErrBadType
			return bad
		}
	case "private", "unprivileged", "chroot":
		if value != "-" && value != "y" && value != "n" {
			return bad
		}
	case "wakeup":
		digits := value
		if len(digits) > 1 && digits[len(digits)-1] == '?' {
			digits = digits[:len(digits)-1]
		}
		if value != "-" && !isNumber(digits) {
			return bad
		}
	case "process_limit":
		if value != "-" && !isNumber(value) {
			return bad
		}
	case "command":
		if value == "-" && !lenient {
			return &Error{Kind: ErrNoDefault, Field: field}
		}
	}
	return nil
}

// isNumber accepts a non-negative decimal number.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
