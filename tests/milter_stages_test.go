// End-to-end tests of milters at their SMTP commands: a test milter
// (go-milter's server) rejects at CONNECT or RCPT and gets Postfix's
// replies and log lines; two milters in a row see header_checks' result
// and each other's edits, with milter_header_checks on the added
// headers and Postfix's macros at each stage; after one milter's
// DISCARD the next sees nothing more of the message; a non_smtpd_milters
// rejection of a sendmail submission bounces to the sender.

package tests

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/postern/postern/tests/internal/harness"
)

// stageMilter is a test milter: it can reject at CONNECT or at one
// recipient, records the macros it gets, and at the end of the message
// adds "X-<name>: saw <headers it saw>" (or rejects with rejectEOM).
type stageMilter struct {
	gomilter.NoOpMilter
	name          string
	connectReject string // "554 5.7.1 text" refuses the connection
	rcptReject    string // the recipient refused at RCPT
	rejectEOM     bool
	discardData   bool // DISCARD at DATA
	macros        *sync.Map
	headers       []string
}

func (m *stageMilter) record(stage string, mod gomilter.Modifier, names ...gomilter.MacroName) {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%s;", n, mod.Get(n))
	}
	m.macros.Store(stage, b.String())
}

func (m *stageMilter) Connect(_, _ string, _ uint16, _ string, mod gomilter.Modifier) (*gomilter.Response, error) {
	m.record("connect", mod, "j", "{daemon_name}", "_", "v")
	if m.connectReject != "" {
		code, text, _ := strings.Cut(m.connectReject, " ")
		var n uint16
		fmt.Sscan(code, &n)
		return gomilter.RejectWithCodeAndReason(n, text)
	}
	return gomilter.RespContinue, nil
}

func (m *stageMilter) MailFrom(_, _ string, mod gomilter.Modifier) (*gomilter.Response, error) {
	m.record("mail", mod, "{mail_addr}", "{mail_host}", "{mail_mailer}")
	return gomilter.RespContinue, nil
}

func (m *stageMilter) RcptTo(rcpt, _ string, mod gomilter.Modifier) (*gomilter.Response, error) {
	if m.rcptReject != "" && gomilter.RemoveAngle(rcpt) == m.rcptReject {
		return gomilter.RejectWithCodeAndReason(550, "5.7.1 blocked by "+m.name)
	}
	m.record("rcpt "+gomilter.RemoveAngle(rcpt), mod, "{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}", "i")
	return gomilter.RespContinue, nil
}

func (m *stageMilter) Data(mod gomilter.Modifier) (*gomilter.Response, error) {
	m.record("data", mod, "i")
	if m.discardData {
		return gomilter.RespDiscard, nil
	}
	return gomilter.RespContinue, nil
}

func (m *stageMilter) Header(name, _ string, _ gomilter.Modifier) (*gomilter.Response, error) {
	m.headers = append(m.headers, name)
	return gomilter.RespContinue, nil
}

func (m *stageMilter) EndOfMessage(mod gomilter.Modifier) (*gomilter.Response, error) {
	m.record("eom", mod, "i")
	if m.rejectEOM {
		return gomilter.RejectWithCodeAndReason(554, "5.7.1 refused by "+m.name)
	}
	sort.Strings(m.headers)
	mod.AddHeader("X-"+m.name, "saw "+strings.Join(m.headers, ","))
	return gomilter.RespAccept, nil
}

// startStageMilter serves proto's behaviour (a fresh copy per session)
// and returns its "inet:" address and the macros it recorded.
func startStageMilter(t *testing.T, proto stageMilter) (string, *sync.Map) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	macros := &sync.Map{}
	srv := gomilter.NewServer(gomilter.WithMilter(func() gomilter.Milter {
		m := proto
		m.macros, m.headers = macros, nil
		return &m
	}), gomilter.WithActions(gomilter.AllClientSupportedActionMasks))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "inet:" + ln.Addr().String(), macros
}

