// Tests of command-line reading and of DATA decoding: dot-stuffing, long lines and the SMTP smuggling inputs.

package smtpd

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestDataReaderLineEnds(t *testing.T) {
	tests := []struct {
		name    string
		mode    BareNewline
		input   string
		content string // what cleanup gets
		err     error  // how the message ends
		rest    string // input left for the next command
	}{
		{"plain", BareNewlineNormalize, "a\r\nb\r\n.\r\nQUIT\r\n", "a\nb\n", io.EOF, "QUIT\r\n"},
		{"dot-stuffing", BareNewlineNormalize, "..x\r\n.\r\n", ".x\n", io.EOF, ""},
		{"empty message", BareNewlineNormalize, ".\r\n", "", io.EOF, ""},
		{"LF.CRLF does not end (normalize)", BareNewlineNormalize, "a\n.\r\nMAIL FROM:<x>\r\n.\r\n", "a\n.\nMAIL FROM:<x>\n", io.EOF, ""},
		{"LF.LF does not end (normalize)", BareNewlineNormalize, "a\n.\nb\r\n.\r\n", "a\n.\nb\n", io.EOF, ""},
		{"CRLF.LF does not end (normalize)", BareNewlineNormalize, "a\r\n.\nb\r\n.\r\n", "a\n.\nb\n", io.EOF, ""},
		{"bare CR never ends a line", BareNewlineNormalize, "a\r.\rb\r\n.\r\n", "a\r.\rb\n", io.EOF, ""},
		{"CR.CR does not end (allow)", BareNewlineAllow, "a\r.\r\r\n.\r\n", "a\r.\r\n", io.EOF, ""},
		{"LF.LF ends (allow, Postfix 3.7)", BareNewlineAllow, "a\n.\nrest", "a\n", io.EOF, "rest"},
		{"LF.CRLF ends (allow)", BareNewlineAllow, "a\n.\r\nrest", "a\n", io.EOF, "rest"},
		{"bare LF rejected", BareNewlineReject, "a\nb\r\n.\r\nNOOP\r\n", "a\nb\n", errBareLF, "NOOP\r\n"},
		{"LF.CRLF smuggling rejected", BareNewlineReject, "a\n.\r\nMAIL\r\n.\r\nNOOP\r\n", "a\n.\nMAIL\n", errBareLF, "NOOP\r\n"},
		{"clean message in reject mode", BareNewlineReject, "a\r\n.\r\n", "a\n", io.EOF, ""},
		{"client gone", BareNewlineNormalize, "a\r\nb", "a\n", errClientGone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tt.input), 16)
			dr := newDataReader(br, tt.mode, 0)
			got, err := io.ReadAll(dr)
			if errors.Is(tt.err, io.EOF) {
				if err != nil {
					t.Fatalf("ReadAll: %v", err)
				}
			} else if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err == nil && string(got) != tt.content {
				t.Errorf("content %q, want %q", got, tt.content)
			}
			if err != nil && tt.err != errClientGone {
				// The message is refused, but it was read to its end.
				if !dr.complete() {
					t.Errorf("reader not complete after %v", err)
				}
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != tt.rest {
				t.Errorf("left %q, want %q", rest, tt.rest)
			}
		})
	}
}

func TestDataReaderLongLinesAndLimit(t *testing.T) {
	long := strings.Repeat("x", 100)
	br := bufio.NewReaderSize(strings.NewReader("."+long+"\r\n.\r\n"), 16)
	got, err := io.ReadAll(newDataReader(br, BareNewlineNormalize, 0))
	if err != nil || string(got) != long+"\n" {
		t.Errorf("long line: %q, %v", got, err)
	}

	// A <CR><LF> split between two buffer fills is still a <CR><LF>.
	split := strings.Repeat("s", 15) + "\r\n.\r\n"
	br = bufio.NewReaderSize(strings.NewReader(split), 16)
	got, err = io.ReadAll(newDataReader(br, BareNewlineReject, 0))
	if err != nil || string(got) != strings.Repeat("s", 15)+"\n" {
		t.Errorf("split line end: %q, %v", got, err)
	}
	split = strings.Repeat("s", 15) + "\rx\r\n.\r\n"
	br = bufio.NewReaderSize(strings.NewReader(split), 16)
	got, err = io.ReadAll(newDataReader(br, BareNewlineReject, 0))
	if err != nil || string(got) != strings.Repeat("s", 15)+"\rx\n" {
		t.Errorf("bare CR at a buffer boundary: %q, %v", got, err)
	}

	br = bufio.NewReaderSize(strings.NewReader(long+"\r\n"+long+"\r\n.\r\nNOOP\r\n"), 16)
	dr := newDataReader(br, BareNewlineNormalize, 150)
	_, err = io.ReadAll(dr)
	if err != errMessageTooBig || !dr.complete() {
		t.Errorf("over the limit: %v", err)
	}
	if rest, _ := io.ReadAll(br); string(rest) != "NOOP\r\n" {
		t.Errorf("left %q", rest)
	}
}

func TestReadCommand(t *testing.T) {
	tests := []struct {
		input     string
		limit     int
		text      string
		truncated bool
		bareLF    bool
		err       error
	}{
		{"EHLO x\r\n", 2048, "EHLO x", false, false, nil},
		{"EHLO x\n", 2048, "EHLO x", false, true, nil},
		{"EHLO\rx\r\n", 2048, "EHLO\rx", false, false, nil},
		{"NOOP 123456\r\n", 6, "NOOP 1", true, false, nil},
		{"NOOP 1\r\n", 6, "NOOP 1", false, false, nil},
		{"NOOP " + strings.Repeat("y", 100) + "\r\n", 10, "NOOP yyyyy", true, false, nil},
		{"MAIL FROM:<a@b> \x00BODY=\x1b\r\n", 2048, "MAIL FROM:<a@b> ", false, false, nil},
		{"\x00NOOP\r\n", 2048, "", false, false, nil},
		{"", 2048, "", false, false, io.EOF},
		{"QUIT", 2048, "", false, false, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		br := bufio.NewReaderSize(strings.NewReader(tt.input), 16)
		got, err := readCommand(br, tt.limit)
		if err != tt.err {
			t.Errorf("%q: error %v, want %v", tt.input, err, tt.err)
			continue
		}
		if err == nil && (got.text != tt.text || got.truncated != tt.truncated || got.bareLF != tt.bareLF) {
			t.Errorf("%q: got %+v", tt.input, got)
		}
	}
}

func TestParseBareNewline(t *testing.T) {
	for in, want := range map[string]BareNewline{"no": BareNewlineAllow, "yes": BareNewlineNormalize, "Normalize": BareNewlineNormalize, "reject": BareNewlineReject} {
		if got, err := ParseBareNewline(in); err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
	if _, err := ParseBareNewline("maybe"); err == nil || err.Error() != `bad smtpd_forbid_bare_newline value: "maybe"` {
		t.Errorf("bad value: %v", err)
	}
}

func TestCommandStats(t *testing.T) {
	c := newCommandStats()
	if got := c.String(); got != " commands=0/0" {
		t.Errorf("empty: %q", got)
	}
	c.count("quit", true)
	c.count("mail", true)
	c.count("mail", false)
	c.count("ehlo", true)
	if got, want := c.String(), " ehlo=1 mail=1/2 quit=1 commands=3/4"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
