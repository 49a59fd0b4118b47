// Tests of Run against a test milter (github.com/d--j/go-milter's server)
// that takes one action per message, chosen by the Subject.

package milter

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"
)

// actionMilter acts at end of message on the Subject: header it saw;
// it records the macros of every stage.
type actionMilter struct {
	gomilter.NoOpMilter
	subject string
	seen    *sync.Map
}

func (a *actionMilter) Connect(host, family string, port uint16, addr string, m gomilter.Modifier) (*gomilter.Response, error) {
	a.seen.Store("connect", host+" "+addr+" "+m.Get(gomilter.MacroDaemonName)+" "+m.Get(gomilter.MacroMTAFQDN))
	return gomilter.RespContinue, nil
}

func (a *actionMilter) MailFrom(from, _ string, m gomilter.Modifier) (*gomilter.Response, error) {
	a.seen.Store("mail", from+" "+m.Get(gomilter.MacroMailAddr))
	return gomilter.RespContinue, nil
}

func (a *actionMilter) RcptTo(rcpt, _ string, m gomilter.Modifier) (*gomilter.Response, error) {
	a.seen.Store("rcpt", rcpt+" "+m.Get(gomilter.MacroRcptAddr))
	return gomilter.RespContinue, nil
}

func (a *actionMilter) Header(name, value string, _ gomilter.Modifier) (*gomilter.Response, error) {
	if strings.EqualFold(name, "Subject") {
		a.subject = strings.TrimSpace(value)
	}
	return gomilter.RespContinue, nil
}

func (a *actionMilter) EndOfMessage(m gomilter.Modifier) (*gomilter.Response, error) {
	a.seen.Store("eom", m.Get(gomilter.MacroQueueId))
	switch a.subject {
	case "reject":
		return gomilter.RespReject, nil
	case "tempfail":
		return gomilter.RespTempFail, nil
	case "reply":
		return gomilter.RejectWithCodeAndReason(554, "5.7.0 no thanks")
	case "discard":
		return gomilter.RespDiscard, nil
	case "quarantine":
		m.Quarantine("looks odd")
	case "headers":
		m.AddHeader("X-Added", "yes")
		m.InsertHeader(0, "X-First", "top")
		m.ChangeHeader(1, "Subject", "changed")
		m.ChangeHeader(1, "X-Drop", "")
	case "body":
		m.ReplaceBody(strings.NewReader("new body\r\n"))
	case "envelope":
		m.AddRecipient("<added@x.test>", "")
		m.DeleteRecipient("<b@x.test>")
		m.ChangeFrom("<new@x.test>", "")
	case "slow":
		time.Sleep(3 * time.Second)
	}
	return gomilter.RespAccept, nil
}

func startTestMilter(t *testing.T) (string, *sync.Map) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seen := &sync.Map{}
	srv := gomilter.NewServer(gomilter.WithMilter(func() gomilter.Milter { return &actionMilter{seen: seen} }),
		gomilter.WithActions(gomilter.AllClientSupportedActionMasks))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "inet:" + ln.Addr().String(), seen
}

type testLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *testLog) Warning(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, format)
	_ = args
}

func testSettings() *Settings {
	return &Settings{ConnectTimeout: 30 * time.Second, CommandTimeout: 30 * time.Second, ContentTimeout: 30 * time.Second,
		DefaultAction: "tempfail", Protocol: 6, DaemonName: "mx.test", MyHostname: "mx.test", Version: "Postern 1",
		Macros: map[gomilter.MacroStage][]gomilter.MacroName{
			gomilter.StageConnect: {"j", "{daemon_name}"}, gomilter.StageMail: {"i", "{mail_addr}"},
			gomilter.StageRcpt: {"i", "{rcpt_addr}"}, gomilter.StageEOM: {"i"},
		}}
}

func testMessage(subject string) *Message {
	return &Message{QueueID: "ABC123", Sender: "s@x.test", Recipients: []string{"a@x.test", "b@x.test"},
		Headers: []Header{{"Received", " from helo.test"}, {"Subject", " " + subject}, {"X-Drop", " 1"}},
		Body:    []byte("old body\n")}
}

var testClient = Client{Name: "client.test", Reverse: "client.test", Addr: "192.0.2.9", Port: "2525", NameStatus: "OK"}

// run passes m through the milters as smtpd and cleanup do: the SMTP
// events, then the content stages one milter at a time with the edits
// of each applied before the next.
func run(t *testing.T, s *Settings, list string, m *Message, log Warner) Verdict {
	t.Helper()
	specs, err := s.Specs(list)
	if err != nil {
		t.Fatal(err)
	}
	c := Open(s, specs, log)
	defer c.Close()
	for _, ev := range []func() Verdict{
		func() Verdict { return c.Connect(testClient) },
		func() Verdict { return c.Helo("helo.test") },
		func() Verdict { return c.Mail(m.Sender, "", Resolved{m.Sender, "x.test", "smtp"}, "client.test") },
	} {
		if v := ev(); v.Stop() {
			return v
		}
	}
	for _, r := range m.Recipients {
		if v := c.Rcpt(r, "", Resolved{r, "x.test", "smtp"}); v.Stop() {
			return v
		}
	}
	if v := c.Data(""); v.Stop() || v.Hold {
		return v
	}
	var result Verdict
	for i := 0; i < c.Len(); i++ {
		v, edits := c.Content(i, m)
		if v.Stop() || v.Hold {
			return v
		}
		Apply(m, edits, &result)
	}
	return result
}

