// Differential test of the smtpd restriction language: the same sessions
// against a private real Postfix and Postern with the same restrictions,
// tables and policy server, comparing whole replies (codes, enhanced
// codes and texts) and the reject/warn/hold log lines, from clients
// inside (127.0.0.1) and outside (127.0.0.2, 127.0.0.3) mynetworks.

package tests

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/user"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// restrictionsDiffMainCF is the main.cf both servers get; POLICY is the
// policy server's port, DEAD a port nothing listens on.
const restrictionsDiffMainCF = differentialHostMainCF + `relay_domains = relay.example
local_recipient_maps = texthash:ETC/users
alias_maps =
smtpd_peername_lookup = no
smtpd_forbid_bare_newline = normalize
smtpd_restriction_classes = from_friends, dead_policy, broken_class
broken_class = reject_no_such_thing
from_friends = check_sender_access texthash:ETC/friends, reject
dead_policy = check_policy_service { inet:127.0.0.1:DEAD, try_limit=1, default_action=DEFER_IF_PERMIT }
smtpd_client_restrictions = check_client_access texthash:ETC/clients
smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, check_helo_access texthash:ETC/helos
smtpd_sender_restrictions = reject_non_fqdn_sender, check_sender_access texthash:ETC/senders
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_non_fqdn_recipient, reject_multi_recipient_bounce,
	check_recipient_access texthash:ETC/recipients,
	warn_if_reject check_recipient_access texthash:ETC/warned,
	check_policy_service inet:127.0.0.1:POLICY
smtpd_data_restrictions = reject_unauth_pipelining, check_sender_access texthash:ETC/data_senders
smtpd_end_of_data_restrictions = check_sender_access texthash:ETC/eod_senders
smtpd_reject_footer = Contact postmaster@test.example for $client_address.
`

// restrictionsDiffFiles are the tables.
var restrictionsDiffFiles = map[string]string{
	"users":   "pftest x\nfriendly x\n",
	"clients": "127.0.0.3 REJECT client blocked\n",
	"helos":   "bad.helo.example REJECT no thanks\nwarn.helo.example WARN helo watched\n",
	"senders": "spammer@ REJECT\nlate@remote.example DEFER_IF_PERMIT try later\n" +
		"coded@remote.example 550 5.1.1 coded text\nheld@remote.example HOLD\n" +
		"friend@remote.example OK\nwatched.example INFO sender noted\n",
	"friends": "friend@remote.example OK\n",
	"recipients": "blocked@test.example REJECT\nfriendly@test.example from_friends\n" +
		"dir@test.example DEFER_IF_REJECT, reject\ndeadpolicy@test.example dead_policy\n" +
		"defer@test.example DEFER\nrestr@test.example reject_non_fqdn_sender, permit\n" +
		"broken@test.example broken_class\n",
	"warned":       "pftest@test.example REJECT only a warning\n",
	"data_senders": "nodata@remote.example REJECT no data for you\n",
	"eod_senders":  "noeod@remote.example REJECT too late\n",
}

