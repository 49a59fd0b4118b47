// Fuzz test of the Delivered-To: scan over arbitrary message content.

package local

import (
	"io"
	"strings"
	"testing"
)

func FuzzDeliveredTo(f *testing.F) {
	f.Add("Delivered-To: Bob@Example.test\nSubject: x\n\nDelivered-To: body@example.test\n")
	f.Add("delivered-to:a@b\r\n\r\n")
	f.Add("Delivered-To")
	f.Add("Delivered-To:\n\tFolded@example.test\nX: y\n\n")
	f.Fuzz(func(t *testing.T, content string) {
		found, err := readDeliveredTo(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil })
		if err != nil {
			t.Fatalf("error on in-memory content: %v", err)
		}
		header, _, _ := strings.Cut(content, "\n\n")
		header = strings.Join(strings.Fields(strings.ToLower(header)), " ")
		for addr := range found {
			if addr != strings.ToLower(strings.TrimSpace(addr)) {
				t.Errorf("address %q not folded and trimmed", addr)
			}
			if !strings.Contains(header, addr) {
				t.Errorf("address %q not from the header section %q", addr, header)
			}
		}
	})
}

func TestDeliveredToFoldedAndEndOfHeaders(t *testing.T) {
	content := "Delivered-To:\n\tFolded@Example.test\nSubject: x\nnot a header\nDelivered-To: body@example.test\n"
	found, err := readDeliveredTo(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !found["folded@example.test"] {
		t.Errorf("found %v, want only folded@example.test", found)
	}
}
