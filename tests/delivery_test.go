// End-to-end delivery tests: Postern relays to go-smtp sinks on 127.0.0.x as mail hub, backup MX, gateway and smarthost client, bounces and expires.

package tests

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dnsx/dnstest"
)

// queueIDOf finds the queue ID of the log's delivery line for rcpt.
func queueIDOf(t *testing.T, log, rcpt string) string {
	t.Helper()
	m := regexp.MustCompile(`([0-9A-F]+): to=<` + regexp.QuoteMeta(rcpt) + `>`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no delivery line for %s:\n%s", rcpt, log)
	}
	return m[1]
}

// sentLine is the start and the status of a successful delivery line.
func sentLine(rcpt, host, ip, port string) (string, string) {
	return fmt.Sprintf("to=<%s>, relay=%s[%s]:%s, delay=", rcpt, host, ip, port), "status=sent (250 "
}

// assertSent checks that the log reports rcpt sent through host[ip]:port.
func assertSent(t *testing.T, log, rcpt, host, ip, port string) {
	t.Helper()
	head, status := sentLine(rcpt, host, ip, port)
	i := strings.Index(log, head)
	if i < 0 {
		t.Errorf("log lacks %q:\n%s", head, log)
		return
	}
	line := log[i:]
	if j := strings.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	if !strings.Contains(line, status) {
		t.Errorf("delivery line %q lacks %q", line, status)
	}
}

// assertEnvelope checks a sink message's envelope.
func assertEnvelope(t *testing.T, msg sinkMessage, from string, to ...string) {
	t.Helper()
	if msg.From != from || strings.Join(msg.To, ",") != strings.Join(to, ",") {
		t.Errorf("envelope from=<%s> to=%v, want from=<%s> to=%v", msg.From, msg.To, from, to)
	}
}

// assertContains reports each of wants that text, described as what,
// lacks.
func assertContains(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, text)
		}
	}
}

// TestDeliveryMailHub routes by transport_maps with the three rule forms
// of the seed: an exact domain to [host], a subdomain to itself by MX,
// and a .parent rule to [host].
func TestDeliveryMailHub(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t,
		"sub.example.local. 300 IN MX 10 mx.sub.example.local.",
		"mx.sub.example.local. 300 IN A 127.0.0.3",
		"mailtrans.example.local. 300 IN A 127.0.0.4",
	)
	exact := startSink(t, "127.0.0.2:"+port, "exact.sink", sinkOptions{})
	sub := startSink(t, "127.0.0.3:"+port, "sub.sink", sinkOptions{})
	parent := startSink(t, "127.0.0.4:"+port, "parent.sink", sinkOptions{})
	in := newDelivery(t, fmt.Sprintf(`myhostname = hub.test.example
mydestination =
relay_domains = example.local
dns_servers = %s
smtp_tcp_port = %s
`, dns.Addr, port))
	transport := in.writeMap("transport", `example.local :[127.0.0.2]
sub.example.local :sub.example.local
.example.local :[mailtrans.example.local]
`)
	in.appendMainCF("transport_maps = " + transport + "\n")
	in.run()

	body := "Subject: hub\r\nMessage-ID: <hub@client.example>\r\n\r\nrouted\r\n"
	in.send("sender@client.example", []string{"a@example.local", "b@sub.example.local", "c@deep.example.local"}, body)

	assertEnvelope(t, exact.waitMessages(t, in, 1, 30*time.Second)[0], "sender@client.example", "a@example.local")
	assertEnvelope(t, sub.waitMessages(t, in, 1, 30*time.Second)[0], "sender@client.example", "b@sub.example.local")
	got := parent.waitMessages(t, in, 1, 30*time.Second)[0]
	assertEnvelope(t, got, "sender@client.example", "c@deep.example.local")
	if !strings.Contains(got.Data, "Subject: hub\r\n") || !strings.Contains(got.Data, "\r\n\r\nrouted\r\n") {
		t.Errorf("content at the sink:\n%s", got.Data)
	}
	log := in.waitLogCount("status=sent", 3, 30*time.Second)
	assertSent(t, log, "a@example.local", "127.0.0.2", "127.0.0.2", port)
	assertSent(t, log, "b@sub.example.local", "mx.sub.example.local", "127.0.0.3", port)
	assertSent(t, log, "c@deep.example.local", "mailtrans.example.local", "127.0.0.4", port)
}

