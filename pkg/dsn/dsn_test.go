package dsn

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
)

// realPostfixCase describes a notice real Postfix 3.7.11 wrote (in
// testdata/postfix, from its From: header on, Message-Id left out): the
// report that should render the same.
type realPostfixCase struct {
	file           string
	class          string
	postmasterCopy bool
	to             string
	queueID        string
	sender         string
	arrival        string
	boundary       string
	rcpt           Recipient
	full           bool
}

var realPostfixCases = []realPostfixCase{
	{"failure-sender.eml", ClassFailure, false, "sender@sender.example", "1C49C98429A", "sender@sender.example",
		"2026-12-07T08:14:19Z", "1C49C98429A.1796631259/realpf.test.example",
		Recipient{Address: "user@bounce.example", Original: "user@bounce.example", Status: "5.1.1", Reason: "no such user here"}, true},
	{"failure-postmaster.eml", ClassFailure, true, "postmaster", "1C49C98429A", "sender@sender.example",
		"2026-12-07T08:14:19Z", "1C49C98429A.1796631259/realpf.test.example",
		Recipient{Address: "user@bounce.example", Original: "user@bounce.example", Status: "5.1.1", Reason: "no such user here"}, false},
	{"2bounce.eml", ClassFailure, true, "postmaster", "74E41984081", "",
		"2026-12-07T08:18:17Z", "74E41984081.1796631497/realpf.test.example",
		Recipient{Address: "user@bounce.example", Original: "user@bounce.example", Status: "5.1.1", Reason: "no such user here"}, true},
	{"delay-sender.eml", ClassDelay, false, "sender@sender.example", "4F1EE98406E", "sender@sender.example",
		"2026-12-07T08:18:17Z", "4F1EE98406E.1796631499/realpf.test.example",
		Recipient{Address: "user@unreach.example", Original: "user@unreach.example", Status: "4.4.1", Reason: "connect to 127.0.0.1[127.0.0.1]:1: Connection refused"}, false},
	{"delay-postmaster.eml", ClassDelay, true, "postmaster", "4F1EE98406E", "sender@sender.example",
		"2026-12-07T08:18:17Z", "4F1EE98406E.1796631499/realpf.test.example",
		Recipient{Address: "user@unreach.example", Original: "user@unreach.example", Status: "4.4.1", Reason: "connect to 127.0.0.1[127.0.0.1]:1: Connection refused"}, false},
	{"success-sender.eml", ClassSuccess, false, "sender@origin.example", "95E7B98EC89", "sender@origin.example",
		"2026-12-07T09:41:53Z", "95E7B98EC89.1796636513/realpf.test.example",
		Recipient{Address: "good@dest.example", Original: "good@dest.example", Status: "2.0.0", Action: "relayed",
			Reason: "delivery via 127.0.0.20[127.0.0.20]:41025: 250 2.0.0 OK: queued"}, false},
}

// TestBuildMatchesRealPostfix renders each notice real Postfix wrote and
// compares them byte for byte, after the qualification of the From and
// To addresses that cleanup does.
func TestBuildMatchesRealPostfix(t *testing.T) {
	cfg := config.Defaults(t.TempDir())
	cfg.Set("myhostname", "realpf.test.example")
	cfg.Set("delay_warning_time", "3s")
	var warnings []string
	n, err := LoadNotices(cfg, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	wantWarning := `[built-in]: zero result in delay template conversion of parameter "delay_warning_time_hours"`
	if len(warnings) != 3 || warnings[0] != wantWarning {
		t.Errorf("warnings %q, want Postfix's three starting %q", warnings, wantWarning)
	}
	for _, tc := range realPostfixCases {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "postfix", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			want := string(data)
			arrival, _ := time.Parse(time.RFC3339, tc.arrival)
			r := n.Report(tc.class)
			r.PostmasterCopy = tc.postmasterCopy
			r.Hostname = "realpf.test.example"
			r.QueueID, r.Sender, r.ArrivalTime = tc.queueID, tc.sender, arrival
			r.WillRetryUntil = arrival.Add(5 * 24 * time.Hour)
			r.To, r.Boundary, r.FullMessage = tc.to, tc.boundary, tc.full
			rc := tc.rcpt
			rc.RemoteMTA, rc.Diagnostic = Diagnose(rc.Reason)
			r.Recipients = []Recipient{rc}
			// The returned message as real Postfix had it.
			_, rest, _ := strings.Cut(want, "\nReturn-Path: ")
			_, rest, _ = strings.Cut(rest, "\n")
			r.Original, _, _ = strings.Cut(rest, "\n\n--"+tc.boundary+"--\n")
			r.Original += "\n"
			got := string(Build(r))
			got = strings.Replace(got, "<MAILER-DAEMON>", "<MAILER-DAEMON@realpf.test.example>", 1)
			got = strings.Replace(got, "\nTo: postmaster\n", "\nTo: postmaster@realpf.test.example\n", 1)
			if got != want {
				t.Errorf("notice differs from real Postfix's:\n%s", lineDiff(got, want))
			}
		})
	}
}

