// Package mimestate splits a message into logical headers and body lines
// the way Postfix's MIME engine does for header_checks, mime_header_checks,
// nested_header_checks and body_checks: primary headers, the headers of
// multipart body parts, the headers of attached messages, and body lines.
package mimestate

import (
	"bytes"
	"mime"
	"strings"
)

// Class says which header block a header belongs to.
type Class int

// Header classes, as Postfix's MIME_HDR_* name them.
const (
	Primary   Class = iota + 1 // the message's own headers
	Multipart                  // the headers of a multipart body part
	Nested                     // the headers of an attached message/rfc822
)

// Handler receives the pieces of a message in order.
type Handler interface {
	// Header is one logical header: its lines joined with "\n", without
	// a trailing newline.
	Header(class Class, text []byte) error
	// EndPrimary marks the end of the primary header block. The empty
	// line that ends it, if any, is passed to Body next.
	EndPrimary() error
	// Body is one body line without its line end.
	Body(line []byte) error
}

// HeaderLimit bounds one logical header as header_size_limit does;
// continuation lines past it are dropped.
const HeaderLimit = 102400

// maxDepth bounds the nesting of multipart boundaries (mime_nesting_limit).
const maxDepth = 100

type state int

const (
	statePrimary state = iota
	stateMultipart
	stateNested
	stateBody
)

// media type of the part being read, reduced to what the engine needs.
type ctype int

const (
	ctypeText ctype = iota
	ctypeMessageRFC822
	ctypeMessageOther
	ctypeMultipart
	ctypeOther
)

type boundary struct {
	text       []byte
	defaultRFC bool // multipart/digest: parts default to message/rfc822
}

// Scanner feeds lines to a Handler. The zero value is not usable; call New.
type Scanner struct {
	h           Handler
	disableMIME bool
	state       state
	ctype       ctype
	stack       []boundary
	header      []byte // the logical header being collected
	inHeader    bool
}

// New returns a scanner that starts in the primary headers. With
// disableMIME (disable_mime_input_processing, or postmap without -m) the
// body is never split into parts.
func New(h Handler, disableMIME bool) *Scanner {
	return &Scanner{h: h, disableMIME: disableMIME}
}

// Collecting reports whether the last line started or continued a
// header that is still being collected.
func (s *Scanner) Collecting() bool { return s.inHeader }

// Line takes the next line of the message, without its line end.
func (s *Scanner) Line(line []byte) error {
	if s.state != stateBody {
		if s.inHeader && len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if len(s.header)+1+len(line) <= HeaderLimit {
				s.header = append(s.header, '\n')
				s.header = append(s.header, line...)
			}
			return nil
		}
		if err := s.flushHeader(); err != nil {
			return err
		}
		if IsHeader(line) {
			s.header = append(s.header[:0], line...)
			s.inHeader = true
			return nil
		}
		if err := s.endHeaders(line); err != nil {
			return err
		}
	}
	return s.body(line)
}

// End flushes a header still being collected when the content ends.
func (s *Scanner) End() error {
	if s.state == stateBody {
		return nil
	}
	if err := s.flushHeader(); err != nil {
		return err
	}
	if s.state == statePrimary {
		s.state = stateBody
		return s.h.EndPrimary()
	}
	return nil
}

func (s *Scanner) class() Class {
	switch s.state {
	case stateMultipart:
		return Multipart
	case stateNested:
		return Nested
	}
	return Primary
}

func (s *Scanner) flushHeader() error {
	if !s.inHeader {
		return nil
	}
	s.inHeader = false
	if !s.disableMIME && headerNameIs(s.header, "content-type") {
		s.contentType(s.header[len("content-type:"):])
	}
	return s.h.Header(s.class(), s.header)
}

// endHeaders leaves a header block at line, which is not a header; the
// caller then passes line on as body text, as Postfix does.
func (s *Scanner) endHeaders(line []byte) error {
	wasPrimary := s.state == statePrimary
	if wasPrimary {
		if err := s.h.EndPrimary(); err != nil {
			return err
		}
	}
	switch {
	case len(line) == 0 && s.ctype == ctypeMessageRFC822:
		s.state, s.ctype = stateNested, ctypeText
	case len(line) == 0 && s.ctype == ctypeMultipart:
		s.state, s.ctype = stateBody, ctypeOther
	case len(line) == 0:
		s.state = stateBody
	case wasPrimary:
		// A non-header line ends the primary headers: Postfix inserts
		// the missing empty line.
		s.state = stateBody
		return s.h.Body(nil)
	default:
		s.state = stateBody
	}
	return nil
}

