// Fuzz test of cleanup's content processing: any content gives a readable queue file or a clean rejection.

package cleanup

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/queue"
)

func FuzzContent(f *testing.F) {
	f.Add([]byte("Subject: x\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n"), true)
	f.Add([]byte("Received: a\nReceived: b\nReceived: c\n\n"), false)
	f.Add([]byte("From nobody\nX: \n continued\n\tmore\nno header here\n"), true)
	f.Add([]byte(strings.Repeat("a", 200000)), false)
	f.Fuzz(func(t *testing.T, content []byte, local bool) {
		layout := queue.NewLayout(t.TempDir(), nil, 1, false)
		if err := layout.MakeDirs(); err != nil {
			t.Fatal(err)
		}
		s := baseSettings()
		s.MessageSizeLimit = 100000
		s.HopcountLimit = 3
		w, err := layout.Create(queue.Incoming)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abandon()
		if err := w.WriteEnvelope(&queue.Envelope{Sender: "s@x.example", Recipients: []queue.Recipient{{Address: "r@x.example"}}}); err != nil {
			t.Fatal(err)
		}
		sub := remote("s@x.example", "r@x.example")
		if local {
			sub.ClientName, sub.ClientAddress, sub.SubmitterUID = "", "", 7
		}
		cw := &contentWriter{s: s, w: w, sub: sub, sender: sub.Sender, local: local, uid: 7, now: testNow, addMiss: local}
		err = cw.copy(strings.NewReader(string(content)))
		if errors.Is(err, errTooBig) || errors.Is(err, errTooMany) {
			return
		}
		if err != nil {
			t.Fatalf("copy: %v", err)
		}
		if err := w.Commit(); err != nil {
			t.Fatal(err)
		}
		m, err := layout.Load(queue.Incoming, w.ID, nil)
		if err != nil {
			t.Fatalf("queue file does not read back: %v", err)
		}
		cr, err := queue.OpenContent(m.Path, m.Size.DataOffset)
		if err != nil {
			t.Fatal(err)
		}
		defer cr.Close()
		data, err := io.ReadAll(cr)
		if err != nil {
			t.Fatalf("content does not read back: %v", err)
		}
		if !strings.HasPrefix(string(data), "Received: ") {
			t.Errorf("content does not start with Received:: %q", data)
		}
		if local && !strings.Contains(string(data), "\nDate: ") {
			t.Errorf("local submission without Date: %q", data)
		}
	})
}
