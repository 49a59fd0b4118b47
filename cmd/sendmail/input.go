// Reading the message from standard input: the leading "From " line and the lone-dot end.

package main

import (
	"bufio"
	"errors"
	"io"
)

// inputReader yields the message on standard input. It drops a leading
// UNIX "From " line, and unless ignoreDots (-i, -oi) a line holding only
// "." ends the message, as with Sendmail.
type inputReader struct {
	br         *bufio.Reader
	ignoreDots bool
	first      bool
	atLineHead bool
	pending    []byte
	err        error
}

func newInputReader(r io.Reader, ignoreDots bool) *inputReader {
	return &inputReader{br: bufio.NewReaderSize(r, 64<<10), ignoreDots: ignoreDots, first: true, atLineHead: true}
}

func (in *inputReader) Read(p []byte) (int, error) {
	for len(in.pending) == 0 {
		if in.err != nil {
			return 0, in.err
		}
		in.fill()
	}
	n := copy(p, in.pending)
	in.pending = in.pending[n:]
	return n, nil
}

// fill reads the next piece of a line into pending, or sets err.
func (in *inputReader) fill() {
	piece, err := in.br.ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		in.err = err
	}
	lineStart := in.atLineHead
	in.atLineHead = err == nil // the piece ends with LF
	if lineStart {
		first := in.first
		in.first = false
		if first && len(piece) >= 5 && string(piece[:5]) == "From " {
			in.skipRest(in.atLineHead)
			return
		}
		if !in.ignoreDots && in.atLineHead && isLoneDot(piece) {
			in.err = io.EOF
			return
		}
		if !in.ignoreDots && in.err != nil && string(piece) == "." {
			return
		}
	}
	in.pending = append(in.pending[:0], piece...)
}

// skipRest drops the rest of a line whose start was already read.
func (in *inputReader) skipRest(complete bool) {
	for !complete && in.err == nil {
		_, err := in.br.ReadSlice('\n')
		switch {
		case err == nil:
			complete = true
		case !errors.Is(err, bufio.ErrBufferFull):
			in.err = err
		}
	}
	in.atLineHead = true
}

func isLoneDot(line []byte) bool {
	s := string(line)
	return s == ".\n" || s == ".\r\n"
}
