// Tests of smtpd's milter settings (smtpd_milter_maps, per-milter
// settings), of a milter's verdict at MAIL FROM with
// milter_macro_defaults, of the events after a DISCARD, and of
// SMFIP_RCPT_REJ.

package smtpd

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/postern/postern/pkg/ipc"
)

// mailMilter refuses every sender and records {auth_authen} and
// {mail_addr} at MAIL.
type mailMilter struct {
	gomilter.NoOpMilter
	seen *sync.Map
}

func (m *mailMilter) MailFrom(_, _ string, mod gomilter.Modifier) (*gomilter.Response, error) {
	m.seen.Store("mail", mod.Get(gomilter.MacroAuthAuthen)+" "+mod.Get(gomilter.MacroMailAddr))
	return gomilter.RejectWithCodeAndReason(550, "5.7.1 no mail from you")
}

func startMailMilter(t *testing.T) (string, *sync.Map) {
	t.Helper()
	seen := &sync.Map{}
	return serveMilter(t, func() gomilter.Milter { return &mailMilter{seen: seen} }), seen
}

// milterSession starts a server with the milters of mainCF and returns a
// client that said HELO c.example.
func milterSession(t *testing.T, mainCF string) (*testServer, *client) {
	t.Helper()
	set, err := FromConfig(loadConfig(t, t.TempDir(), mainCF))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Milters.Close() })
	settings := testSettings()
	settings.Milters = set.Milters
	ts := startServer(t, settings)
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("HELO c.example", "250 mx.test.example")
	return ts, c
}

func TestSmtpdMilterMaps(t *testing.T) {
	cfg := loadConfig(t, t.TempDir(), `smtpd_milters = inet:127.0.0.1:8891, { inet:127.0.0.1:8892, default_action=accept }
smtpd_milter_maps = inline:{ 192.0.2.1=DISABLE, { 192.0.2.2 = inet:127.0.0.1:9999 } }
`)
	set, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Milters.Close()
	for addr, want := range map[string][]string{
		"192.0.2.1": nil,
		"192.0.2.2": {"inet:127.0.0.1:9999"},
		"192.0.2.3": {"inet:127.0.0.1:8891", "inet:127.0.0.1:8892"},
	} {
		specs, err := set.Milters.specsFor(addr)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range specs {
			names = append(names, s.Name)
		}
		if len(names) != len(want) || (len(want) > 0 && names[len(names)-1] != want[len(want)-1]) {
			t.Errorf("%s: milters %v, want %v", addr, names, want)
		}
	}
	if specs, _ := set.Milters.specsFor("192.0.2.3"); specs[1].DefaultAction != "accept" || specs[0].DefaultAction != "tempfail" {
		t.Errorf("per-milter default_action: %+v", specs)
	}
}