// lineDiff shows the first differing line of two texts.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n got  " + gl + "\n want " + wl + "\n--- got:\n" + got
		}
	}
	return ""
}

func TestBuildWithoutEightBit(t *testing.T) {
	r := DefaultTemplatesReport(t, ClassFailure)
	r.EightBit = false
	got := string(Build(r))
	if strings.Contains(got, "Content-Transfer-Encoding") || !strings.Contains(got, "Content-Type: text/plain; charset=us-ascii\n\n") {
		t.Errorf("7bit notice:\n%s", got)
	}
}

func TestBuildExpandedFromAndORCPT(t *testing.T) {
	r := DefaultTemplatesReport(t, ClassFailure)
	r.Recipients = []Recipient{{Address: "u@local.example", Original: "list@test.example", ORCPT: "rfc822;List@test.example",
		Status: "5.1.1", Reason: "unknown user", Diagnostic: "X-Postfix; unknown user"}}
	got := string(Build(r))
	for _, want := range []string{
		"\n<u@local.example> (expanded from <list@test.example>): unknown user\n",
		"\nOriginal-Recipient: rfc822;List@test.example\nAction: failed\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("notice lacks %q:\n%s", want, got)
		}
	}
}

// DefaultTemplatesReport is a report of class from the built-in
// templates with one recipient.
func DefaultTemplatesReport(t *testing.T, class string) *Report {
	t.Helper()
	cfg := config.Defaults(t.TempDir())
	cfg.Set("myhostname", "mx.test.example")
	n, err := LoadNotices(cfg, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	r := n.Report(class)
	r.Hostname, r.QueueID, r.Sender, r.To = "mx.test.example", "8E3249840D3", "alice@test.example", "alice@test.example"
	r.ArrivalTime = time.Date(2026, time.November, 28, 13, 1, 15, 0, time.UTC)
	r.Boundary = "8E3249840D3.1795870000/mx.test.example"
	r.Recipients = []Recipient{{Address: "x@gone.example", Status: "5.1.2", Reason: "no such domain", Diagnostic: "X-Postfix; no such domain"}}
	return r
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"short line", "short line\n"},
		{"Diagnostic-Code: X-Postfix; connect to 127.0.0.1[127.0.0.1]:1: Connection refused",
			"Diagnostic-Code: X-Postfix; connect to 127.0.0.1[127.0.0.1]:1: Connection\n    refused\n"},
		{"<user@unreach.example>: connect to 127.0.0.1[127.0.0.1]:1: Connection refused",
			"<user@unreach.example>: connect to 127.0.0.1[127.0.0.1]:1: Connection refused\n"},
		{strings.Repeat("x", 100) + " tail", strings.Repeat("x", 100) + "\n    tail\n"},
		{"a  b", "a  b\n"},
	}
	for _, tc := range tests {
		if got := Wrap(tc.in, 79, 4); got != tc.want {
			t.Errorf("Wrap(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDiagnose(t *testing.T) {
	tests := []struct{ reason, remote, diag string }{
		{"host mx.remote.example[192.0.2.1] said: 550 5.1.1 unknown user (in reply to RCPT TO command)",
			"mx.remote.example", "smtp; 550 5.1.1 unknown user"},
		{"connect to 127.0.0.1[127.0.0.1]:1: Connection refused", "", "X-Postfix; connect to 127.0.0.1[127.0.0.1]:1: Connection refused"},
	}
	for _, tc := range tests {
		remote, diag := Diagnose(tc.reason)
		if remote != tc.remote || diag != tc.diag {
			t.Errorf("Diagnose(%q) = %q, %q", tc.reason, remote, diag)
		}
	}
}

// TestBuildSMTPUTF8: a message that came with SMTPUTF8 gets Postfix's
// message/global types and utf-8 address types for non-ASCII addresses.
func TestBuildSMTPUTF8(t *testing.T) {
	r := DefaultTemplatesReport(t, ClassDelay)
	r.EightBit, r.SMTPUTF8 = true, true
	r.Sender = "jörg@test.example"
	r.Recipients = []Recipient{{Address: "ünal@remote.example", Original: "ünal@remote.example", Status: "4.4.1",
		Reason: "try again", Diagnostic: "X-Postfix; try again"}}
	got := string(Build(r))
	for _, want := range []string{
		"Content-Description: Delivery report\nContent-Type: message/global-delivery-status\nContent-Transfer-Encoding: 8bit\n\n",
		"X-Postfix-Sender: utf-8; jörg@test.example\n",
		"Final-Recipient: utf-8; ünal@remote.example\nOriginal-Recipient: utf-8;ünal@remote.example\nAction: delayed\n",
		"Content-Description: Undelivered Message Headers\nContent-Type: message/global-headers\nContent-Transfer-Encoding: 8bit\n\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("notice lacks %q:\n%s", want, got)
		}
	}
	r.FullMessage = true
	if got := string(Build(r)); !strings.Contains(got, "Content-Description: Undelivered Message\nContent-Type: message/global\n") {
		t.Errorf("full SMTPUTF8 notice:\n%s", got)
	}
}

// TestBuildVerifyReportMatchesRealPostfix renders the sendmail -bv report
// real Postfix wrote for a recipient its next hop refused and one it
// accepted, and compares them byte for byte.
func TestBuildVerifyReportMatchesRealPostfix(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "postfix", "verify-sender.eml"))
	if err != nil {
		t.Fatal(err)
	}
	want := string(data)
	cfg := config.Defaults(t.TempDir())
	cfg.Set("myhostname", "realpf.test.example")
	n, err := LoadNotices(cfg, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	r := n.Report(ClassVerify)
	r.Hostname = "realpf.test.example"
	r.QueueID, r.Sender = "BC4DD986962", "sender@origin.example"
	r.ArrivalTime, _ = time.Parse(time.RFC3339, "2026-12-07T09:52:21Z")
	r.To, r.Boundary = "sender@origin.example", "BC4DD986962.1796637141/realpf.test.example"
	for _, rc := range []Recipient{
		{Address: "bad@dest.example", Original: "bad@dest.example", Status: "5.1.1", Action: "undeliverable",
			Reason: "delivery via 127.0.0.20[127.0.0.20]:41245: host 127.0.0.20[127.0.0.20] said: 550 5.1.1 <bad@dest.example>: Recipient address rejected: no such user (in reply to RCPT TO command)"},
		{Address: "good@dest.example", Original: "good@dest.example", Status: "2.0.0", Action: "deliverable",
			Reason: "delivery via 127.0.0.20[127.0.0.20]:41245: 250 2.0.0 I'll make sure <good@dest.example> gets this"},
	} {
		rc.RemoteMTA, rc.Diagnostic = Diagnose(rc.Reason)
		r.Recipients = append(r.Recipients, rc)
	}
	_, rest, _ := strings.Cut(want, "\nReturn-Path: ")
	_, rest, _ = strings.Cut(rest, "\n")
	r.Original, _, _ = strings.Cut(rest, "\n\n--"+r.Boundary+"--\n")
	r.Original += "\n"
	got := string(Build(r))
	got = strings.Replace(got, "<MAILER-DAEMON>", "<MAILER-DAEMON@realpf.test.example>", 1)
	if got != want {
		t.Errorf("report differs from real Postfix's:\n%s", lineDiff(got, want))
	}
}
