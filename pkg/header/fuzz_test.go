// Fuzz test of the header-block scanner.

package header

import (
	"bytes"
	"io"
	"testing"
)

// FuzzScanner checks that the headers and the body put back together are
// the input (with the LF added to a header the input ended inside), and
// that every header is well formed and within the limit.
func FuzzScanner(f *testing.F) {
	f.Add([]byte("Subject: hi\nFrom: a@b\n\nbody\n"), 64)
	f.Add([]byte("Subject: one\n two\n\tthree\nTo: x"), 16)
	f.Add([]byte("X: y\r\n\r\n"), 8)
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		if limit < 1 || limit > 1<<16 {
			return
		}
		s := NewScanner(bytes.NewReader(data), limit)
		var got []byte
		for s.Next() {
			h := s.Header()
			if Name(h) != s.Name() || s.Name() == "" {
				t.Fatalf("header %q named %q", h, s.Name())
			}
			if len(h) > limit+1 || h[len(h)-1] != '\n' {
				t.Fatalf("header %q over the limit %d or without LF", h, limit)
			}
			if i := bytes.IndexByte(h, '\n'); i+1 < len(h) && h[i+1] != ' ' && h[i+1] != '\t' {
				t.Fatalf("header %q takes a line that does not continue it", h)
			}
			got = append(got, h...)
		}
		if s.Err() != nil {
			t.Fatal(s.Err())
		}
		body, err := io.ReadAll(s.Body())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, body...)
		if !bytes.Equal(got, data) && !bytes.Equal(got, append(bytes.Clone(data), '\n')) {
			t.Fatalf("headers and body %q, input %q", got, data)
		}
	})
}
