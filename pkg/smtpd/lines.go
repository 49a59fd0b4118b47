// Reading SMTP input: command lines with line_length_limit, and DATA content with dot-unstuffing and bare-newline rules.

package smtpd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Errors the DATA reader ends with once the whole message has been read.
var (
	errMessageTooBig = errors.New("message file too big")
	errBareLF        = errors.New("bare <LF> received")
	// errClientGone is the DATA reader's error when the client hangs up
	// mid-message. It must not be io.EOF or io.ErrUnexpectedEOF: for
	// ipc.Conn.SendContent those mean a complete message.
	errClientGone = errors.New("lost connection")
)

// commandLine is one command as read from the client.
type commandLine struct {
	text      string // without the line end, truncated to the limit
	truncated bool   // the line was longer than the limit
	bareLF    bool   // it ended in <LF> without <CR>
}

// readCommand reads one command line. A line longer than limit is cut to
// limit bytes and the rest discarded up to its end, as Postfix does. A NUL
// ends the command where it stands, as in Postfix, whose smtpd handles the
// line as a C string: nothing after it is seen, replied or logged. A final
// line without any line end is an error (io.EOF or io.ErrUnexpectedEOF).
func readCommand(br *bufio.Reader, limit int) (commandLine, error) {
	var kept []byte
	total := 0
	var last2 [2]byte // the last two bytes read, for the line end
	for {
		piece, err := br.ReadSlice('\n')
		total += len(piece)
		room := len(piece)
		if limit > 0 {
			room = min(room, max(0, limit+2-len(kept)))
		}
		kept = append(kept, piece[:room]...)
		for _, b := range piece[max(0, len(piece)-2):] {
			last2[0], last2[1] = last2[1], b
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && total > 0 {
				err = io.ErrUnexpectedEOF
			}
			return commandLine{}, err
		}
		break
	}
	crlf := total >= 2 && last2[0] == '\r'
	length := total - 1
	if crlf {
		length--
	}
	cl := commandLine{bareLF: !crlf}
	if limit > 0 && length > limit {
		length = limit
		cl.truncated = true
	}
	line := kept[:length]
	if nul := bytes.IndexByte(line, 0); nul >= 0 {
		line = line[:nul]
	}
	cl.text = string(line)
	return cl, nil
}

// dataReader decodes the content of a DATA command: it removes the
// dot-stuffing, turns line ends into <LF>, and stops at the end-of-data
// line. Long lines pass through in pieces. Past the size limit it goes on
// reading but returns nothing more; when the message is complete it returns
// errMessageTooBig, errBareLF (reject mode) or io.EOF.
type dataReader struct {
	br    *bufio.Reader
	mode  BareNewline
	limit int64 // message_size_limit; 0 = none

	size        int64 // content bytes after decoding
	received    int64 // bytes read from the client
	atLineStart bool
	prevCRLF    bool // the line before ended in <CR><LF> (true at the start)
	sawBareLF   bool
	heldCR      bool // a long line's piece ended in <CR>, held back
	tooBig      bool
	pending     []byte
	// buf is pending's buffer, which pending starts over in once read
	// out: otherwise the queue moved along its buffer and needed new ones,
	// twice the message in garbage, smtpd's largest per message.
	buf []byte
	err error // set when the end was reached or reading failed
}

func newDataReader(br *bufio.Reader, mode BareNewline, limit int64) *dataReader {
	return &dataReader{br: br, mode: mode, limit: limit, atLineStart: true, prevCRLF: true}
}

// Read implements io.Reader.
func (d *dataReader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 && d.err == nil {
		d.step()
	}
	if len(d.pending) > 0 {
		n := copy(p, d.pending)
		d.pending = d.pending[n:]
		return n, nil
	}
	return 0, d.err
}

// complete reports whether the end-of-data line was read (whatever the
// verdict), as opposed to a read error from the client.
func (d *dataReader) complete() bool {
	return d.err == io.EOF || d.err == errMessageTooBig || d.err == errBareLF
}

// drain reads the rest of the message, discarding it.
func (d *dataReader) drain() {
	for d.err == nil {
		d.pending = nil
		d.step()
	}
	d.pending = nil
}

// step reads one piece of input: a whole line, or part of a long one.
func (d *dataReader) step() {
	piece, err := d.br.ReadSlice('\n')
	d.received += int64(len(piece))
	if err != nil && err != bufio.ErrBufferFull {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = errClientGone
		}
		d.err = err
		return
	}
	heldCR := d.heldCR
	d.heldCR = false
	if err == bufio.ErrBufferFull {
		// Part of a long line: no line end in it, so it cannot end DATA.
		if heldCR {
			d.emit([]byte{'\r'})
		}
		if d.atLineStart && piece[0] == '.' {
			piece = piece[1:]
		}
		d.atLineStart = false
		if n := len(piece); n > 0 && piece[n-1] == '\r' {
			// It may be the <CR> of a <CR><LF> split across pieces.
			piece, d.heldCR = piece[:n-1], true
		}
		d.emit(piece)
		return
	}
	if heldCR {
		if len(piece) == 1 {
			// The <LF> after a held <CR>: a long line ended in <CR><LF>.
			d.atLineStart, d.prevCRLF = true, true
			d.emit([]byte{'\n'})
			return
		}
		d.emit([]byte{'\r'})
	}
	crlf := len(piece) >= 2 && piece[len(piece)-2] == '\r'
	body := piece[:len(piece)-1]
	if crlf {
		body = body[:len(body)-1]
	} else {
		d.sawBareLF = true
	}
	lineStart := d.atLineStart
	prevCRLF := d.prevCRLF
	d.atLineStart, d.prevCRLF = true, crlf
	if lineStart && len(body) == 1 && body[0] == '.' {
		if d.mode == BareNewlineAllow || (crlf && prevCRLF) {
			d.finish()
			return
		}
		// "<LF>.<CR><LF>" or ".<LF>": not an end of data, a line "."
		d.emit(append(body, '\n'))
		return
	}
	if lineStart && len(body) > 0 && body[0] == '.' {
		body = body[1:]
	}
	d.emit(append(body, '\n'))
}

// finish records the verdict at the end-of-data line.
func (d *dataReader) finish() {
	switch {
	case d.tooBig:
		d.err = errMessageTooBig
	case d.mode == BareNewlineReject && d.sawBareLF:
		d.err = errBareLF
	default:
		d.err = io.EOF
	}
}

// emit queues decoded content unless the message is already too big. The
// slice may alias the bufio buffer, so it is copied.
func (d *dataReader) emit(b []byte) {
	d.size += int64(len(b))
	if d.limit > 0 && d.size > d.limit {
		d.tooBig = true
	}
	if d.tooBig {
		return
	}
	if len(d.pending) == 0 {
		d.pending = d.buf[:0]
	}
	d.pending = append(d.pending, b...)
	if cap(d.pending) > cap(d.buf) {
		d.buf = d.pending[:0]
	}
}
