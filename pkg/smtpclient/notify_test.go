package smtpclient

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/postern/postern/pkg/dsn"
)

// noticeBox records the notices a client posts.
type noticeBox struct {
	mu      sync.Mutex
	notices []string
}

func (b *noticeBox) post(_ context.Context, sender, rcpt string, content []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notices = append(b.notices, sender+" -> "+rcpt+"\n"+string(content))
	return nil
}

func (b *noticeBox) all() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.notices...)
}

// TestTranscriptOnProtocolError: a 5.0x refusal sends the postmaster
// the transcript when notify_classes has protocol, from the
// double-bounce address; other refusals, other classes, and mail from
// the null or double-bounce sender send none.
func TestTranscriptOnProtocolError(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0",
		refusing("syntax@example.test", 501, smtp.EnhancedCode{5, 1, 3}, "Bad recipient address syntax"),
		refusing("gone@example.test", 550, smtp.EnhancedCode{5, 1, 1}, "User unknown"),
	)
	for _, tc := range []struct {
		name    string
		classes []string
		sender  string
		rcpt    string
		want    bool
	}{
		{"protocol error", []string{"resource", "protocol"}, "sender@client.test", "syntax@example.test", true},
		{"default classes", []string{"resource", "software"}, "sender@client.test", "syntax@example.test", false},
		{"unknown user", []string{"protocol"}, "sender@client.test", "gone@example.test", false},
		{"null sender", []string{"protocol"}, "", "syntax@example.test", false},
		{"double bounce", []string{"protocol"}, "double-bounce@client.test", "syntax@example.test", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			box := &noticeBox{}
			c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) {
				cfg.Notify = dsn.NotifySettings{Classes: tc.classes, ErrorRecipient: "postmaster", DoubleBounce: "double-bounce", MailName: "Postern"}
				cfg.PostNotice = box.post
				cfg.SkipQuitResponse = true
			})
			m := testMessage(tc.rcpt)
			m.Sender = tc.sender
			deliver(c, "[127.0.0.3]", m)
			got := box.all()
			if !tc.want {
				if len(got) != 0 {
					t.Fatalf("notices %q, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d notices, want 1", len(got))
			}
			where := "127.0.0.3[127.0.0.3]:" + s.port()
			for _, want := range []string{
				"double-bounce@client.test -> postmaster\nFrom: Mail Delivery System <MAILER-DAEMON>\nTo: Postmaster <postmaster>\n",
				"Subject: Postern SMTP client: errors from " + where + "\n\nUnexpected response from " + where + ".\n\nTranscript of session follows.\n\n In:  220 ",
				" Out: EHLO client.test\n",
				" Out: RCPT TO:<syntax@example.test>\n Out: DATA\n In:  250 2.0.0 Roger, accepting mail from <sender@client.test>\n In:  501 5.1.3 Bad recipient address syntax\n In:  502 5.5.1 Missing RCPT TO command.\n Out: RSET\n Out: QUIT\n In:  250 2.0.0 Session reset\n\nFor other details, see the local mail logfile\n",
			} {
				if !strings.Contains(got[0], want) {
					t.Errorf("notice lacks %q:\n%s", want, got[0])
				}
			}
		})
	}
}
