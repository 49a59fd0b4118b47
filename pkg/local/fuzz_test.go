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
	f.Fuzz(func(t *testing.T, content string) {
		found, err := readDeliveredTo(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil })
		if err != nil {
			t.Fatalf("error on in-memory content: %v", err)
		}
		header, _, _ := strings.Cut(content, "\n\n")
		for addr := range found {
			if addr != strings.ToLower(strings.TrimSpace(addr)) {
				t.Errorf("address %q not folded and trimmed", addr)
			}
			if !strings.Contains(strings.ToLower(header), addr) {
				t.Errorf("address %q not from the header section %q", addr, header)
			}
		}
	})
}
