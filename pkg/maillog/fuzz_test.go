// Fuzz test of log line formatting with hostile message text.

package maillog

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzAppendFileLine checks that no text can break a log line: the result
// is one line of valid UTF-8 without control characters, and its text part
// is at most MaxTextLength bytes.
func FuzzAppendFileLine(f *testing.F) {
	f.Add("NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1 denied")
	f.Add("a\nNov 28 13:01:26 mx postfix/smtpd[1]: forged\r\n")
	f.Add("\xff\xfe\x00\x7f\x1b[31m")
	f.Add(strings.Repeat("例", 700))
	at := time.Date(2026, time.November, 28, 13, 1, 26, 0, time.Local)
	const prefix = "Nov 28 13:01:26 mx postfix/smtpd[1]: warning: "
	f.Fuzz(func(t *testing.T, text string) {
		line := AppendFileLine(nil, at, "mx.example", "postfix/smtpd", 1, LevelWarning, text)
		if !bytes.HasPrefix(line, []byte(prefix)) || line[len(line)-1] != '\n' {
			t.Fatalf("malformed line %q", line)
		}
		body := line[len(prefix) : len(line)-1]
		if len(body) > MaxTextLength {
			t.Fatalf("text of %d bytes", len(body))
		}
		if !utf8.Valid(body) {
			t.Fatalf("invalid UTF-8 in %q", body)
		}
		for _, c := range body {
			if c < ' ' || c == 0x7f {
				t.Fatalf("control character 0x%02x in %q", c, body)
			}
		}
		if len(text) <= MaxTextLength && utf8.ValidString(text) && !strings.ContainsFunc(text, func(r rune) bool { return r < ' ' || r == 0x7f }) && string(body) != text {
			t.Fatalf("clean text %q changed to %q", text, body)
		}
	})
}
