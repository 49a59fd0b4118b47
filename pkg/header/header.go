// Package header reads the header block at the start of a message: one
// header at a time with its continuation lines, each bounded as Postfix's
// header_size_limit bounds it, and then the body. cleanup, maildrop and
// the local delivery agent read headers through it.
package header

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
)

// DefaultLimit is Postfix's header_size_limit default: a header that would
// grow past it is not buffered; its line starts the body instead.
const DefaultLimit = 102400

// readSize is the read buffer size: longer lines are read in parts.
const readSize = 64 << 10

// Scanner reads the headers of a message, then hands over the body.
//
// A header starts with a line "Name:" (a name of printable ASCII without
// space, then a colon) and takes the lines after it that start with a
// space or a tab. The first line that neither starts a header nor
// continues one, or that would make the header longer than the limit,
// starts the body; so does a line longer than the limit. Lines keep their
// line endings; a header the content ends inside gets a LF.
type Scanner struct {
	br    *bufio.Reader
	limit int

	line    []byte // the next line, read ahead; empty at the end
	readErr error  // what ended the input: io.EOF or a read error
	started bool
	done    bool

	header []byte
	name   string
	err    error
}

// NewScanner returns a scanner of the message that r yields, with headers
// of at most limit bytes.
func NewScanner(r io.Reader, limit int) *Scanner {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return &Scanner{br: br, limit: limit}
}

// readers keeps read buffers that Release gave back, for the next message.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readSize) }}

// Release gives the scanner's read buffer back for reuse by the next
// scanner. Neither the scanner nor its Body may be used afterwards; a
// scanner that is not released is left to the garbage collector.
func (s *Scanner) Release() {
	if s.br == nil {
		return
	}
	s.br.Reset(nil)
	readers.Put(s.br)
	s.br = nil
}

// Next advances to the next header. It returns false at the end of the
// header block or at a read error (see Err); Body then yields the rest.
func (s *Scanner) Next() bool {
	if s.done {
		return false
	}
	if !s.started {
		s.started = true
		s.advance()
	}
	name := Name(s.line)
	if len(s.line) == 0 || len(s.line) > s.limit || name == "" {
		s.end()
		return false
	}
	s.header, s.name = s.line, name
	for {
		s.advance()
		if len(s.line) == 0 || (s.line[0] != ' ' && s.line[0] != '\t') || len(s.header)+len(s.line) > s.limit {
			break
		}
		s.header = append(s.header, s.line...)
	}
	if len(s.line) == 0 && s.readErr != io.EOF {
		s.end() // a read error drops the header it cut short
		return false
	}
	if s.header[len(s.header)-1] != '\n' {
		s.header = append(s.header, '\n') // the content ended inside it
	}
	return true
}

// end marks the end of the header block.
func (s *Scanner) end() {
	s.done = true
	s.header, s.name = nil, ""
	if len(s.line) == 0 && s.readErr != io.EOF {
		s.err = s.readErr
	}
}

// advance reads the next line, with its LF; a line longer than the limit
// comes back as a first part a little longer than the limit, which
// cannot be a header.
func (s *Scanner) advance() {
	s.line = nil
	if s.readErr != nil {
		return
	}
	for {
		part, err := s.br.ReadSlice('\n')
		s.line = append(s.line, part...)
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(s.line) > s.limit {
				return
			}
			continue
		}
		s.readErr = err
		return
	}
}

// Header returns the current header with its continuation lines, ending
// in LF. It is valid until the next call of Next.
func (s *Scanner) Header() []byte { return s.header }

// Name returns the current header's name in lower case.
func (s *Scanner) Name() string { return s.name }

// Err returns the read error that ended the header block, if any.
func (s *Scanner) Err() error { return s.err }

// Body returns the rest of the message after the header block: the line
// that ended it and everything after. Call it once Next returned false
// and Err is nil.
func (s *Scanner) Body() io.Reader {
	if len(s.line) == 0 {
		return s.br
	}
	return io.MultiReader(bytes.NewReader(s.line), s.br)
}

// Name returns the lower-case name of a line that starts a header, or ""
// when it does not start one.
func Name(line []byte) string {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return ""
	}
	for _, ch := range line[:i] {
		if ch <= ' ' || ch > '~' {
			return ""
		}
	}
	return strings.ToLower(string(line[:i]))
}

// Value returns the value of a complete header, after its colon, with
// its white space (folding included) collapsed to single spaces.
func Value(header []byte) string {
	_, value, _ := bytes.Cut(header, []byte{':'})
	return strings.Join(strings.Fields(string(value)), " ")
}