func TestSmtpdMilterRejectsMail(t *testing.T) {
	addr, seen := startMailMilter(t)
	ts, c := milterSession(t, "smtpd_milters = inet:"+addr+"\nmilter_macro_defaults = {auth_authen}=nobody\n")
	c.expect("MAIL FROM:<s@remote.example>", "550 5.7.1 no mail from you")
	ts.waitLog(t, "NOQUEUE: milter-reject: MAIL from localhost[127.0.0.1]: 550 5.7.1 no mail from you; from=<s@remote.example> proto=SMTP helo=<c.example>")
	// The transaction was refused: RCPT needs a new MAIL.
	c.expect("RCPT TO:<a@test.example>", "503 5.5.1 Error: need MAIL command")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if v, ok := seen.Load("mail"); ok {
			if v != "nobody s@remote.example" {
				t.Errorf("MAIL macros %q, want the {auth_authen} default and the sender", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the milter saw no MAIL")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// unknownMilter refuses unknown commands.
type unknownMilter struct{ gomilter.NoOpMilter }

func (unknownMilter) Unknown(cmd string, _ gomilter.Modifier) (*gomilter.Response, error) {
	return gomilter.RejectWithCodeAndReason(502, "5.5.1 no "+cmd)
}

func TestSmtpdMilterUnknownCommand(t *testing.T) {
	milter := serveMilter(t, func() gomilter.Milter { return unknownMilter{} })
	ts, c := milterSession(t, "smtpd_milters = inet:"+milter+"\n")
	c.expect("FOO bar", "502 5.5.1 no FOO bar")
	ts.waitLog(t, "NOQUEUE: milter-reject: UNKNOWN from localhost[127.0.0.1]: 502 5.5.1 no FOO bar; proto=SMTP helo=<c.example>")
}

// discardMilter discards the message at its first recipient.
type discardMilter struct{ gomilter.NoOpMilter }

func (discardMilter) RcptTo(string, string, gomilter.Modifier) (*gomilter.Response, error) {
	return gomilter.RespDiscard, nil
}

// eventMilter records the events of a message it receives.
type eventMilter struct {
	gomilter.NoOpMilter
	mu     *sync.Mutex
	events *[]string
}

func (m *eventMilter) add(e string) (*gomilter.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	*m.events = append(*m.events, e)
	return gomilter.RespContinue, nil
}

func (m *eventMilter) MailFrom(from, _ string, _ gomilter.Modifier) (*gomilter.Response, error) {
	return m.add("MAIL " + from)
}

func (m *eventMilter) RcptTo(rcpt, _ string, mod gomilter.Modifier) (*gomilter.Response, error) {
	return m.add("RCPT " + rcpt + " mailer=" + mod.Get(gomilter.MacroRcptMailer) + " host=" + mod.Get(gomilter.MacroRcptHost) +
		" addr=" + mod.Get(gomilter.MacroRcptAddr))
}

func (m *eventMilter) Data(gomilter.Modifier) (*gomilter.Response, error) { return m.add("DATA") }

func (m *eventMilter) Unknown(cmd string, _ gomilter.Modifier) (*gomilter.Response, error) {
	return m.add("UNKNOWN " + cmd)
}

// serveMilter serves milters made by newMilter on a fresh port, with the
// server options opts besides.
func serveMilter(t *testing.T, newMilter func() gomilter.Milter, opts ...gomilter.Option) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gomilter.NewServer(append([]gomilter.Option{gomilter.WithMilter(newMilter)}, opts...)...)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// envelopeOnly is the protocol of milters that leave out HELO and the
// content and negotiate proto besides.
func envelopeOnly(proto gomilter.OptProtocol) gomilter.Option {
	return gomilter.WithProtocol(proto | gomilter.OptNoHelo | gomilter.OptNoHeaders | gomilter.OptNoBody | gomilter.OptNoEOH)
}

// After one milter's DISCARD the other milters see nothing more of the
// message, and cleanup is not asked to run their content stages.
func TestSmtpdMilterDiscardEndsEvents(t *testing.T) {
	var mu sync.Mutex
	var events []string
	discarder := serveMilter(t, func() gomilter.Milter { return discardMilter{} }, envelopeOnly(0))
	recorder := serveMilter(t, func() gomilter.Milter { return &eventMilter{mu: &mu, events: &events} }, envelopeOnly(0))
	ts, c := milterSession(t, "smtpd_milters = inet:"+discarder+", inet:"+recorder+"\n")
	c.expect("MAIL FROM:<s@remote.example>", "250 2.1.0 Ok")
	c.expect("RCPT TO:<a@test.example>", "250 2.1.5 Ok")
	ts.waitLog(t, "NOQUEUE: milter-discard: RCPT from localhost[127.0.0.1]: milter triggers DISCARD action; from=<s@remote.example> to=<a@test.example> proto=SMTP helo=<c.example>")
	c.dialogue([]scriptStep{
		{"RCPT TO:<b@test.example>", "250 2.1.5 Ok"},
		{"FOO bar", "500 5.5.2 Error: command not recognized"},
		{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
		{"Subject: hi\r\n\r\nbody\r\n.", "250 2.0.0 Ok: queued as FAKE1"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	mu.Lock()
	got := strings.Join(events, ", ")
	mu.Unlock()
	// The unknown command is not part of the transaction: Postfix
	// sends it to the milters whatever the transaction's state.
	if got != "MAIL s@remote.example, UNKNOWN FOO bar" {
		t.Errorf("the second milter saw %q, want only the MAIL before the discard and the unknown command", got)
	}
	subs := ts.cleanup.Submissions()
	if len(subs) != 1 {
		t.Fatalf("%d submissions, want 1", len(subs))
	}
	if f := subs[0].Sub.Flags; f&ipc.CleanupFlagDiscard == 0 || f&ipc.CleanupFlagMilter != 0 || subs[0].Sub.Milters != 0 {
		t.Errorf("submission flags %v milters %d: want discard and no milter round trip", f, subs[0].Sub.Milters)
	}
}

// A milter that negotiated SMFIP_RCPT_REJ sees the recipients the
// restrictions reject, with {rcpt_mailer}=error and the reject in
// {rcpt_host} and {rcpt_addr}; one that did not sees only the accepted
// one (whose mailer is empty here: the test server has no resolver).
func TestSmtpdMilterRejectedRecipients(t *testing.T) {
	var mu sync.Mutex
	var wants, plain []string
	wanting := serveMilter(t, func() gomilter.Milter { return &eventMilter{mu: &mu, events: &wants} }, envelopeOnly(gomilter.OptRcptRej))
	other := serveMilter(t, func() gomilter.Milter { return &eventMilter{mu: &mu, events: &plain} }, envelopeOnly(0))
	_, c := milterSession(t, "smtpd_milters = inet:"+wanting+", inet:"+other+"\n")
	c.dialogue([]scriptStep{
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<x@elsewhere.example>", "554 5.7.1 <x@elsewhere.example>: Relay access denied"},
		{"RCPT TO:<a@test.example>", "250 2.1.5 Ok"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	mu.Lock()
	gotWants, gotPlain := strings.Join(wants, ", "), strings.Join(plain, ", ")
	mu.Unlock()
	want := "MAIL s@remote.example, RCPT x@elsewhere.example mailer=error host=5.7.1 addr=Relay access denied, " +
		"RCPT a@test.example mailer= host=test.example addr=a@test.example"
	if gotWants != want {
		t.Errorf("the SMFIP_RCPT_REJ milter saw\n%s\nwant\n%s", gotWants, want)
	}
	if want := "MAIL s@remote.example, RCPT a@test.example mailer= host=test.example addr=a@test.example"; gotPlain != want {
		t.Errorf("the other milter saw\n%s\nwant\n%s", gotPlain, want)
	}
}

// TestReceiveOverrideOptions: each receive_override_options value turns
// off its part of what smtpd asks of cleanup (and no_milters smtpd's own
// milters), as on a content filter's re-injection listener.
func TestReceiveOverrideOptions(t *testing.T) {
	const milters = "smtpd_milters = inet:127.0.0.1:8891\n"
	all := ipc.CleanupFlagFilter | ipc.CleanupFlagMapOK | ipc.CleanupFlagBCCOK
	tests := []struct {
		options string
		flags   ipc.CleanupFlags
		milters bool
	}{
		{"", all, true},
		{"no_header_body_checks", ipc.CleanupFlagMapOK | ipc.CleanupFlagBCCOK, true},
		{"no_address_mappings", ipc.CleanupFlagFilter, true},
		{"no_milters", all, false},
		{"no_unknown_recipient_checks, NO_MILTERS", all, false},
	}
	for _, tt := range tests {
		set, err := FromConfig(loadConfig(t, t.TempDir(), milters+"receive_override_options = "+tt.options+"\n"))
		if err != nil {
			t.Fatalf("%q: %v", tt.options, err)
		}
		if set.CleanupFlags != tt.flags {
			t.Errorf("%q: cleanup flags %b, want %b", tt.options, set.CleanupFlags, tt.flags)
		}
		if got := set.Milters != nil; got != tt.milters {
			t.Errorf("%q: smtpd milters %v, want %v", tt.options, got, tt.milters)
		}
		if set.Milters != nil {
			set.Milters.Close()
		}
	}
	_, err := FromConfig(loadConfig(t, t.TempDir(), "receive_override_options = no_header_body_checks, no_checks\n"))
	if want := `unknown receive_override_options value "no_checks" in "no_header_body_checks, no_checks"`; err == nil || err.Error() != want {
		t.Errorf("unknown option: %v, want %q", err, want)
	}
}