// restrictionsDiffScript: "PIPELINED a|b|c" sends the commands at once
// and reads one reply each.
var restrictionsDiffScript = []smtpDiffSession{
	{"client restrictions", "127.0.0.3", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>",
		"RCPT TO:<pftest@test.example>", "QUIT"}},
	{"helo restrictions", "127.0.0.2", []string{"HELO bad_name!", "MAIL FROM:<s@remote.example>", "RCPT TO:<pftest@test.example>",
		"HELO nodots", "MAIL FROM:<s@remote.example>", "RCPT TO:<pftest@test.example>",
		"HELO bad.helo.example", "MAIL FROM:<s@remote.example>", "RCPT TO:<pftest@test.example>",
		"HELO [1.2.3]", "MAIL FROM:<s@remote.example>", "RCPT TO:<pftest@test.example>",
		"EHLO warn.helo.example", "MAIL FROM:<s@remote.example>", "RCPT TO:<pftest@test.example>", "QUIT"}},
	{"sender restrictions", "127.0.0.2", []string{"EHLO c.example",
		"MAIL FROM:<s>", "RCPT TO:<pftest@test.example>", "RSET",
		"MAIL FROM:<spammer@x.example>", "RCPT TO:<pftest@test.example>", "RSET",
		"MAIL FROM:<late@remote.example>", "RCPT TO:<pftest@test.example>", "RCPT TO:<x@elsewhere.example>", "RSET",
		"MAIL FROM:<coded@remote.example>", "RCPT TO:<pftest@test.example>", "RSET",
		"MAIL FROM:<a@watched.example>", "RCPT TO:<pftest@test.example>", "RSET",
		"MAIL FROM:<friend@remote.example>", "RCPT TO:<x@elsewhere.example>", "QUIT"}},
	{"recipient restrictions", "127.0.0.2", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>",
		"RCPT TO:<blocked@test.example>", "RCPT TO:<friendly@test.example>", "RCPT TO:<dir@test.example>",
		"RCPT TO:<defer@test.example>", "RCPT TO:<pftest@test>", "RCPT TO:<nosuchuser@test.example>",
		"RCPT TO:<deadpolicy@test.example>", "RCPT TO:<broken@test.example>", "RCPT TO:<pftest@test.example>", "RCPT TO:<x@elsewhere.example>", "RSET",
		"MAIL FROM:<friend@remote.example>", "RCPT TO:<friendly@test.example>", "RSET",
		"MAIL FROM:<s>", "RCPT TO:<restr@test.example>", "RSET",
		"VRFY blocked@test.example", "VRFY <x@elsewhere.example>", "VRFY nosuchuser@test.example", "VRFY pftest@test.example", "QUIT"}},
	{"policy service", "127.0.0.2", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>",
		"RCPT TO:<policy-reject@test.example>", "RCPT TO:<policy-defer@test.example>", "RCPT TO:<policy-code@test.example>",
		"RCPT TO:<pftest@test.example>", "QUIT"}},
	{"multi-recipient bounce", "127.0.0.1", []string{"EHLO c.example", "MAIL FROM:<>",
		"RCPT TO:<pftest@test.example>", "RCPT TO:<friendly@test.example>", "QUIT"}},
	{"data restrictions", "127.0.0.1", []string{"EHLO c.example", "MAIL FROM:<nodata@remote.example>",
		"RCPT TO:<pftest@test.example>", "DATA", "QUIT"}},
	{"end-of-data restrictions", "127.0.0.1", []string{"EHLO c.example", "MAIL FROM:<noeod@remote.example>",
		"RCPT TO:<pftest@test.example>", "DATA", "Subject: eod\r\n\r\nhello\r\n.",
		// Postfix 3.7 keeps the rejected transaction (3.10 resets it): RSET.
		"RSET", "MAIL FROM:<s@remote.example>", "RCPT TO:<pftest@test.example>", "DATA", "Subject: ok\r\n\r\nhello\r\n.", "QUIT"}},
	{"unauthorized pipelining", "127.0.0.1", []string{"HELO c.example",
		"PIPELINED MAIL FROM:<s@remote.example>|RCPT TO:<pftest@test.example>|DATA", "QUIT"}},
	{"relay from inside", "127.0.0.1", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>",
		"RCPT TO:<x@elsewhere.example>", "RCPT TO:<blocked@test.example>", "QUIT"}},
}

func TestDifferentialRestrictions(t *testing.T) {
	pf := realPostfixMaster(t)
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	policyAddr := startTestPolicyServer(t)
	_, policyPort, _ := net.SplitHostPort(policyAddr)
	dead := harness.FreeAddr(t)
	_, deadPort, _ := net.SplitHostPort(dead)
	setup := smtpDiffSetup{
		mainCF: func(etc string) string {
			return strings.NewReplacer("ETC", etc, "POLICY", policyPort, "DEAD", deadPort).Replace(restrictionsDiffMainCF)
		},
		files: restrictionsDiffFiles,
	}
	restrictionsDiff(t, pf, setup, restrictionsDiffScript)
}

// restrictionsDiff starts a real Postfix and Postern with setup, runs
// each session of script on both and compares the replies, then the log
// lines of the decisions, in order.
func restrictionsDiff(t *testing.T, pf *harness.Postfix, setup smtpDiffSetup, script []smtpDiffSession) {
	t.Helper()
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, setup)
	ours := startOurSMTPWith(t, setup)
	for _, session := range script {
		t.Run(session.name, func(t *testing.T) {
			want := restrictionsDiffReplies(t, realAddr, session)
			got := restrictionsDiffReplies(t, ours.addr, session)
			if d := harness.DiffLines(want, got); d != "" {
				t.Errorf("replies differ (-real +ours):\n%s", d)
			}
		})
	}
	realLines, ourLines := decisionLogs(realLog, ours)
	if d := harness.DiffLines(realLines, ourLines); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}

// decisionLogs waits (a few seconds at most) until both logs hold as many
// decision lines, as both are written asynchronously, and returns them.
func decisionLogs(realLog string, ours *smtpdRun) (realLines, ourLines []string) {
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		data, _ := os.ReadFile(realLog)
		realLines, ourLines = policyLogLines(string(data)), policyLogLines(ours.log())
		if len(realLines) == len(ourLines) || time.Now().After(deadline) {
			return realLines, ourLines
		}
	}
}

// restrictionsDiffReplies runs a session and renders each whole reply
// ("COMMAND -> reply line | reply line") by restrictionsRender.
func restrictionsDiffReplies(t *testing.T, addr string, session smtpDiffSession) []string {
	t.Helper()
	d := dialSMTP(t, addr, session.from)
	return stepLines(d.play(append([]string{""}, session.commands...), restrictionsRender))
}