// twoMX serves DNS where domain has two MX hosts: mx1 (preference 10,
// 127.0.0.5) and mx2 (preference 20, 127.0.0.6), listed backup first.
func twoMX(t *testing.T, domain string) *dnstest.Server {
	t.Helper()
	return dnstest.Start(t,
		domain+". 300 IN MX 20 mx2."+domain+".",
		domain+". 300 IN MX 10 mx1."+domain+".",
		"mx1."+domain+". 300 IN A 127.0.0.5",
		"mx2."+domain+". 300 IN A 127.0.0.6",
	)
}

// TestDeliveryMXFallback delivers to the most preferred MX, and to the
// next one when the primary refuses connections.
func TestDeliveryMXFallback(t *testing.T) {
	port := sinkPort(t)
	dns := twoMX(t, "pref.example")
	primary := startSink(t, "127.0.0.5:"+port, "mx1.sink", sinkOptions{})
	backup := startSink(t, "127.0.0.6:"+port, "mx2.sink", sinkOptions{})
	in := startDelivery(t, fmt.Sprintf(`myhostname = gw.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
smtp_connection_cache_on_demand = no
`, dns.Addr, port))

	in.send("sender@client.example", []string{"first@pref.example"}, "Subject: one\r\n\r\none\r\n")
	assertEnvelope(t, primary.waitMessages(t, in, 1, 30*time.Second)[0], "sender@client.example", "first@pref.example")
	log := in.waitLog("to=<first@pref.example>", 30*time.Second)
	assertSent(t, log, "first@pref.example", "mx1.pref.example", "127.0.0.5", port)
	if n := len(backup.received()); n != 0 {
		t.Errorf("backup MX got %d messages while the primary was up", n)
	}

	primary.stop()
	in.send("sender@client.example", []string{"second@pref.example"}, "Subject: two\r\n\r\ntwo\r\n")
	assertEnvelope(t, backup.waitMessages(t, in, 1, 30*time.Second)[0], "sender@client.example", "second@pref.example")
	log = in.waitLog("to=<second@pref.example>", 30*time.Second)
	assertSent(t, log, "second@pref.example", "mx2.pref.example", "127.0.0.6", port)
	assertContains(t, "log", log, "connect to mx1.pref.example[127.0.0.5]:"+port+": Connection refused")
}

// TestDeliveryBackupMX is the seed's secondary MX: mail for the relayed
// domain waits in the queue while the primary is down and goes out on a
// retry once it is up.
func TestDeliveryBackupMX(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t, "mailgw.primary.example. 300 IN A 127.0.0.7")
	in := newDelivery(t, fmt.Sprintf(`myhostname = mailgwbak.primary.example
mydestination = $myhostname, localhost
relay_domains = primary.example
dns_servers = %s
smtp_tcp_port = %s
`, dns.Addr, port))
	in.appendMainCF("transport_maps = " + in.writeMap("transport", "primary.example smtp:mailgw.primary.example\n") + "\n")
	in.run()

	in.send("sender@client.example", []string{"taro@primary.example"}, "Subject: backup\r\n\r\nqueued\r\n")
	refused := "connect to mailgw.primary.example[127.0.0.7]:" + port + ": Connection refused"
	log := in.waitLog("status=deferred ("+refused+")", 30*time.Second)
	id := queueIDOf(t, log, "taro@primary.example")
	if listing := in.waitListedDeferred(id, refused); !strings.Contains(listing, "taro@primary.example") {
		t.Errorf("postqueue -p does not list the recipient:\n%s", listing)
	}

	primary := startSink(t, "127.0.0.7:"+port, "mailgw.sink", sinkOptions{})
	assertEnvelope(t, primary.waitMessages(t, in, 1, 30*time.Second)[0], "sender@client.example", "taro@primary.example")
	log = in.waitLog(id+": removed", 30*time.Second)
	assertSent(t, log, "taro@primary.example", "mailgw.primary.example", "127.0.0.7", port)
}

