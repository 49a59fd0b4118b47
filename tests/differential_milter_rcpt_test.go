// Differential test of the RCPT event with milters: what a milter that
// asks for rejected recipients (SMFIP_RCPT_REJ) is shown of each reject,
// and how a milter's multi-line reply reaches the client, against a
// private real Postfix 3.7 and Postern with the same milter.

package tests

import (
	"fmt"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/postern/postern/tests/internal/harness"
)

// rcptRecorder records the MAIL and RCPT events it gets (the address as
// the MTA sent it, angle brackets removed once) with the RCPT macros and
// answers some recipients with a multi-line reply.
type rcptRecorder struct {
	gomilter.NoOpMilter
	mu     *sync.Mutex
	events *[]string
}

func (m *rcptRecorder) MailFrom(from, _ string, _ gomilter.Modifier) (*gomilter.Response, error) {
	m.mu.Lock()
	*m.events = append(*m.events, "MAIL "+from)
	m.mu.Unlock()
	return gomilter.RespContinue, nil
}

func (m *rcptRecorder) RcptTo(rcpt, _ string, mod gomilter.Modifier) (*gomilter.Response, error) {
	m.mu.Lock()
	*m.events = append(*m.events, fmt.Sprintf("RCPT %s mailer=%q host=%q addr=%q", rcpt,
		mod.Get(gomilter.MacroRcptMailer), mod.Get(gomilter.MacroRcptHost), mod.Get(gomilter.MacroRcptAddr)))
	m.mu.Unlock()
	if strings.HasPrefix(rcpt, "multi@") || strings.HasPrefix(rcpt, "blocked@") {
		return gomilter.RejectWithCodeAndReason(550, "5.7.1 first line\r\n5.7.1 second line")
	}
	return gomilter.RespContinue, nil
}

// TestDifferentialMilterRcptEvents: a milter with SMFIP_RCPT_REJ gets
// the RCPT event of each recipient the restrictions refused, with
// {rcpt_mailer}=error and the reject split into {rcpt_host} and
// {rcpt_addr}; its own multi-line reject of such a recipient changes
// nothing, while one for an accepted recipient is the client's reply;
// MAIL and RCPT carry the address in one pair of angle brackets.
// Real Postfix and Postern talk to the same milter; the events it
// records and the replies the client gets must be the same.
func TestDifferentialMilterRcptEvents(t *testing.T) {
	pf := realPostfixMaster(t)
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	var mu sync.Mutex
	var events []string
	ln := listenRetrying(t, "127.0.0.1:0", "milter")
	srv := gomilter.NewServer(gomilter.WithMilter(func() gomilter.Milter { return &rcptRecorder{mu: &mu, events: &events} }),
		gomilter.WithProtocol(gomilter.OptRcptRej|gomilter.OptNoHelo|gomilter.OptNoHeaders|gomilter.OptNoBody|gomilter.OptNoEOH))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	setup := smtpDiffSetup{
		mainCF: func(etc string) string {
			return smtpDiffMainCF(filepath.Join(etc, "users")) + fmt.Sprintf(`smtpd_milters = inet:%s
milter_default_action = reject
smtpd_recipient_restrictions = check_recipient_access texthash:%s
`, ln.Addr(), filepath.Join(etc, "access"))
		},
		files: map[string]string{
			"users":  "pftest x\nmulti x\n",
			"access": "blocked@test.example REJECT go away now\ncoded@test.example 550 5.1.2 coded: with colon\n",
		},
	}
	rcpts := []string{"x@elsewhere.example", "nobody@test.example", "blocked@test.example",
		"coded@test.example", "multi@test.example", "pftest@test.example", "pftest", "pftest@[127.0.0.1]", `"p f"@test.example`}
	run := func(addr string) (replies, seen []string) {
		t.Helper()
		mu.Lock()
		events = nil
		mu.Unlock()
		d := dialSMTP(t, addr, "")
		d.readReply(t)
		fmt.Fprintf(d.conn, "EHLO client.example\r\n")
		d.readReply(t)
		fmt.Fprintf(d.conn, "MAIL FROM:<\"s x\"@remote.example>\r\n")
		d.readReply(t)
		for _, rcpt := range rcpts {
			fmt.Fprintf(d.conn, "RCPT TO:<%s>\r\n", rcpt)
			replies = append(replies, rcpt+" -> "+strings.Join(d.readReply(t), " / "))
		}
		fmt.Fprintf(d.conn, "QUIT\r\n")
		d.readReply(t)
		mu.Lock()
		defer mu.Unlock()
		return replies, append([]string(nil), events...)
	}
	realAddr, _ := startRealPostfixSMTPWith(t, pf, setup)
	wantReplies, wantEvents := run(realAddr)
	ours := startOurSMTPWith(t, setup)
	gotReplies, gotEvents := run(ours.addr)
	if d := harness.DiffLines(wantReplies, gotReplies); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	if d := harness.DiffLines(wantEvents, gotEvents); d != "" {
		t.Errorf("milter events differ (-real +ours):\n%s", d)
	}
	t.Logf("real Postfix:\n%s\n%s", strings.Join(wantReplies, "\n"), strings.Join(wantEvents, "\n"))
}

// TestMilterNonSMTPDEventAddresses: non_smtpd_milters get a sendmail
// submission's sender and recipients in external (quoted) form, in the
// MAIL and RCPT events and in {rcpt_addr}, as Postfix's cleanup gives
// them (quote_821_local).
func TestMilterNonSMTPDEventAddresses(t *testing.T) {
	var mu sync.Mutex
	var events []string
	ln := listenRetrying(t, "127.0.0.1:0", "milter")
	srv := gomilter.NewServer(gomilter.WithMilter(func() gomilter.Milter { return &rcptRecorder{mu: &mu, events: &events} }),
		gomilter.WithProtocol(gomilter.OptNoHelo|gomilter.OptNoHeaders|gomilter.OptNoBody|gomilter.OptNoEOH))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	in := newDelivery(t, "")
	transport := in.writeMap("transport", "example.net discard:\n")
	in.appendMainCF(fmt.Sprintf("transport_maps = %s\nnon_smtpd_milters = inet:%s\n", transport, ln.Addr()))
	in.addPickup()
	in.run()
	res := in.sendmail("Subject: quoted\n\nhello\n", "-f", `"a b"@example.net`, `"c d"@example.net`)
	if res.ExitCode != 0 {
		t.Fatalf("sendmail: %s", res)
	}
	// The milter has seen the envelope once cleanup queued the message.
	in.waitLog(`from=<`, 30*time.Second)
	mu.Lock()
	got := strings.Join(events, "\n")
	mu.Unlock()
	assertContains(t, "milter events", got, "MAIL \"a b\"@example.net\n",
		`RCPT "c d"@example.net mailer=`, `addr="\"c d\"@example.net"`)
}
