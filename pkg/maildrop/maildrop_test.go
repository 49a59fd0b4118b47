// Tests of writing maildrop files and reading them back as pickup does.

package maildrop

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/queue"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name        string
		sub         Submission
		content     string
		wantRcpts   []string
		wantContent string
		wantErr     error
	}{
		{
			name:        "command-line recipients, content kept",
			sub:         Submission{Sender: "alice", Recipients: []string{"bob@x.example"}},
			content:     "Subject: hi\r\nBcc: secret@x.example\r\n\r\nbody\r\n",
			wantRcpts:   []string{"bob@x.example"},
			wantContent: "Subject: hi\nBcc: secret@x.example\n\nbody\n",
		},
		{
			name:        "-t extracts To Cc Bcc and drops Bcc",
			sub:         Submission{Sender: "alice", ExtractRecipients: true, Recipients: []string{"extra@x.example"}},
			content:     "To: Bob <bob@x.example>,\n carol@x.example\nCc: dave@x.example\nBcc: eve@x.example\nSubject: s\n\nTo: not@header.example\n",
			wantRcpts:   []string{"extra@x.example", "bob@x.example", "carol@x.example", "dave@x.example", "eve@x.example"},
			wantContent: "To: Bob <bob@x.example>,\n carol@x.example\nCc: dave@x.example\nSubject: s\n\nTo: not@header.example\n",
		},
		{
			name:        "-t with Resent- headers uses only those",
			sub:         Submission{Sender: "alice", ExtractRecipients: true},
			content:     "To: old@x.example\nResent-From: a@x.example\nResent-To: new@x.example\nResent-Bcc: hid@x.example\n\nbody\n",
			wantRcpts:   []string{"new@x.example", "hid@x.example"},
			wantContent: "To: old@x.example\nResent-From: a@x.example\nResent-To: new@x.example\n\nbody\n",
		},
		{
			name:        "full name adds From",
			sub:         Submission{Sender: "alice", FullName: "Alice Smith", Origin: "test.example", Recipients: []string{"bob"}},
			content:     "Subject: s\n\nbody\n",
			wantRcpts:   []string{"bob"},
			wantContent: "Subject: s\nFrom: Alice Smith <alice@test.example>\n\nbody\n",
		},
		{
			name:        "existing From kept",
			sub:         Submission{Sender: "alice", FullName: "Alice Smith", Recipients: []string{"bob"}},
			content:     "From: me@x.example\n\nbody",
			wantRcpts:   []string{"bob"},
			wantContent: "From: me@x.example\n\nbody\n",
		},
		{
			name:        "-t keeps the other addresses of a header with a control character",
			sub:         Submission{Sender: "alice", ExtractRecipients: true},
			content:     "To: good@x.example, \x01a@x.example, other@x.example\nSubject: s\n\nbody\n",
			wantRcpts:   []string{"good@x.example", "\x01a@x.example", "other@x.example"},
			wantContent: "To: good@x.example, \x01a@x.example, other@x.example\nSubject: s\n\nbody\n",
		},
		{
			name:    "-t without recipients",
			sub:     Submission{Sender: "alice", ExtractRecipients: true},
			content: "Subject: s\n\nbody\n",
			wantErr: ErrNoRecipients,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			layout := queue.NewLayout(dir, nil, 1, false)
			if err := layout.MakeDirs(); err != nil {
				t.Fatal(err)
			}
			id, err := Write(layout, &tt.sub, strings.NewReader(tt.content))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if entries, _ := os.ReadDir(dir + "/maildrop"); len(entries) != 0 {
					t.Errorf("maildrop holds %d files after a failure", len(entries))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ready, err := queue.Ready(layout.Path(queue.Maildrop, id)); err != nil || !ready {
				t.Errorf("file not marked complete: %v %v", ready, err)
			}
			m, err := layout.Load(queue.Maildrop, id, func(w string) { t.Error(w) })
			if err != nil {
				t.Fatal(err)
			}
			var rcpts []string
			for _, r := range m.Pending() {
				rcpts = append(rcpts, r.Address)
			}
			if strings.Join(rcpts, ",") != strings.Join(tt.wantRcpts, ",") {
				t.Errorf("recipients %v, want %v", rcpts, tt.wantRcpts)
			}
			if m.Sender != tt.sub.Sender || m.FullName != tt.sub.FullName {
				t.Errorf("sender %q (%q)", m.Sender, m.FullName)
			}
			cr, err := queue.OpenContent(m.Path, m.Size.DataOffset)
			if err != nil {
				t.Fatal(err)
			}
			defer cr.Close()
			data, _ := io.ReadAll(cr)
			if string(data) != tt.wantContent {
				t.Errorf("content %q, want %q", data, tt.wantContent)
			}
		})
	}
}

// TestMaildropFileReadableByPickup: a committed maildrop file is mode 0744,
// as Postfix's postdrop leaves it, so that pickup (mail_owner) can read a
// file written by root or by any user.
func TestMaildropFileReadableByPickup(t *testing.T) {
	layout := queue.NewLayout(t.TempDir(), nil, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	id, err := Write(layout, &Submission{Sender: "alice", Recipients: []string{"bob"}}, strings.NewReader("x\n"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(layout.Path(queue.Maildrop, id))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o744 || !queue.ModeReady(st.Mode()) {
		t.Errorf("maildrop file mode %v, want 0744 and ready", st.Mode())
	}
}

// TestWriteRefusesControlCharacters: an envelope address with a line
// break is refused (nothing is written), and a full name loses its
// control characters, so neither can add a header or an mbox separator.
func TestWriteRefusesControlCharacters(t *testing.T) {
	layout := queue.NewLayout(t.TempDir(), nil, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*Submission{
		{Sender: "a@x\nFrom fake", Recipients: []string{"bob"}},
		{Sender: "a@x", Recipients: []string{"bob\r\nX-Injected: yes"}},
		{Sender: "a@x", Recipients: []string{"bob\x00"}},
	} {
		if _, err := Write(layout, sub, strings.NewReader("x\n")); !errors.Is(err, ErrMalformedEnvelope) {
			t.Errorf("Write(%q, %q) = %v, want ErrMalformedEnvelope", sub.Sender, sub.Recipients, err)
		}
	}
	if ids, _ := layout.IDs(queue.Maildrop); len(ids) != 0 {
		t.Errorf("files left in maildrop: %v", ids)
	}
	sub := &Submission{Sender: "a", FullName: "Eve\nBcc: victim@example.test", Recipients: []string{"bob"}, Origin: "example.test"}
	id, err := Write(layout, sub, strings.NewReader("Subject: x\n\nbody\n"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(layout.Path(queue.Maildrop, id))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "\nBcc:") || !strings.Contains(string(data), "Eve Bcc: victim@example.test") {
		t.Errorf("full name reached the file with its line break:\n%q", data)
	}
}