func headerText(m *Message) string {
	var b strings.Builder
	for _, h := range m.Headers {
		b.WriteString(h.Name + ":" + h.Value + "|")
	}
	return b.String()
}

func TestRunActions(t *testing.T) {
	spec, seen := startTestMilter(t)
	tests := []struct {
		subject string
		want    Verdict
		check   func(*Message) string
	}{
		{"reject", Verdict{Reply: "550 5.7.1 Command rejected"}, nil},
		{"tempfail", Verdict{Reply: "451 4.7.1 Service unavailable - try again later"}, nil},
		{"reply", Verdict{Reply: "554 5.7.0 no thanks"}, nil},
		{"discard", Verdict{Discard: true}, nil},
		{"quarantine", Verdict{Hold: true, HoldReason: "looks odd"}, nil},
		{"headers", Verdict{}, func(m *Message) string {
			if got := headerText(m); got != "X-First: top|Received: from helo.test|Subject: changed|X-Added: yes|" {
				return got
			}
			return ""
		}},
		{"body", Verdict{}, func(m *Message) string {
			if string(m.Body) != "new body\n" {
				return string(m.Body)
			}
			return ""
		}},
		{"envelope", Verdict{}, func(m *Message) string {
			if got := m.Sender + " " + strings.Join(m.Recipients, ","); got != "new@x.test a@x.test,added@x.test" {
				return got
			}
			return ""
		}},
		{"plain", Verdict{}, nil},
	}
	for _, tt := range tests {
		m := testMessage(tt.subject)
		got := run(t, testSettings(), spec, m, &testLog{})
		if got != tt.want {
			t.Errorf("%s: verdict %+v, want %+v", tt.subject, got, tt.want)
		}
		if tt.check != nil {
			if bad := tt.check(m); bad != "" {
				t.Errorf("%s: message after milter: %s", tt.subject, bad)
			}
		}
	}
	for stage, want := range map[string]string{
		"connect": "client.test 192.0.2.9 mx.test mx.test", "mail": "s@x.test s@x.test",
		"rcpt": "b@x.test b@x.test", "eom": "ABC123",
	} {
		if v, _ := seen.Load(stage); v != want {
			t.Errorf("%s stage saw %q, want %q", stage, v, want)
		}
	}
}

func TestRunDefaultAction(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "inet:" + ln.Addr().String()
	ln.Close()
	spec, _ := startTestMilter(t)
	for action, want := range map[string]Verdict{
		"tempfail":   {Reply: "451 4.7.1 Service unavailable - try again later"},
		"reject":     {Reply: "550 5.7.1 Command rejected"},
		"accept":     {},
		"quarantine": {Hold: true, HoldReason: "milter triggers HOLD action"},
	} {
		s := testSettings()
		s.DefaultAction = action
		log := &testLog{}
		if got := run(t, s, down, testMessage("plain"), log); got != want {
			t.Errorf("milter down, %s: %+v, want %+v", action, got, want)
		}
		if len(log.lines) == 0 || !strings.HasPrefix(log.lines[0], "connect to Milter service") {
			t.Errorf("milter down, %s: log %q", action, log.lines)
		}
	}
	// A milter that does not answer within the timeout.
	s := testSettings()
	s.ContentTimeout, s.CommandTimeout = 500*time.Millisecond, 500*time.Millisecond
	if got := run(t, s, spec, testMessage("slow"), &testLog{}); got.Reply != "451 4.7.1 Service unavailable - try again later" {
		t.Errorf("milter timing out: %+v", got)
	}
}

func TestSpecs(t *testing.T) {
	s := testSettings()
	specs, err := s.Specs("inet:127.0.0.1:8891, { unix:/run/m.sock, connect_timeout=10s, default_action = accept, command_timeout = 1m, content_timeout=2m, protocol=4 }")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || specs[0].Name != "inet:127.0.0.1:8891" || specs[0].DefaultAction != "tempfail" || specs[0].ConnectTimeout != 30*time.Second {
		t.Fatalf("first milter: %+v", specs)
	}
	want := Spec{Name: "unix:/run/m.sock", Network: "unix", Address: "/run/m.sock", ConnectTimeout: 10 * time.Second,
		CommandTimeout: time.Minute, ContentTimeout: 2 * time.Minute, DefaultAction: "accept", Protocol: 4}
	if specs[1] != want {
		t.Errorf("second milter %+v, want %+v", specs[1], want)
	}
	for _, bad := range []string{"{ inet:1.2.3.4:5, colour=blue }", "{ inet:1.2.3.4:5, default_action=maybe }", "tcp:1.2.3.4:5"} {
		if _, err := s.Specs(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
