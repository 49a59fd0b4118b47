// Tests of reply parsing and dot-stuffing.

package smtpclient

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		in, text, dsn string
		wantErr       bool
	}{
		{in: "250 2.0.0 Ok: queued as X\r\n", text: "250 2.0.0 Ok: queued as X", dsn: "2.0.0"},
		{in: "250-mx.test\r\n250-SIZE 100\r\n250 STARTTLS\r\n", text: "250 mx.test SIZE 100 STARTTLS", dsn: "2.0.0"},
		{in: "550 no such user\r\n", text: "550 no such user", dsn: "5.0.0"},
		{in: "450 4.7.1 greylisted\n", text: "450 4.7.1 greylisted", dsn: "4.7.1"},
		{in: "550 4.7.1 mismatched class\r\n", text: "550 4.7.1 mismatched class", dsn: "5.0.0"},
		{in: "354\r\n", text: "354 ", dsn: "3.0.0"},
		{in: "25\r\n", wantErr: true},
		{in: "abc hello\r\n", wantErr: true},
		{in: "999 out of range\r\n", wantErr: true},
		{in: "250-first\r\n550 second\r\n", wantErr: true},
		{in: "250-unterminated\r\n", wantErr: true},
	}
	for _, tt := range tests {
		r, err := readReply(bufio.NewReader(strings.NewReader(tt.in)))
		if tt.wantErr {
			if err == nil {
				t.Errorf("readReply(%q) = %+v, want error", tt.in, r)
			}
			continue
		}
		if err != nil || r.Text() != tt.text || r.DSN() != tt.dsn {
			t.Errorf("readReply(%q) = %q %q %v, want %q %q", tt.in, r.Text(), r.DSN(), err, tt.text, tt.dsn)
		}
	}
}

func TestWriteDotStuffed(t *testing.T) {
	long := strings.Repeat("x", 5000)
	tests := []struct{ in, want string }{
		{"a\nb\n", "a\r\nb\r\n.\r\n"},
		{".\n..x\n", "..\r\n...x\r\n.\r\n"},
		{"no newline", "no newline\r\n.\r\n"},
		{"crlf\r\n", "crlf\r\n.\r\n"},
		{"", ".\r\n"},
		{"." + long + "\nz\n", ".." + long + "\r\nz\r\n.\r\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		if err := writeDotStuffed(w, strings.NewReader(tt.in)); err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		if out.String() != tt.want {
			t.Errorf("writeDotStuffed(%.20q) = %.40q, want %.40q", tt.in, out.String(), tt.want)
		}
	}
}
