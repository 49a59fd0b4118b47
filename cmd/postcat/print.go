// The postcat output: envelope records, header and body text, and section markers, as Postfix prints them.

package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
)

// Where the printer is in the file.
type section int

const (
	inEnvelope section = iota
	inHeader
	inBody
)

// printQueueFile prints the records of one queue file read from r; path is
// the name shown in the section markers. A file that does not start like a
// queue file gets a warning and no output.
func printQueueFile(out *bufio.Writer, r io.Reader, path string, f flags, warn func(string)) error {
	in := bufio.NewReader(r)
	if start, err := in.Peek(1); err == nil && queue.RecordType(start[0]) != queue.RecSize {
		warn(fmt.Sprintf("%s: input is not a valid queue file", path))
		return nil
	}
	rr := queue.NewRecordReader(in, 0)
	first, err := rr.Next()
	p := &printer{out: out, path: path, f: f, printing: f.envelope}
	if f.envelope {
		fmt.Fprintf(out, "*** ENVELOPE RECORDS %s ***\n", path)
	}
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	for rec := first; ; {
		if !p.record(rec) {
			return nil
		}
		rec, err = rr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

type printer struct {
	out      *bufio.Writer
	path     string
	f        flags
	state    section
	printing bool
	prevType queue.RecordType
}

func (p *printer) prefix(rec queue.Record) {
	if p.f.offsets {
		fmt.Fprintf(p.out, "%9d ", rec.Offset)
	}
	if p.f.decimalType {
		fmt.Fprintf(p.out, "%3d ", rec.Type)
	}
}

func (p *printer) marker(rec queue.Record, text string) {
	p.prefix(rec)
	fmt.Fprintf(p.out, "*** %s %s ***\n", text, p.path)
}

// record prints one record; it returns false when nothing more is to be
// printed.
func (p *printer) record(rec queue.Record) bool {
	switch rec.Type {
	case queue.RecContent:
		if p.f.envelope {
			p.marker(rec, "MESSAGE CONTENTS")
		}
		p.state, p.printing = inHeader, p.f.header
		return true
	case queue.RecExtracted:
		if p.printing && p.prevType == queue.RecLinePart {
			p.out.WriteByte('\n')
		}
		if p.f.envelope {
			p.marker(rec, "HEADER EXTRACTED")
		}
		p.state, p.printing = inEnvelope, p.f.envelope
		return p.printing
	case queue.RecEnd:
		if p.f.envelope {
			p.marker(rec, "MESSAGE FILE END")
		}
		return false
	case queue.RecLine, queue.RecLinePart:
		if p.state == inHeader && p.prevType != queue.RecLinePart && !startsHeader(rec.Data) {
			p.state, p.printing = inBody, p.f.body
			if !p.printing && !p.f.envelope {
				return false
			}
		}
	}
	if !p.printing {
		return true
	}
	p.prefix(rec)
	p.prevType = rec.Type
	switch rec.Type {
	case queue.RecTime:
		secs, _, _ := strings.Cut(string(rec.Data), " ")
		fmt.Fprintf(p.out, "%s: %s\n", rec.Type.Name(), asctimeOf(secs))
	case queue.RecLine:
		p.out.Write(rec.Data)
		p.out.WriteByte('\n')
	case queue.RecLinePart:
		if p.state == inEnvelope {
			fmt.Fprintf(p.out, "%s: ", rec.Type.Name())
		}
		p.out.Write(rec.Data)
		if p.state == inEnvelope || p.f.offsets {
			p.out.WriteByte('\n')
			p.prevType = 0
		}
	case queue.RecAttr:
		name, value, ok := strings.Cut(string(rec.Data), "=")
		switch {
		case !ok:
			fmt.Fprintf(p.out, "%s: %s\n", rec.Type.Name(), rec.Data)
		case name == queue.AttrCreateTime:
			fmt.Fprintf(p.out, "%s: %s\n", queue.AttrCreateTime, asctimeOf(value))
		default:
			fmt.Fprintf(p.out, "%s: %s=%s\n", rec.Type.Name(), name, value)
		}
	default:
		fmt.Fprintf(p.out, "%s: %s\n", rec.Type.Name(), rec.Data)
	}
	return true
}

// asctimeOf formats decimal Unix seconds; a malformed value counts as 0,
// as atol makes it in Postfix.
func asctimeOf(secs string) string {
	n, _ := strconv.ParseInt(secs, 10, 64)
	return cli.Asctime(time.Unix(n, 0))
}

// startsHeader reports whether line is a header line: a field name of
// printable characters other than ':', optional blanks, then ':' — or a
// continuation line starting with a blank.
func startsHeader(line []byte) bool {
	if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		return true
	}
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