// bounceSinkMX returns the DNS records that send mail for origin.example,
// the senders' domain, to a sink on 127.0.0.9.
var bounceSinkMX = []string{
	"origin.example. 300 IN MX 10 mx.origin.example.",
	"mx.origin.example. 300 IN A 127.0.0.9",
}

// TestDeliveryBounce bounces a recipient rejected with 550 back to the
// sender with a DSN, and delivers the accepted one.
func TestDeliveryBounce(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t, append([]string{
		"dest.example. 300 IN MX 10 mx.dest.example.",
		"mx.dest.example. 300 IN A 127.0.0.8",
	}, bounceSinkMX...)...)
	dest := startSink(t, "127.0.0.8:"+port, "mx.dest.example", sinkOptions{rejectPrefix: "bad@"})
	origin := startSink(t, "127.0.0.9:"+port, "mx.origin.example", sinkOptions{})
	in := startDelivery(t, fmt.Sprintf(`myhostname = out.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
`, dns.Addr, port))

	in.send("sender@origin.example", []string{"good@dest.example", "bad@dest.example"},
		"Subject: bounce me\r\nMessage-ID: <bounce@origin.example>\r\n\r\nbody\r\n")
	assertEnvelope(t, dest.waitMessages(t, in, 1, 30*time.Second)[0], "sender@origin.example", "good@dest.example")
	bounce := origin.waitMessages(t, in, 1, 30*time.Second)[0]
	assertEnvelope(t, bounce, "", "sender@origin.example")
	reply := "550 5.1.1 <bad@dest.example>: Recipient address rejected: no such user"
	assertContains(t, "bounce", bounce.Data,
		"From: Mail Delivery System <MAILER-DAEMON@out.test.example>",
		"Subject: Undelivered Mail Returned to Sender",
		wrappedCRLF("<bad@dest.example>: host mx.dest.example[127.0.0.8] said: "+reply+" (in reply to RCPT TO command)"),
		"Final-Recipient: rfc822; bad@dest.example",
		"Action: failed",
		"Status: 5.1.1",
		"Remote-MTA: dns; mx.dest.example",
		wrappedCRLF("Diagnostic-Code: smtp; "+reply),
		"Subject: bounce me",
	)
	if strings.Contains(bounce.Data, "Final-Recipient: rfc822; good@dest.example") {
		t.Errorf("bounce reports the delivered recipient:\n%s", bounce.Data)
	}
	log := in.waitLogCount("status=sent", 2, 30*time.Second)
	id := queueIDOf(t, log, "bad@dest.example")
	assertSent(t, log, "good@dest.example", "mx.dest.example", "127.0.0.8", port)
	assertContains(t, "log", log,
		"to=<bad@dest.example>, relay=mx.dest.example[127.0.0.8]:"+port+", delay=",
		"dsn=5.1.1, status=bounced (host mx.dest.example[127.0.0.8] said: "+reply+" (in reply to RCPT TO command))",
		id+": sender non-delivery notification: ",
	)
	assertSent(t, log, "sender@origin.example", "mx.origin.example", "127.0.0.9", port)
}

