// The content path when header or body checks apply: the message is split
// into logical headers and body lines (MIME-aware, as Postfix's cleanup
// does) so that each can be looked up and acted upon.

package cleanup

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/postern/postern/pkg/header"
	"github.com/postern/postern/pkg/mimestate"
)

// checksApply reports whether any header or body check is configured.
func (s *Settings) checksApply() bool {
	return !s.HeaderChecks.Empty() || !s.MIMEHeaderChecks.Empty() ||
		!s.NestedHeaderChecks.Empty() || !s.BodyChecks.Empty()
}

// copyChecked streams the content from r through the checks. The caller
// drains r after an error.
func (c *contentWriter) copyChecked(r io.Reader) error {
	c.facts.have = map[string]bool{}
	sc := mimestate.New(checkedHandler{c}, c.s.DisableMIME)
	// smtpd's PREPEND lines and our own Received: header are inspected
	// like the others, as Postfix's are, but Received: does not count as
	// a hop.
	c.facts.hops = -1
	own := c.sub.Prepend + c.received()
	for _, line := range bytes.SplitAfter([]byte(own), []byte("\n")) {
		if len(line) > 0 {
			if err := sc.Line(bytes.TrimSuffix(line, []byte("\n"))); err != nil {
				return err
			}
		}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	inLongLine, dropping := false, false
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			complete := line[len(line)-1] == '\n'
			switch {
			case inLongLine && dropping:
				// the rest of an over-long header is cut, as Postfix
				// cuts headers at header_size_limit
			case inLongLine:
				if werr := c.write(line); werr != nil {
					return werr
				}
			default:
				c.partial = !complete
				if serr := sc.Line(trimLineEnd(line)); serr != nil {
					return serr
				}
				dropping = sc.Collecting()
			}
			inLongLine = !complete
		}
		if errors.Is(err, io.EOF) {
			if inLongLine && !dropping {
				if werr := c.write([]byte("\n")); werr != nil {
					return werr
				}
			}
			return sc.End()
		}
		if err != nil {
			return err
		}
	}
}

// readLine returns the next line with its LF; a line longer than the
// buffer comes back whole unless it exceeds headerLimit, when the first
// part is returned (it then cannot be a header).
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(line) > headerLimit {
				return line, nil
			}
			continue
		}
		return line, err
	}
}

// checkedHandler receives the scanner's headers and body lines.
type checkedHandler struct{ c *contentWriter }

func (h checkedHandler) Header(class mimestate.Class, text []byte) error {
	c := h.c
	name := header.Name(text)
	if class == mimestate.Primary && name == "received" {
		c.facts.hops++
	}
	res := c.check(c.headerChecksFor(class, text), contextHeader, string(text))
	text, keep, err := c.apply(res, text)
	if !keep {
		return err
	}
	if res.replace != "" {
		name = header.Name(text)
	}
	header := append(append([]byte(nil), text...), '\n')
	if class == mimestate.Primary {
		c.note(name, header)
		if c.headerContext != "" {
			header = c.rewriteHeader(name, header)
		}
	}
	return c.write(header)
}

func (h checkedHandler) EndPrimary() error { return h.c.endHeaders() }

func (h checkedHandler) Body(line []byte) error {
	c := h.c
	offset := c.bodyOffset
	c.bodyOffset += int64(len(line)) + 1
	if limit := c.s.BodyChecksSizeLimit; limit == 0 || offset < limit {
		var keep bool
		var err error
		if line, keep, err = c.apply(c.check(c.s.BodyChecks, contextBody, string(line)), line); !keep {
			return err
		}
	}
	if err := c.write(line); err != nil {
		return err
	}
	if c.partial && len(line) > 0 {
		return nil // the line goes on in the next piece
	}
	return c.write([]byte("\n"))
}

// apply carries out a check's edits of one header or body line: it
// writes a PREPENDed line first, and returns the line to write (REPLACEd
// or as it was) with keep false when the line is dropped or writing failed.
func (c *contentWriter) apply(res actResult, text []byte) (out []byte, keep bool, err error) {
	if res.prepend != "" {
		if err := c.write([]byte(res.prepend + "\n")); err != nil {
			return nil, false, err
		}
	}
	if res.drop {
		return nil, false, nil
	}
	if res.replace != "" {
		return []byte(res.replace), true, nil
	}
	return text, true, nil
}

// trimLineEnd removes LF or CRLF from the end of a line.
func trimLineEnd(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}
