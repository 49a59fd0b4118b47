// Fuzz test of sendmail's standard-input reader.

package main

import (
	"io"
	"strings"
	"testing"
)

func FuzzInputReader(f *testing.F) {
	f.Add([]byte("Subject: x\n\n.\n"), false)
	f.Add([]byte("From a\r\n.\r\n"), true)
	f.Add([]byte("a\n.."), false)
	f.Fuzz(func(t *testing.T, in []byte, ignoreDots bool) {
		out, err := io.ReadAll(newInputReader(strings.NewReader(string(in)), ignoreDots))
		if err != nil {
			t.Fatal(err)
		}
		if len(out) > len(in) {
			t.Fatalf("output longer than input: %q -> %q", in, out)
		}
		if ignoreDots && !strings.HasPrefix(string(in), "From ") && string(out) != string(in) {
			t.Errorf("-i changed the input: %q -> %q", in, out)
		}
		if !ignoreDots && strings.Contains("\n"+string(out), "\n.\n") {
			t.Errorf("a lone dot line passed through: %q -> %q", in, out)
		}
	})
}