// TestDeliveryExpiry returns mail to the sender once a temporary failure
// outlasts maximal_queue_lifetime.
func TestDeliveryExpiry(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t, append([]string{"slow.example. 300 IN A 127.0.0.10"}, bounceSinkMX...)...)
	startSink(t, "127.0.0.10:"+port, "slow.example", sinkOptions{tempFailAll: true})
	origin := startSink(t, "127.0.0.9:"+port, "mx.origin.example", sinkOptions{})
	in := startDelivery(t, fmt.Sprintf(`myhostname = out.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
maximal_queue_lifetime = 2s
`, dns.Addr, port))

	in.send("sender@origin.example", []string{"late@slow.example"}, "Subject: expire me\r\n\r\nbody\r\n")
	log := in.waitLog("status=expired, returned to sender", 30*time.Second)
	if !strings.Contains(log, "to=<late@slow.example>") || !strings.Contains(log, "451 4.3.0 <late@slow.example>: try again later") {
		t.Errorf("log lacks the deferral of late@slow.example:\n%s", log)
	}
	bounce := origin.waitMessages(t, in, 1, 30*time.Second)[0]
	assertEnvelope(t, bounce, "", "sender@origin.example")
	assertContains(t, "bounce", bounce.Data,
		"From: Mail Delivery System <MAILER-DAEMON@out.test.example>",
		wrappedCRLF("<late@slow.example>: host slow.example[127.0.0.10] said: 451 4.3.0 <late@slow.example>: try again later (in reply to RCPT TO command)"),
		"Final-Recipient: rfc822; late@slow.example",
		"Action: failed",
	)
}

// TestDeliveryLoopsBackToMyself bounces mail whose best MX is this host:
// with smtp_tcp_port 25 the client recognises its own inet_interfaces
// address without connecting, so no port needs binding.
func TestDeliveryLoopsBackToMyself(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t,
		"loop.example. 300 IN MX 10 self.loop.example.",
		"self.loop.example. 300 IN A 127.0.0.1",
	)
	origin := startSink(t, "127.0.0.9:"+port, "mx.origin.example", sinkOptions{})
	in := newDelivery(t, fmt.Sprintf(`myhostname = out.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = 25
`, dns.Addr))
	in.appendMainCF("transport_maps = " + in.writeMap("transport", "origin.example smtp:[127.0.0.9]:"+port+"\n") + "\n")
	in.run()

	in.send("sender@origin.example", []string{"user@loop.example"}, "Subject: loop\r\n\r\nbody\r\n")
	log := in.waitLog("status=bounced (mail for loop.example loops back to myself)", 30*time.Second)
	if !strings.Contains(log, "to=<user@loop.example>") || !strings.Contains(log, "dsn=5.4.6") {
		t.Errorf("log lacks the loop bounce of user@loop.example:\n%s", log)
	}
	bounce := origin.waitMessages(t, in, 1, 30*time.Second)[0]
	assertEnvelope(t, bounce, "", "sender@origin.example")
	assertContains(t, "bounce", bounce.Data, "<user@loop.example>: mail for loop.example loops back to myself")
}

// loggedBy returns the program tag and PID of the first log line that
// contains text ("postfix/bounce", "4121"), failing the test when no
// line does.
func loggedBy(t *testing.T, log, text string) (program, pid string) {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, text) {
			continue
		}
		m := regexp.MustCompile(` ([^ \[]+)\[([0-9]+)\]: `).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no program[pid] in %q", line)
		}
		return m[1], m[2]
	}
	t.Fatalf("log lacks %q:\n%s", text, log)
	return "", ""
}

// assertLoggedBy checks that the line with text is logged as program
// with the PID of the line with pidOf: a line of a Postfix program whose
// work Postern's qmgr does carries that program's name and qmgr's PID.
func assertLoggedBy(t *testing.T, log, text, program, pidOf string) {
	t.Helper()
	gotProgram, gotPID := loggedBy(t, log, text)
	_, wantPID := loggedBy(t, log, pidOf)
	if gotProgram != program || gotPID != wantPID {
		t.Errorf("%q logged as %s[%s], want %s[%s]:\n%s", text, gotProgram, gotPID, program, wantPID, log)
	}
}
