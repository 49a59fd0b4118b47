// Fuzz test of maildrop writing with -t: any input gives a readable file or ErrNoRecipients.

package maildrop

import (
	"errors"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/queue"
)

func FuzzWrite(f *testing.F) {
	f.Add([]byte("To: a@b\nBcc: c@d\n\nbody\n"))
	f.Add([]byte("To: \"x y\" <a@b>, group: c@d, e@f;\nCc: <>\n\n"))
	f.Add([]byte("To: @@@,,<\n continued\nbody without blank line\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		layout := queue.NewLayout(t.TempDir(), nil, 1, false)
		if err := layout.MakeDirs(); err != nil {
			t.Fatal(err)
		}
		sub := &Submission{Sender: "alice", FullName: "A \"B\" C", Origin: "x.example", ExtractRecipients: true}
		id, err := Write(layout, sub, strings.NewReader(string(content)))
		if errors.Is(err, ErrNoRecipients) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		m, err := layout.Load(queue.Maildrop, id, nil)
		if err != nil {
			t.Fatalf("maildrop file does not read back: %v", err)
		}
		if len(m.Pending()) == 0 {
			t.Error("file written without recipients")
		}
	})
}
