package mailbox

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzWriteMbox checks that any content becomes exactly one mbox entry:
// every line kept, only lines starting "From " quoted, a blank line at
// the end.
func FuzzWriteMbox(f *testing.F) {
	f.Add("Subject: x\n\nFrom me\n")
	f.Add("no newline")
	f.Add("")
	f.Add("From \nFrom\n>From x\n\n\nFrom ")
	f.Fuzz(func(t *testing.T, content string) {
		msg := &Message{Sender: "s@example.com", Recipient: "bob@example.test", Time: time.Unix(0, 0)}
		var out bytes.Buffer
		if err := msg.writeMbox(&out, strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		head := FromLine(msg.Sender, msg.Time) + msg.Headers()
		got, ok := strings.CutPrefix(out.String(), head)
		if !ok || !strings.HasSuffix(got, "\n") {
			t.Fatalf("entry %q lacks its From_ line, headers or final blank line", out.String())
		}
		if content != "" && !strings.HasSuffix(content, "\n") {
			content += "\n"
		}
		wantLines := strings.Split(content, "\n")
		gotLines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if len(gotLines) != len(wantLines) {
			t.Fatalf("%d lines out of %d: %q", len(gotLines), len(wantLines), got)
		}
		for i, want := range wantLines {
			if strings.HasPrefix(want, "From ") {
				want = ">" + want
			}
			if gotLines[i] != want {
				t.Fatalf("line %d = %q, want %q", i, gotLines[i], want)
			}
		}
	})
}
