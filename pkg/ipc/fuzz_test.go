// Fuzz test of the frame and message decoder.

package ipc

import (
	"bytes"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the frame decoder. Whatever decodes
// must encode to a frame that decodes to the same message again.
func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(AppendFrame(nil, m))
	}
	f.Add([]byte{1, 6, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add(frame(1, 8, 0, attrs(1, string(attrs(3, "\x01", 99, "new")))))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeFrame(bytes.NewReader(data), 1<<16)
		if err != nil {
			return
		}
		first := AppendFrame(nil, m)
		again, err := DecodeFrame(bytes.NewReader(first), 1<<16+HeaderSize)
		if err != nil {
			t.Fatalf("re-encoded %v does not decode: %v", m.Type(), err)
		}
		if second := AppendFrame(nil, again); !bytes.Equal(first, second) {
			t.Fatalf("%v is not stable across encode/decode:\n%x\n%x", m.Type(), first, second)
		}
	})
}
