// Fuzz test of pickup's reading of a maildrop file, which any user of the postdrop group can write: no panic, no unbounded content.

package pickup

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/maildrop"
	"github.com/postern/postern/pkg/queue"
)

func FuzzMaildropFile(f *testing.F) {
	layout := queue.NewLayout(f.TempDir(), nil, 1, false)
	if err := layout.MakeDirs(); err != nil {
		f.Fatal(err)
	}
	for _, sub := range []*maildrop.Submission{
		{Sender: "alice", Recipients: []string{"bob", "carol@example.test"}},
		{Sender: "", FullName: "Alice", ExtractRecipients: true, Origin: "example.test"},
	} {
		id, err := maildrop.Write(layout, sub, strings.NewReader("To: dave\nSubject: s\n\nbody\nlong "+strings.Repeat("x", 300)+"\n"))
		if err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(layout.Path(queue.Maildrop, id))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	f.Add([]byte("C\x00\x00T\x0a1700000000\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "4ABCDE1234")
		if err := os.WriteFile(path, data, 0o744); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o744); err != nil {
			t.Fatal(err)
		}
		mf, err := openMaildrop(path)
		if err != nil {
			return
		}
		defer mf.file.Close()
		m, err := queue.ReadEnvelope(mf.file)
		if err != nil {
			return
		}
		m.Pending()
		content, err := mf.contentReader(m.Size.DataOffset)
		if err != nil {
			return
		}
		// The content can never be longer than the file that holds it
		// plus one line end per record.
		got, _ := io.Copy(io.Discard, io.LimitReader(content, int64(2*len(data)+2)))
		if got > int64(2*len(data)+1) {
			t.Fatalf("%d bytes of content from a %d-byte file", got, len(data))
		}
	})
}
