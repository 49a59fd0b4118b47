// Fuzz test of the queue file reader.

package queue

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// validFile returns a committed queue file's bytes.
func validFile(f *testing.F) []byte {
	w := writeMessage(f, newTestLayout(f), Incoming, testEnvelope(), "Subject: x\n\nbody\n")
	data, err := os.ReadFile(w.Path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func FuzzReadQueueFile(f *testing.F) {
	valid := validFile(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{byte(RecSize), 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte("C\x00E\x00"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadEnvelope(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		if m.Size.DataOffset <= 0 || m.Size.DataOffset > int64(len(data)) || m.ExtractedOffset > int64(len(data)) {
			t.Fatalf("accepted offsets out of range: %+v", m.Size)
		}
		for _, r := range m.Recipients {
			if r.Offset < 0 || r.Offset >= int64(len(data)) || (data[r.Offset] != byte(RecRcpt) && data[r.Offset] != byte(RecDone)) {
				t.Fatalf("recipient offset %d does not point at a recipient record", r.Offset)
			}
		}
		path := filepath.Join(dir, "msg")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := OpenContent(path, m.Size.DataOffset)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.ReadAll(c); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("content error does not wrap ErrCorrupt: %v", err)
		}
	})
}