// body passes a body line on; a multipart boundary starts the headers
// of the next part.
func (s *Scanner) body(line []byte) error {
	if len(s.stack) > 0 && len(line) > 2 && line[0] == '-' && line[1] == '-' {
		for i := len(s.stack) - 1; i >= 0; i-- {
			b := s.stack[i]
			if !bytes.HasPrefix(line[2:], b.text) {
				continue
			}
			s.stack = s.stack[:i+1]
			if bytes.HasPrefix(line[2+len(b.text):], []byte("--")) {
				s.stack = s.stack[:i]
				s.state, s.ctype = stateBody, ctypeOther
			} else {
				s.state, s.ctype = stateMultipart, ctypeText
				if b.defaultRFC {
					s.ctype = ctypeMessageRFC822
				}
			}
			break
		}
	}
	return s.h.Body(line)
}

// contentType notes the media type of the current header block and
// pushes a multipart boundary.
func (s *Scanner) contentType(value []byte) {
	v := strings.TrimSpace(strings.ReplaceAll(string(value), "\n", " "))
	typ := v
	if i := strings.IndexByte(typ, ';'); i >= 0 {
		typ = typ[:i]
	}
	major, minor, _ := strings.Cut(strings.ToLower(strings.TrimSpace(typ)), "/")
	major, minor = strings.TrimSpace(major), strings.TrimSpace(minor)
	switch major {
	case "text":
		s.ctype = ctypeText
	case "message":
		s.ctype = ctypeMessageOther
		if minor == "rfc822" || minor == "global" {
			s.ctype = ctypeMessageRFC822
		}
	case "multipart":
		s.ctype = ctypeMultipart
		if b := boundaryParam(v); b != "" && len(s.stack) < maxDepth {
			s.stack = append(s.stack, boundary{text: []byte(b), defaultRFC: minor == "digest"})
		}
	default:
		s.ctype = ctypeOther
	}
}

// boundaryParam returns the boundary= parameter of a Content-Type value.
func boundaryParam(v string) string {
	if _, params, err := mime.ParseMediaType(v); err == nil {
		return params["boundary"]
	}
	// Be lenient with broken headers, as mail readers are.
	i := indexFold(v, "boundary")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(v[i+len("boundary"):], " \t")
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t")
	if strings.HasPrefix(rest, `"`) {
		if j := strings.IndexByte(rest[1:], '"'); j >= 0 {
			return rest[1 : 1+j]
		}
		return rest[1:]
	}
	if j := strings.IndexAny(rest, "; \t"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// IsHeader reports whether line starts a header: a name of printable
// characters other than ":", optional white space, then ":".
func IsHeader(line []byte) bool {
	i := 0
	for i < len(line) && line[i] > ' ' && line[i] < 0x7f && line[i] != ':' {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return i < len(line) && line[i] == ':'
}

// HeaderName returns a header's name as written, without trailing
// white space.
func HeaderName(header []byte) string {
	i := bytes.IndexByte(header, ':')
	if i < 0 {
		return ""
	}
	return strings.TrimRight(string(header[:i]), " \t")
}

func headerNameIs(header []byte, lowerName string) bool {
	return strings.EqualFold(HeaderName(header), lowerName)
}

// IsMIMEHeader reports whether a header is one of those Postfix checks
// with mime_header_checks wherever it appears (Content-*, MIME-Version).
func IsMIMEHeader(header []byte) bool {
	switch strings.ToLower(HeaderName(header)) {
	case "content-description", "content-disposition", "content-id",
		"content-transfer-encoding", "content-type", "mime-version":
		return true
	}
	return false
}

// indexFold is strings.Index ignoring ASCII case; it never changes byte
// offsets, whatever the encoding of s.
func indexFold(s, lowerWord string) int {
	for i := 0; i+len(lowerWord) <= len(s); i++ {
		match := true
		for j := 0; j < len(lowerWord); j++ {
			ch := s[i+j]
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			if ch != lowerWord[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}
