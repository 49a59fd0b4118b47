// Tests of smtpd's milter settings (smtpd_milter_maps, per-milter
// settings) and of a milter's verdict at MAIL FROM with
// milter_macro_defaults.

package smtpd

import (
	"net"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seen := &sync.Map{}
	srv := gomilter.NewServer(gomilter.WithMilter(func() gomilter.Milter { return &mailMilter{seen: seen} }))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), seen
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
	cfg := loadConfig(t, t.TempDir(), "smtpd_milters = inet:"+addr+"\nmilter_macro_defaults = {auth_authen}=nobody\n")
	set, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Milters.Close()
	settings := testSettings()
	settings.Milters = set.Milters
	ts := startServer(t, settings)
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("HELO c.example", "250 mx.test.example")
	c.expect("MAIL FROM:<s@remote.example>", "550 5.7.1 no mail from you")
	ts.waitLog(t, "NOQUEUE: milter-reject: MAIL from localhost[127.0.0.1]: 550 5.7.1 no mail from you; from=<s@remote.example> proto=SMTP helo=<c.example>")
	// The transaction was refused: RCPT needs a new MAIL.
	c.expect("RCPT TO:<a@test.example>", "503 5.5.1 Error: need MAIL command")
	deadline := time.Now().Add(10 * time.Second)
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gomilter.NewServer(gomilter.WithMilter(func() gomilter.Milter { return unknownMilter{} }))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	cfg := loadConfig(t, t.TempDir(), "smtpd_milters = inet:"+ln.Addr().String()+"\n")
	set, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Milters.Close()
	settings := testSettings()
	settings.Milters = set.Milters
	ts := startServer(t, settings)
	c := dial(t, ts.addr)
	c.expect("", "220 mx.test.example ESMTP Postern")
	c.expect("HELO c.example", "250 mx.test.example")
	c.expect("FOO bar", "502 5.5.1 no FOO bar")
	ts.waitLog(t, "NOQUEUE: milter-reject: UNKNOWN from localhost[127.0.0.1]: 502 5.5.1 no FOO bar; proto=SMTP helo=<c.example>")
}