// The milters' stages run at their SMTP commands: RCPT is refused with
// the milter's reply and Postfix's log line; the message then passes
// header_checks (which hide X-Secret from the milters), milter one,
// milter_header_checks (which rewrite its header) and milter two, which
// sees milter one's header; the macros carry Postfix's values.
func TestMilterStagesAtCommands(t *testing.T) {
	one, oneMacros := startStageMilter(t, stageMilter{name: "One", rcptReject: "blocked@example.net"})
	two, _ := startStageMilter(t, stageMilter{name: "Two"})
	port := sinkPort(t)
	sink := startSink(t, "127.0.0.2:"+port, "sink.test", sinkOptions{})
	in := newDelivery(t, "")
	transport := in.writeMap("transport", "example.net smtp:[127.0.0.2]:"+port+"\n")
	headerChecks := filepath.Join(in.etc, "header_checks")
	harness.WriteFile(t, headerChecks, "/^X-Secret:/ IGNORE\n")
	milterChecks := filepath.Join(in.etc, "milter_header_checks")
	harness.WriteFile(t, milterChecks, "/^X-One: saw (.*)/ REPLACE X-One: checked $1\n")
	in.giveAway(headerChecks)
	in.giveAway(milterChecks)
	in.appendMainCF(fmt.Sprintf(`myhostname = mx.milter.test
transport_maps = %s
header_checks = regexp:%s
milter_header_checks = regexp:%s
smtpd_milters = inet:%s, { inet:%s, default_action = accept, command_timeout = 20s }
`, transport, headerChecks, milterChecks, strings.TrimPrefix(one, "inet:"), strings.TrimPrefix(two, "inet:")))
	in.run()

	c := dialMilterSMTP(t, in.addr)
	c.reply(30 * time.Second)
	c.send("EHLO client.test")
	if got := c.send("MAIL FROM:<alice@example.org>"); got != "250 2.1.0 Ok" {
		t.Fatalf("MAIL: %q\nlog:\n%s", got, in.log())
	}
	if got := c.send("RCPT TO:<blocked@example.net>"); got != "550 5.7.1 blocked by One" {
		t.Fatalf("RCPT to the blocked recipient: %q\nlog:\n%s", got, in.log())
	}
	in.waitLog("NOQUEUE: milter-reject: RCPT from localhost[127.0.0.1]: 550 5.7.1 blocked by One; from=<alice@example.org> to=<blocked@example.net> proto=ESMTP helo=<client.test>", 30*time.Second)
	for _, rcpt := range []string{"bob@example.net", "carol@example.net"} {
		if got := c.send("RCPT TO:<" + rcpt + ">"); got != "250 2.1.5 Ok" {
			t.Fatalf("RCPT: %q", got)
		}
	}
	c.send("DATA")
	fmt.Fprintf(c.conn, "From: alice@example.org\r\nSubject: stages\r\nX-Secret: hidden\r\n\r\nhello\r\n.\r\n")
	got, err := c.tryReply(30 * time.Second)
	if err != nil {
		t.Fatalf("end of data: %v\nlog:\n%s", err, in.log())
	}
	if !strings.HasPrefix(got, "250 2.0.0 Ok: queued as ") {
		t.Fatalf("end of data: %q\nlog:\n%s", got, in.log())
	}
	id := strings.TrimPrefix(got, "250 2.0.0 Ok: queued as ")
	c.send("QUIT")

	data := sink.waitMessages(t, in, 1, 30*time.Second)[0].Data
	in.waitLog("to=<carol@example.net>", 30*time.Second)
	if !regexp.MustCompile(`(?m)^X-One: checked Date,From,Message-Id,Received,Subject\r?$`).MatchString(data) {
		t.Errorf("milter one's header after milter_header_checks is missing:\n%s", data)
	}
	if !regexp.MustCompile(`(?m)^X-Two: saw Date,From,Message-Id,Received,Subject,X-One\r?$`).MatchString(data) {
		t.Errorf("milter two did not see milter one's header (or saw X-Secret):\n%s", data)
	}
	want := map[string]string{
		"connect": "j=mx.milter.test;{daemon_name}=mx.milter.test;_=localhost [127.0.0.1];v=Postern ",
		"mail":    "{mail_addr}=alice@example.org;{mail_host}=example.org;{mail_mailer}=smtp;",
		// As in Postfix the queue ID (i) is known from the first
		// accepted recipient on: not at its own RCPT, at the next ones.
		"rcpt bob@example.net":   "{rcpt_addr}=bob@example.net;{rcpt_host}=[127.0.0.2]:" + port + ";{rcpt_mailer}=smtp;i=;",
		"rcpt carol@example.net": "{rcpt_addr}=carol@example.net;{rcpt_host}=[127.0.0.2]:" + port + ";{rcpt_mailer}=smtp;i=" + id + ";",
		"data":                   "i=" + id + ";",
		"eom":                    "i=" + id + ";",
	}
	for stage, prefix := range want {
		v, _ := oneMacros.Load(stage)
		if s, _ := v.(string); !strings.HasPrefix(s, prefix) {
			t.Errorf("%s macros %q, want %q...", stage, s, prefix)
		}
	}
}