// restrictionsRender renders the banner by its code, EHLO by its
// keywords and other replies whole, queue IDs replaced.
func restrictionsRender(line string, reply []string) string {
	if line == "" {
		return smtpDiffCodes(reply)
	}
	if strings.HasPrefix(line, "EHLO ") && strings.HasPrefix(reply[0], "250") {
		return smtpDiffRender(line, reply)
	}
	return queuedAs.ReplaceAllString(strings.Join(reply, "\n"), "queued as ID")
}

// policyLogLines extracts smtpd's decision lines (reject, reject_warning,
// warn, info, hold, discard) from a log, queue IDs and NOQUEUE made equal:
// Postern opens the queue file only at DATA.
func policyLogLines(log string) []string {
	line := regexp.MustCompile(`smtpd\[\d+\]: ([0-9A-Za-z]+): (reject|reject_warning|warn|info|hold|discard): (.*)$`)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			out = append(out, "ID: "+m[2]+": "+m[3])
		}
	}
	return out
}

// startTestPolicyServer runs a policy server speaking Postfix's
// delegation protocol on 127.0.0.1 until the test ends. Its answer
// depends on the recipient's local part: policy-reject, policy-defer,
// policy-code; anything else gets DUNNO.
func startTestPolicyServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go servePolicyConn(c)
		}
	}()
	return ln.Addr().String()
}

// servePolicyConn answers requests on one connection until it closes.
func servePolicyConn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		attrs := map[string]string{}
		for {
			c.SetReadDeadline(time.Now().Add(time.Minute))
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			name, value, _ := strings.Cut(line, "=")
			attrs[name] = value
		}
		action := "DUNNO"
		local, _, _ := strings.Cut(attrs["recipient"], "@")
		switch local {
		case "policy-reject":
			action = "REJECT policy says no to " + attrs["client_address"]
		case "policy-defer":
			action = "DEFER_IF_PERMIT 4.2.0 greylisted by policy"
		case "policy-code":
			action = "550 5.7.9 coded by policy (" + attrs["protocol_state"] + " " + attrs["protocol_name"] + " " + attrs["helo_name"] + ")"
		}
		if attrs["request"] != "smtpd_access_policy" {
			action = "DEFER bad request"
		}
		fmt.Fprintf(c, "action=%s\n\n", action)
	}
}

// restrictionsNoDelayMainCF checks each stage at its own command
// (smtpd_delay_reject = no), with HELO required, soft_bounce and codes
// of its own.
const restrictionsNoDelayMainCF = differentialHostMainCF + `relay_domains = relay.example
local_recipient_maps = texthash:ETC/users
alias_maps =
smtpd_peername_lookup = no
smtpd_delay_reject = no
smtpd_helo_required = yes
soft_bounce = yes
non_fqdn_reject_code = 550
access_map_reject_code = 550
smtpd_reject_unlisted_sender = yes
smtpd_client_restrictions = check_client_access texthash:ETC/clients
smtpd_helo_restrictions = permit_mynetworks, reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
smtpd_sender_restrictions = reject_non_fqdn_sender, check_sender_access texthash:ETC/senders
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_etrn_restrictions = check_etrn_access texthash:ETC/etrn
`

var restrictionsNoDelayFiles = map[string]string{
	"users":   "pftest x\n",
	"clients": "127.0.0.3 REJECT client blocked\n127.0.0.4 DEFER_IF_PERMIT client later\n",
	"senders": "spammer@ REJECT\n",
	"etrn":    "no.example REJECT no queue for you\n",
}

var restrictionsNoDelayScript = []smtpDiffSession{
	{"client rejected at connect", "127.0.0.3", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>", "NOOP", "QUIT"}},
	{"client deferred", "127.0.0.4", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>",
		"RCPT TO:<pftest@test.example>", "RCPT TO:<x@elsewhere.example>", "QUIT"}},
	{"helo required and checked", "127.0.0.2", []string{"MAIL FROM:<s@remote.example>", "ETRN test.example", "HELO nodots",
		"MAIL FROM:<s@remote.example>", "HELO bad_name!", "EHLO ok.example", "ETRN no.example",
		"MAIL FROM:<spammer@remote.example>", "MAIL FROM:<s>", "MAIL FROM:<nosuchuser@test.example>",
		"MAIL FROM:<s@remote.example>", "RCPT TO:<x@elsewhere.example>", "RCPT TO:<nosuchuser@test.example>",
		"RCPT TO:<pftest@test.example>", "QUIT"}},
	{"inside mynetworks", "127.0.0.1", []string{"HELO nodots", "MAIL FROM:<s@remote.example>", "RCPT TO:<x@elsewhere.example>", "QUIT"}},
}

func TestDifferentialRestrictionsNoDelay(t *testing.T) {
	pf := realPostfixMaster(t)
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	setup := smtpDiffSetup{
		mainCF: func(etc string) string { return strings.ReplaceAll(restrictionsNoDelayMainCF, "ETC", etc) },
		files:  restrictionsNoDelayFiles,
	}
	restrictionsDiff(t, pf, setup, restrictionsNoDelayScript)
}
