// Tests of the header-block scanner.

package header

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// scan returns the headers and the body of content.
func scan(t *testing.T, content string, limit int) ([]string, string) {
	t.Helper()
	s := NewScanner(strings.NewReader(content), limit)
	var headers []string
	for s.Next() {
		headers = append(headers, s.Name()+"|"+string(s.Header()))
	}
	if s.Err() != nil {
		t.Fatalf("Err: %v", s.Err())
	}
	body, err := io.ReadAll(s.Body())
	if err != nil {
		t.Fatal(err)
	}
	return headers, string(body)
}

func TestScanner(t *testing.T) {
	long := "X-Long: " + strings.Repeat("a", 100) + "\n"
	tests := []struct {
		name, content string
		limit         int
		headers       []string
		body          string
	}{
		{"headers and body", "Subject: hi\nFrom: a@b\n\nbody\n", DefaultLimit,
			[]string{"subject|Subject: hi\n", "from|From: a@b\n"}, "\nbody\n"},
		{"continuation lines", "Subject: one\n two\n\tthree\nTo: x\n\nb", DefaultLimit,
			[]string{"subject|Subject: one\n two\n\tthree\n", "to|To: x\n"}, "\nb"},
		{"CRLF kept", "Subject: hi\r\n\r\nbody\r\n", DefaultLimit, []string{"subject|Subject: hi\r\n"}, "\r\nbody\r\n"},
		{"no body", "Subject: hi\n", DefaultLimit, []string{"subject|Subject: hi\n"}, ""},
		{"ends inside a header", "Subject: hi", DefaultLimit, []string{"subject|Subject: hi\n"}, ""},
		{"empty", "", DefaultLimit, nil, ""},
		{"body without blank line", "Subject: hi\nnot a header\nX: y\n", DefaultLimit,
			[]string{"subject|Subject: hi\n"}, "not a header\nX: y\n"},
		{"space in name", "Sub ject: hi\n", DefaultLimit, nil, "Sub ject: hi\n"},
		{"leading continuation", " Subject: hi\n", DefaultLimit, nil, " Subject: hi\n"},
		{"empty name", ": hi\n", DefaultLimit, nil, ": hi\n"},
		{"non-ASCII name", "Sübject: hi\n", DefaultLimit, nil, "Sübject: hi\n"},
		{"header over the limit starts the body", long + "To: x\n", 50, nil, long + "To: x\n"},
		{"continuation over the limit starts the body", "Subject: x\n" + " " + long + "To: x\n", 50,
			[]string{"subject|Subject: x\n"}, " " + long + "To: x\n"},
		{"header at the limit", "Subject: 12\n", 12, []string{"subject|Subject: 12\n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers, body := scan(t, tt.content, tt.limit)
			if strings.Join(headers, "") != strings.Join(tt.headers, "") || len(headers) != len(tt.headers) {
				t.Errorf("headers %q, want %q", headers, tt.headers)
			}
			if body != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
		})
	}
}

func TestScannerLineLongerThanBuffer(t *testing.T) {
	value := strings.Repeat("v", readSize+100)
	headers, body := scan(t, "Subject: "+value+"\n\nbody", DefaultLimit)
	if len(headers) != 1 || headers[0] != "subject|Subject: "+value+"\n" || body != "\nbody" {
		t.Errorf("headers %.40q..., body %q", headers, body)
	}
	huge := "Subject: " + strings.Repeat("v", DefaultLimit+readSize) + "\n"
	headers, body = scan(t, huge+"To: x\n", DefaultLimit)
	if len(headers) != 0 || body != huge+"To: x\n" {
		t.Errorf("an over-long line was taken as a header: %d headers", len(headers))
	}
}

func TestScannerReadError(t *testing.T) {
	broken := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("Subject: hi\nTo: cut"), iotest.ErrReader(broken))
	s := NewScanner(r, DefaultLimit)
	var names []string
	for s.Next() {
		names = append(names, s.Name())
	}
	if !errors.Is(s.Err(), broken) {
		t.Errorf("Err = %v, want %v", s.Err(), broken)
	}
	if strings.Join(names, ",") != "subject" {
		t.Errorf("headers %q: the one the error cut short must not come out", names)
	}
}

func TestNameAndValue(t *testing.T) {
	if got := Name([]byte("Message-ID: <x@y>\n")); got != "message-id" {
		t.Errorf("Name = %q", got)
	}
	if got := Value([]byte("Subject:  one\n\ttwo  three\n")); got != "one two three" {
		t.Errorf("Value = %q", got)
	}
	if got := Value([]byte("Subject:\n")); got != "" {
		t.Errorf("Value of an empty header = %q", got)
	}
}