// A milter that rejects the connection: as Postfix, the greeting and
// EHLO go through (EHLO offering ENHANCEDSTATUSCODES only), and MAIL
// FROM gets the milter's reply.
func TestMilterConnectReject(t *testing.T) {
	spec, _ := startStageMilter(t, stageMilter{name: "Door", connectReject: "554 5.7.1 go away"})
	in := newDelivery(t, "smtpd_milters = "+spec+"\n")
	in.run()
	c := dialMilterSMTP(t, in.addr)
	if got := c.reply(30 * time.Second); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("banner %q", got)
	}
	if got := c.send("EHLO client.test"); !strings.HasSuffix(got, "\n250 ENHANCEDSTATUSCODES") || strings.Contains(got, "PIPELINING") {
		t.Errorf("EHLO after a rejected connection: %q", got)
	}
	if got := c.send("MAIL FROM:<alice@example.org>"); got != "554 5.7.1 go away" {
		t.Errorf("MAIL: %q\nlog:\n%s", got, in.log())
	}
	c.send("QUIT")
	in.waitLog("NOQUEUE: milter-reject: CONNECT from localhost[127.0.0.1]: 554 5.7.1 go away; proto=SMTP", 30*time.Second)
	in.waitLog("NOQUEUE: milter-reject: MAIL from localhost[127.0.0.1]: 554 5.7.1 go away; from=<alice@example.org> proto=ESMTP helo=<client.test>", 30*time.Second)
}

// After the first milter's DISCARD at DATA, the second milter sees
// nothing more of the message (no DATA, no content), as in Postfix:
// smtpd logs the discard and cleanup runs no milter on the content.
func TestMilterDiscardEndsMessageForAll(t *testing.T) {
	one, oneMacros := startStageMilter(t, stageMilter{name: "One", discardData: true})
	two, twoMacros := startStageMilter(t, stageMilter{name: "Two"})
	in := newDelivery(t, fmt.Sprintf("smtpd_milters = %s, %s\n", one, two))
	in.run()
	c := dialMilterSMTP(t, in.addr)
	c.reply(30 * time.Second)
	c.send("EHLO client.test")
	c.send("MAIL FROM:<alice@example.org>")
	if got := c.send("RCPT TO:<bob@example.net>"); got != "250 2.1.5 Ok" {
		t.Fatalf("RCPT: %q\nlog:\n%s", got, in.log())
	}
	if got := c.send("DATA"); !strings.HasPrefix(got, "354 ") {
		t.Fatalf("DATA: %q\nlog:\n%s", got, in.log())
	}
	fmt.Fprintf(c.conn, "From: alice@example.org\r\nSubject: discarded\r\n\r\nhello\r\n.\r\n")
	got, err := c.tryReply(30 * time.Second)
	if err != nil || !strings.HasPrefix(got, "250 2.0.0 Ok: queued as ") {
		t.Fatalf("end of data: %q %v\nlog:\n%s", got, err, in.log())
	}
	c.send("QUIT")
	in.waitLog(": milter-discard: DATA from localhost[127.0.0.1]: milter triggers DISCARD action; from=<alice@example.org> to=<bob@example.net> proto=ESMTP helo=<client.test>", 30*time.Second)
	if _, ok := oneMacros.Load("data"); !ok {
		t.Errorf("milter one saw no DATA")
	}
	if _, ok := twoMacros.Load("rcpt bob@example.net"); !ok {
		t.Errorf("milter two saw no RCPT before the discard")
	}
	for _, stage := range []string{"data", "eom"} {
		if v, ok := twoMacros.Load(stage); ok {
			t.Errorf("milter two got the %s event (%v) after milter one's DISCARD\nlog:\n%s", stage, v, in.log())
		}
	}
	if _, ok := oneMacros.Load("eom"); ok {
		t.Errorf("milter one got the end of the message it discarded")
	}
}

// non_smtpd_milters reject a sendmail submission at the end of the
// message: as Postfix, the message is not refused (sendmail has nobody
// to tell) but bounces to its sender.
func TestMilterNonSMTPDRejectBounces(t *testing.T) {
	spec, _ := startStageMilter(t, stageMilter{name: "Local", rejectEOM: true})
	port := sinkPort(t)
	sink := startSink(t, "127.0.0.2:"+port, "sink.test", sinkOptions{})
	in := newDelivery(t, "")
	transport := in.writeMap("transport", "example.net smtp:[127.0.0.2]:"+port+"\n")
	in.appendMainCF(fmt.Sprintf("transport_maps = %s\nnon_smtpd_milters = %s\nbounce_notice_recipient = postmaster\n", transport, spec))
	in.addPickup()
	in.run()
	res := in.sendmail("Subject: refused locally\n\nhello\n", "-f", "alice@example.net", "bob@example.net")
	if res.ExitCode != 0 {
		t.Fatalf("sendmail: %s", res)
	}
	in.waitLog(": milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.7.1 refused by Local; from=<alice@example.net> to=<bob@example.net>", 30*time.Second)
	msgs := sink.waitMessages(t, in, 1, 30*time.Second)
	assertEnvelope(t, msgs[0], "", "alice@example.net")
	if !strings.Contains(msgs[0].Data, "refused by Local") {
		t.Errorf("bounce does not give the milter's reason:\n%s", msgs[0].Data)
	}
}

// dialMilterSMTP connects to an SMTP server for a hand-driven session.
func dialMilterSMTP(t *testing.T, addr string) *smtpClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &smtpClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}
