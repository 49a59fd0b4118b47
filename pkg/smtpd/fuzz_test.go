// Fuzz tests of the input readers: no panic, and decoded DATA never holds an end-of-data line.

package smtpd

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

func FuzzDataReader(f *testing.F) {
	f.Add("a\r\n.\r\n", uint8(1))
	f.Add("a\n.\r\nMAIL\r\n.\r\n", uint8(2))
	f.Add("..x\r.\r\n\n.\n", uint8(0))
	f.Add(strings.Repeat("y", 70)+"\r\n.\r\n", uint8(1))
	f.Fuzz(func(t *testing.T, input string, mode uint8) {
		m := BareNewline(mode % 3)
		br := bufio.NewReaderSize(strings.NewReader(input), 16)
		dr := newDataReader(br, m, 64)
		got, err := io.ReadAll(dr)
		// Where the buffer boundaries fall must not change the result.
		wide := newDataReader(bufio.NewReaderSize(strings.NewReader(input), 4096), m, 64)
		// (A refused message may stop at different points: only the
		// verdict counts then.)
		if gotWide, errWide := io.ReadAll(wide); errWide != err || (err == nil && string(gotWide) != string(got)) {
			t.Fatalf("buffer size changes the result: %q, %v vs %q, %v", got, err, gotWide, errWide)
		}
		if err == nil && int64(len(got)) > 64 {
			t.Fatalf("%d bytes passed a 64-byte limit", len(got))
		}
		if err == nil && !strings.Contains(input, "\n") {
			t.Fatalf("message without any line end completed: %q", input)
		}
		if m != BareNewlineAllow && err == nil && !strings.Contains(input, "\r\n.\r\n") && !strings.HasPrefix(input, ".\r\n") {
			t.Fatalf("mode %d: message ended without <CR><LF>.<CR><LF>: %q", m, input)
		}
	})
}

func FuzzReadCommand(f *testing.F) {
	f.Add("EHLO x\r\n", 2048)
	f.Add("NOOP 123456789\n", 5)
	f.Add("\r\r\n\n", 1)
	f.Fuzz(func(t *testing.T, input string, limit int) {
		limit = limit%100 + 1
		if limit < 1 {
			limit = -limit + 1
		}
		cl, err := readCommand(bufio.NewReaderSize(strings.NewReader(input), 16), limit)
		if wide, errWide := readCommand(bufio.NewReaderSize(strings.NewReader(input), 4096), limit); wide != cl || errWide != err {
			t.Fatalf("buffer size changes the result: %+v, %v vs %+v, %v", cl, err, wide, errWide)
		}
		if err == nil && len(cl.text) > limit {
			t.Fatalf("line of %d bytes over limit %d", len(cl.text), limit)
		}
		if err == nil && strings.Contains(cl.text, "\n") {
			t.Fatalf("line holds a newline: %q", cl.text)
		}
	})
}
