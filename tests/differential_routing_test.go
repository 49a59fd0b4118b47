// Differential tests of the routing parameters that show in the SMTP
// dialogue: strict_rfc821_envelopes against a private real Postfix 3.7.

package tests

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// TestDifferentialStrictRFC821Envelopes sends MAIL FROM and RCPT TO
// paths in and out of RFC 821 form to real Postfix and Postern, both with
// strict_rfc821_envelopes = yes, and compares the whole replies and the
// "Illegal address syntax" warnings.
func TestDifferentialStrictRFC821Envelopes(t *testing.T) {
	pf := realPostfixMaster(t)
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skipf("real Postfix needs its mail_owner account postfix: %v", err)
	}
	setup := smtpDiffSetup{
		mainCF: func(etc string) string {
			return smtpDiffDefault.mainCF(etc) + "strict_rfc821_envelopes = yes\n"
		},
		files: smtpDiffDefault.files,
	}
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, setup)
	ours := startOurSMTPWith(t, setup)
	commands := []string{"EHLO client.example",
		"MAIL FROM:s@remote.example", "MAIL FROM:<s@remote.example> (comment)", "MAIL FROM:<s@remote.example (comment)>",
		"MAIL FROM:<Name <s@remote.example>>", "MAIL FROM:<@remote.example>", "MAIL FROM:<@relay.example:s@remote.example>",
		"RSET", "MAIL FROM:<>", "RCPT TO:pftest@test.example", "RCPT TO:<pftest@test.example (x)>", "RCPT TO:<@test.example>",
		"RCPT TO:<pftest@test.example>", "QUIT"}
	run := func(addr string) []string {
		t.Helper()
		d := dialSMTP(t, addr, "")
		d.readReply(t)
		var out []string
		for _, cmd := range commands {
			fmt.Fprintf(d.conn, "%s\r\n", cmd)
			reply := d.readReply(t)
			if strings.HasPrefix(cmd, "EHLO") {
				continue
			}
			out = append(out, cmd+" -> "+reply[len(reply)-1])
		}
		return out
	}
	want, got := run(realAddr), run(ours.addr)
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	warnings := func(log string) string {
		var lines []string
		for _, line := range strings.Split(log, "\n") {
			if _, w, ok := strings.Cut(line, "warning: "); ok && strings.Contains(w, "Illegal address syntax") {
				lines = append(lines, w)
			}
		}
		return strings.Join(lines, "\n") + "\n"
	}
	realText := func() string { data, _ := os.ReadFile(realLog); return string(data) }
	// Wait for both logs to hold the session's end.
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(realText(), "disconnect from"); {
		if time.Now().After(deadline) {
			t.Fatalf("real Postfix did not log the disconnect:\n%s", realText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ourText := ours.waitLog("disconnect from", 30*time.Second)
	if d := harness.Diff(warnings(realText()), warnings(ourText)); d != "" {
		t.Errorf("warnings differ (-real +ours):\n%s", d)
	}
	t.Logf("real Postfix:\n%s\n%s", strings.Join(want, "\n"), warnings(realText()))
}

// routingRewriteCF are the cleanup and smtp rewrites that
// TestDifferentialRoutingRewrites gives both servers; %[1]s is the
// directory of the tables.
const routingRewriteCF = `masquerade_domains = client.example
masquerade_exceptions = root
always_bcc = archive@archive.example
sender_bcc_maps = texthash:%[1]s/sender_bcc
recipient_bcc_maps = texthash:%[1]s/recipient_bcc
smtp_generic_maps = texthash:%[1]s/generic
`

// routingRewriteTables are the tables of routingRewriteCF.
var routingRewriteTables = map[string]string{
	"sender_bcc":    "@client.example sent-copy@archive.example\n",
	"recipient_bcc": "boss@remote.example boss-copy@archive.example\n",
	"generic":       "@client.example @example.com\nboss@remote.example boss@corp.example\n",
}

// rewriteOutcome is what a sink saw of the test message: the envelope
// and the address headers.
func rewriteOutcome(msgs []sinkMessage) string {
	var rcpts []string
	for _, m := range msgs {
		rcpts = append(rcpts, m.To...)
	}
	sort.Strings(rcpts)
	out := []string{"from=<" + msgs[0].From + ">", "to=" + strings.Join(rcpts, ",")}
	head, _, _ := strings.Cut(msgs[0].Data, "\r\n\r\n")
	for _, line := range strings.Split(strings.ReplaceAll(head, "\r\n\t", " "), "\r\n") {
		name, _, _ := strings.Cut(line, ":")
		switch strings.ToLower(name) {
		case "from", "to", "cc", "reply-to":
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

// TestDifferentialRoutingRewrites relays one message through Postern and
// through real Postfix 3.7, both with masquerading, automatic BCC and
// smtp_generic_maps, and compares the envelope and the address headers
// their sinks receive. Without root (no real Postfix) Postern's result
// is compared with what real Postfix gave when the test was written.
func TestDifferentialRoutingRewrites(t *testing.T) {
	const want = `from=<alice@example.com>
to=archive@archive.example,bob@mail.client.example,boss-copy@archive.example,boss@corp.example,sent-copy@archive.example
From: Alice <alice@example.com>
To: boss@corp.example, root@host.client.example
Cc: dev@example.com
`
	port := sinkPort(t)
	tables := t.TempDir()
	if err := os.Chmod(tables, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range routingRewriteTables {
		harness.WriteFile(t, filepath.Join(tables, name), content)
	}
	extra := fmt.Sprintf(routingRewriteCF, tables)
	from, rcpts := "alice@host.client.example", []string{"boss@remote.example", "bob@mail.client.example"}
	body := "From: Alice <alice@host.client.example>\r\nTo: boss@remote.example, root@host.client.example\r\n" +
		"Cc: dev@host.client.example\r\nSubject: rewrites\r\n\r\nbody\r\n"

	ourSink := startSink(t, "127.0.0.18:"+port, "postern.sink", sinkOptions{})
	in := newDelivery(t, "myhostname = postern.test.example\nmydestination =\n"+extra)
	in.appendMainCF("transport_maps = " + in.writeMap("transport", fmt.Sprintf("* smtp:[127.0.0.18]:%s\n", port)) + "\n")
	in.run()
	in.send(from, rcpts, body)
	ourSink.waitMessages(t, in, 1, 30*time.Second)
	in.waitLogCount("status=sent", 5, 30*time.Second)
	got := rewriteOutcome(ourSink.received())

	if os.Geteuid() != 0 {
		if d := harness.Diff(want, got); d != "" {
			t.Errorf("Postern differs from real Postfix's recorded result (-real +ours):\n%s", d)
		}
		return
	}
	realSink := startSink(t, "127.0.0.19:"+port, "postfix.sink", sinkOptions{})
	realAddr := harness.FreeAddr(t)
	real := startRealPostfixRelayWith(t, realAddr, fmt.Sprintf("* smtp:[127.0.0.19]:%s\n", port), func(string) string { return extra })
	if err := harness.SendMail(realAddr, from, rcpts, []byte(body)); err != nil {
		t.Fatalf("send to the real Postfix: %v\nlog:\n%s", err, real.log())
	}
	realSink.waitMessages(t, in, 1, 30*time.Second)
	for deadline := time.Now().Add(30 * time.Second); strings.Count(real.log(), "status=sent") < 5; {
		if time.Now().After(deadline) {
			t.Fatalf("real Postfix did not send all five:\n%s", real.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	realGot := rewriteOutcome(realSink.received())
	if d := harness.Diff(realGot, got); d != "" {
		t.Errorf("envelope and headers differ (-real +ours):\n%s", d)
	}
	if d := harness.Diff(want, realGot); d != "" {
		t.Errorf("real Postfix no longer gives the recorded result (-recorded +real):\n%s", d)
	}
}

// TestDifferentialSenderRouting sends the same four messages through
// Postern and through real Postfix 3.7 configured alike: one sender with
// its own relayhost (sender_dependent_relayhost_maps), one domain's
// senders through the relay transport to another host
// (sender_dependent_default_transport_maps), one message for a next hop
// that is down (smtp_fallback_relay); it compares which sink got what.
func TestDifferentialSenderRouting(t *testing.T) {
	port := sinkPort(t)
	tables := t.TempDir()
	if err := os.Chmod(tables, 0o755); err != nil {
		t.Fatal(err)
	}
	// outcome runs four messages through the server start makes, with
	// sinks from 127.0.0.first on: the relayhost, alice's relay, the bulk
	// relay and the fallback relay; the down next hop is first+4, where
	// nobody listens.
	outcome := func(first int, start func(extra, transport string) (send func(from, to string))) string {
		dir := filepath.Join(tables, fmt.Sprint(first))
		harness.WriteFile(t, filepath.Join(dir, "sender_relay"), fmt.Sprintf("alice@client.example [127.0.0.%d]:%s\n", first+1, port))
		harness.WriteFile(t, filepath.Join(dir, "sender_transport"), fmt.Sprintf("@bulk.example relay:[127.0.0.%d]:%s\n", first+2, port))
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var sinks []*smtpSink
		for i := 0; i < 4; i++ {
			sinks = append(sinks, startSink(t, fmt.Sprintf("127.0.0.%d:%s", first+i, port), fmt.Sprint("sink", i), sinkOptions{}))
		}
		extra := fmt.Sprintf(`relayhost = [127.0.0.%d]:%s
sender_dependent_relayhost_maps = texthash:%s/sender_relay
sender_dependent_default_transport_maps = texthash:%s/sender_transport
smtp_fallback_relay = [127.0.0.%d]:%s
`, first, port, dir, dir, first+3, port)
		send := start(extra, fmt.Sprintf("down.example smtp:[127.0.0.%d]:%s\n", first+4, port))
		send("alice@client.example", "a@remote.example")
		send("news@bulk.example", "b@remote.example")
		send("carol@client.example", "c@down.example")
		send("dave@client.example", "d@remote.example")
		var out []string
		names := []string{"relayhost", "sender relay", "bulk relay", "fallback relay"}
		for deadline := time.Now().Add(60 * time.Second); ; {
			n := 0
			for _, s := range sinks {
				n += len(s.received())
			}
			if n >= 4 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("sinks got %d of 4 messages", n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		for i, s := range sinks {
			for _, m := range s.received() {
				out = append(out, fmt.Sprintf("%s: from=<%s> to=%v", names[i], m.From, m.To))
			}
		}
		sort.Strings(out)
		return strings.Join(out, "\n") + "\n"
	}
	got := outcome(30, func(extra, transport string) func(from, to string) {
		in := newDelivery(t, "myhostname = postern.test.example\nmydestination =\n"+extra)
		in.appendMainCF("transport_maps = " + in.writeMap("transport", transport) + "\n")
		in.run()
		return func(from, to string) { in.send(from, []string{to}, "Subject: routing\r\n\r\nbody\r\n") }
	})
	want := `bulk relay: from=<news@bulk.example> to=[b@remote.example]
fallback relay: from=<carol@client.example> to=[c@down.example]
relayhost: from=<dave@client.example> to=[d@remote.example]
sender relay: from=<alice@client.example> to=[a@remote.example]
`
	if d := harness.Diff(want, got); d != "" {
		t.Errorf("Postern's routing (-want +ours):\n%s", d)
	}
	if os.Geteuid() != 0 {
		return
	}
	realGot := outcome(40, func(extra, transport string) func(from, to string) {
		realAddr := harness.FreeAddr(t)
		real := startRealPostfixRelayWith(t, realAddr, transport, func(string) string { return extra })
		return func(from, to string) {
			if err := harness.SendMail(realAddr, from, []string{to}, []byte("Subject: routing\r\n\r\nbody\r\n")); err != nil {
				t.Fatalf("send to the real Postfix: %v\nlog:\n%s", err, real.log())
			}
		}
	})
	if d := harness.Diff(realGot, got); d != "" {
		t.Errorf("routing differs (-real +ours):\n%s", d)
	}
}
