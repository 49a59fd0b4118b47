// End-to-end tests of routing as Postfix's trivial-rewrite, qmgr, smtp and
// cleanup do it: connection caching on demand, fallback relays,
// sender-dependent routing, dead transports, generic mapping, BCC and
// masquerading, asserted at go-smtp sinks.

package tests

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/tests/internal/harness"
)

// TestRoutingConnCacheOnDemand is the scenario: a message sent
// right after a delivery to the secondary MX goes to the primary, now
// back, because nothing was backlogged and no connection was cached; a
// backlog (one destination, one delivery at a time) then reuses the
// connection, as Postfix's smtp_connection_cache_on_demand does.
func TestRoutingConnCacheOnDemand(t *testing.T) {
	port := sinkPort(t)
	dns := twoMX(t, "pref.example")
	backup := startSink(t, "127.0.0.6:"+port, "mx2.sink", sinkOptions{})
	in := startDelivery(t, fmt.Sprintf(`myhostname = gw.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
smtp_connection_cache_time_limit = 60s
smtp_destination_recipient_limit = 1
smtp_destination_concurrency_limit = 1
`, dns.Addr, port))

	in.send("sender@client.example", []string{"first@pref.example"}, "Subject: one\r\n\r\none\r\n")
	backup.waitMessages(t, in, 1, 30*time.Second)
	log := in.waitLog("to=<first@pref.example>", 30*time.Second)
	assertSent(t, log, "first@pref.example", "mx2.pref.example", "127.0.0.6", port)

	primary := startSink(t, "127.0.0.5:"+port, "mx1.sink", sinkOptions{})
	in.send("sender@client.example", []string{"second@pref.example"}, "Subject: two\r\n\r\ntwo\r\n")
	assertEnvelope(t, primary.waitMessages(t, in, 1, 30*time.Second)[0], "sender@client.example", "second@pref.example")
	log = in.waitLog("to=<second@pref.example>", 30*time.Second)
	assertSent(t, log, "second@pref.example", "mx1.pref.example", "127.0.0.5", port)
	if n := len(backup.received()); n != 1 {
		t.Errorf("backup MX got %d messages, want 1", n)
	}

	// Three recipients, one per request, one request at a time: the
	// second is back to back with the first and caches its connection,
	// the third reuses it.
	in.send("sender@client.example", []string{"r1@pref.example", "r2@pref.example", "r3@pref.example"}, "Subject: three\r\n\r\nthree\r\n")
	primary.waitMessages(t, in, 4, 30*time.Second)
	log = in.waitLogCount("@pref.example>, relay=mx1.pref.example", 4, 30*time.Second)
	if !strings.Contains(log, "relay=mx1.pref.example[127.0.0.5]:"+port+", conn_use=2, delay=") {
		t.Errorf("no delivery over a reused connection (conn_use=2):\n%s", log)
	}
}

// TestRoutingConnCacheDestinations: a destination listed in
// smtp_connection_cache_destinations keeps its connection without a
// backlog, so the next message goes over the cached connection to the
// secondary, as in Postfix.
func TestRoutingConnCacheDestinations(t *testing.T) {
	port := sinkPort(t)
	dns := twoMX(t, "cached.example")
	backup := startSink(t, "127.0.0.6:"+port, "mx2.sink", sinkOptions{})
	in := startDelivery(t, fmt.Sprintf(`myhostname = gw.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
smtp_connection_cache_time_limit = 60s
smtp_connection_cache_destinations = cached.example
`, dns.Addr, port))

	in.send("sender@client.example", []string{"first@cached.example"}, "Subject: one\r\n\r\none\r\n")
	backup.waitMessages(t, in, 1, 30*time.Second)
	in.waitLog("to=<first@cached.example>", 30*time.Second)
	startSink(t, "127.0.0.5:"+port, "mx1.sink", sinkOptions{})
	in.send("sender@client.example", []string{"second@cached.example"}, "Subject: two\r\n\r\ntwo\r\n")
	assertEnvelope(t, backup.waitMessages(t, in, 2, 30*time.Second)[1], "sender@client.example", "second@cached.example")
	log := in.waitLog("to=<second@cached.example>", 30*time.Second)
	assertContains(t, "log", log, "to=<second@cached.example>, relay=mx2.cached.example[127.0.0.6]:"+port+", conn_use=2, delay=")
}

// TestRoutingFallbackRelay: mail for a domain whose exchanger is down, and
// for a domain that does not exist, goes to smtp_fallback_relay.
func TestRoutingFallbackRelay(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t,
		"down.example. 300 IN MX 10 mx.down.example.",
		"mx.down.example. 300 IN A 127.0.0.5",
	)
	fallback := startSink(t, "127.0.0.7:"+port, "fallback.sink", sinkOptions{})
	in := startDelivery(t, fmt.Sprintf(`myhostname = gw.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
smtp_fallback_relay = [127.0.0.7]
`, dns.Addr, port))

	in.send("sender@client.example", []string{"a@down.example"}, "Subject: down\r\n\r\ndown\r\n")
	in.send("sender@client.example", []string{"b@missing.example"}, "Subject: missing\r\n\r\nmissing\r\n")
	msgs := fallback.waitMessages(t, in, 2, 30*time.Second)
	got := map[string]bool{}
	for _, m := range msgs {
		got[strings.Join(m.To, ",")] = true
	}
	if !got["a@down.example"] || !got["b@missing.example"] {
		t.Errorf("fallback relay got %v", got)
	}
	log := in.waitLogCount("relay=127.0.0.7[127.0.0.7]:"+port, 2, 30*time.Second)
	assertSent(t, log, "a@down.example", "127.0.0.7", "127.0.0.7", port)
	assertSent(t, log, "b@missing.example", "127.0.0.7", "127.0.0.7", port)
	assertContains(t, "log", log, "connect to mx.down.example[127.0.0.5]:"+port+": Connection refused")
}

// TestRoutingSenderDependent: sender_dependent_relayhost_maps sends one
// sender's mail through its own smarthost, and
// sender_dependent_default_transport_maps another sender's through the
// relay transport to a third host; other mail goes by MX.
func TestRoutingSenderDependent(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t,
		"remote.example. 300 IN MX 10 mx.remote.example.",
		"mx.remote.example. 300 IN A 127.0.0.9",
	)
	mx := startSink(t, "127.0.0.9:"+port, "mx.sink", sinkOptions{})
	smarthost := startSink(t, "127.0.0.8:"+port, "smarthost.sink", sinkOptions{})
	bulk := startSink(t, "127.0.0.10:"+port, "bulk.sink", sinkOptions{})
	in := newDelivery(t, fmt.Sprintf(`myhostname = gw.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
`, dns.Addr, port))
	relays := in.writeMap("sender_relay", "alice@client.example [127.0.0.8]\n")
	transports := in.writeMap("sender_transport", "@bulk.example relay:[127.0.0.10]\n")
	in.appendMainCF("sender_dependent_relayhost_maps = " + relays + "\nsender_dependent_default_transport_maps = " + transports + "\n")
	in.run()

	in.send("alice@client.example", []string{"a@remote.example"}, "Subject: alice\r\n\r\nalice\r\n")
	in.send("news@bulk.example", []string{"b@remote.example"}, "Subject: bulk\r\n\r\nbulk\r\n")
	in.send("carol@client.example", []string{"c@remote.example"}, "Subject: carol\r\n\r\ncarol\r\n")
	assertEnvelope(t, smarthost.waitMessages(t, in, 1, 30*time.Second)[0], "alice@client.example", "a@remote.example")
	assertEnvelope(t, bulk.waitMessages(t, in, 1, 30*time.Second)[0], "news@bulk.example", "b@remote.example")
	assertEnvelope(t, mx.waitMessages(t, in, 1, 30*time.Second)[0], "carol@client.example", "c@remote.example")
	log := in.waitLogCount("status=sent", 3, 30*time.Second)
	assertSent(t, log, "a@remote.example", "127.0.0.8", "127.0.0.8", port)
	assertSent(t, log, "b@remote.example", "127.0.0.10", "127.0.0.10", port)
	assertSent(t, log, "c@remote.example", "mx.remote.example", "127.0.0.9", port)
}

// TestRoutingBCCAndMasquerade: cleanup adds the always_bcc,
// sender_bcc_maps and recipient_bcc_maps recipients, and masquerades the
// envelope sender and the header addresses (Postfix's default
// masquerade_classes) but not the envelope recipients.
func TestRoutingBCCAndMasquerade(t *testing.T) {
	port := sinkPort(t)
	sink := startSink(t, "127.0.0.11:"+port, "hub.sink", sinkOptions{})
	in := newDelivery(t, fmt.Sprintf(`myhostname = gw.test.example
mydestination =
smtp_tcp_port = %s
masquerade_domains = client.example
masquerade_exceptions = root
always_bcc = archive@archive.example
`, port))
	transport := in.writeMap("transport", "* :[127.0.0.11]\n")
	senderBCC := in.writeMap("sender_bcc", "@client.example sent-copy@archive.example\n")
	rcptBCC := in.writeMap("recipient_bcc", "boss@remote.example boss-copy@archive.example\n")
	in.appendMainCF("transport_maps = " + transport + "\nsender_bcc_maps = " + senderBCC + "\nrecipient_bcc_maps = " + rcptBCC + "\n")
	in.run()

	in.send("alice@host.client.example", []string{"boss@remote.example", "bob@mail.client.example"},
		"From: Alice <alice@host.client.example>\r\nTo: boss@remote.example, root@host.client.example\r\nSubject: bcc\r\n\r\nbody\r\n")
	msgs := sink.waitMessages(t, in, 1, 30*time.Second)
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
	}
	want := "archive@archive.example,bob@mail.client.example,boss-copy@archive.example,boss@remote.example,sent-copy@archive.example"
	got := append([]string(nil), to...)
	sort.Strings(got)
	if strings.Join(got, ",") != want {
		t.Errorf("recipients at the sink %v, want %s", got, want)
	}
	m := msgs[0]
	if m.From != "alice@client.example" {
		t.Errorf("envelope sender %s, want the masqueraded alice@client.example", m.From)
	}
	for _, h := range []string{"From: Alice <alice@client.example>\r\n", "To: boss@remote.example, root@host.client.example\r\n"} {
		if !strings.Contains(m.Data, h) {
			t.Errorf("message lacks %q:\n%s", h, m.Data)
		}
	}
	log := in.waitLogCount("status=sent", 5, 30*time.Second)
	if !strings.Contains(log, "to=<archive@archive.example>, relay=127.0.0.11[127.0.0.11]:"+port) {
		t.Errorf("no delivery line for the always_bcc recipient:\n%s", log)
	}
}

// TestRoutingTransportRetryTime: qmgr cannot reach the agent of a
// transport that master.cf lacks; for transport_retry_time it defers that
// transport's mail without trying again, as Postfix's qmgr does.
func TestRoutingTransportRetryTime(t *testing.T) {
	in := newDelivery(t, "myhostname = gw.test.example\nmydestination =\n")
	transport := in.writeMap("transport", "dead.example nosuch:\n")
	in.appendMainCF("transport_maps = " + transport + "\n")
	in.run()

	in.send("sender@client.example", []string{"a@dead.example"}, "Subject: one\r\n\r\none\r\n")
	in.waitLog("to=<a@dead.example>, relay=none", 30*time.Second)
	in.send("sender@client.example", []string{"b@dead.example"}, "Subject: two\r\n\r\ntwo\r\n")
	log := in.waitLog("to=<b@dead.example>, relay=none", 30*time.Second)
	warning := "warning: connect to transport private/nosuch: No such file or directory"
	if n := strings.Count(log, warning); n != 1 {
		t.Errorf("%d attempts to reach the dead transport, want 1:\n%s", n, log)
	}
	for _, rcpt := range []string{"a@dead.example", "b@dead.example"} {
		if !regexp.MustCompile(`to=<` + regexp.QuoteMeta(rcpt) + `>, relay=none, delay=[0-9.]+, delays=[0-9./]+, dsn=4\.3\.0, status=deferred \(mail transport unavailable\)`).MatchString(log) {
			t.Errorf("no deferral line for %s:\n%s", rcpt, log)
		}
	}
	// As in Postfix, qmgr warns that it cannot reach the agent, and
	// both recipients go to the retry service, whose error(8) logs them:
	// postfix/error, here with qmgr's PID.
	assertLoggedBy(t, log, warning, "postfix/qmgr", warning)
	assertLoggedBy(t, log, "to=<a@dead.example>, relay=none", "postfix/error", warning)
	assertLoggedBy(t, log, "to=<b@dead.example>, relay=none", "postfix/error", warning)

	if os.Geteuid() != 0 {
		return
	}
	realAddr := harness.FreeAddr(t)
	real := startRealPostfixRelayWith(t, realAddr, "dead.example nosuch:\n", func(string) string { return "" })
	if err := harness.SendMail(realAddr, "sender@client.example", []string{"c@dead.example"}, []byte("Subject: one\r\n\r\none\r\n")); err != nil {
		t.Fatalf("send to the real Postfix: %v", err)
	}
	realLog := real.waitLog(t, "to=<c@dead.example>, relay=none", 30*time.Second)
	if program, _ := loggedBy(t, realLog, warning); program != "postfix/qmgr" {
		t.Errorf("the real Postfix logs %q as %s:\n%s", warning, program, realLog)
	}
	if program, _ := loggedBy(t, realLog, "to=<c@dead.example>, relay=none"); program != "postfix/error" {
		t.Errorf("the real Postfix logs the deferral as %s:\n%s", program, realLog)
	}
}

// TestRoutingDeferTransports: defer_transports defers the transport's
// recipients without an attempt, logged as Postfix's retry service logs
// them (error(8): postfix/error, here with qmgr's PID), until postqueue
// -f delivers them; with root the real Postfix logs the same line.
func TestRoutingDeferTransports(t *testing.T) {
	port := sinkPort(t)
	sink := startSink(t, "127.0.0.21:"+port, "held.sink", sinkOptions{})
	in := newDelivery(t, "myhostname = gw.test.example\nmydestination =\ndefer_transports = smtp\n")
	in.appendMainCF("transport_maps = " + in.writeMap("transport", fmt.Sprintf("held.example smtp:[127.0.0.21]:%s\n", port)) + "\n")
	in.run()

	in.send("sender@client.example", []string{"a@held.example"}, "Subject: held\r\n\r\nheld\r\n")
	log := in.waitLog("to=<a@held.example>, relay=none", 30*time.Second)
	if !regexp.MustCompile(`postfix/error\[[0-9]+\]: [0-9A-F]+: to=<a@held\.example>, relay=none, delay=[0-9.]+, delays=[0-9./]+, dsn=4\.3\.2, status=deferred \(deferred transport\)\n`).MatchString(log) {
		t.Errorf("no deferral line for a@held.example:\n%s", log)
	}
	id := queueIDOf(t, log, "a@held.example")
	assertLoggedBy(t, log, "to=<a@held.example>, relay=none", "postfix/error", id+": from=<sender@client.example>")
	// A flush before the message is in deferred/ would not cover it.
	in.waitListedDeferred(id, "deferred transport")
	in.postqueue("-f")
	assertEnvelope(t, sink.waitMessages(t, in, 1, 30*time.Second)[0], "sender@client.example", "a@held.example")

	if os.Geteuid() != 0 {
		return
	}
	realAddr := harness.FreeAddr(t)
	real := startRealPostfixRelayWith(t, realAddr, fmt.Sprintf("held.example smtp:[127.0.0.21]:%s\n", port),
		func(string) string { return "defer_transports = smtp\n" })
	if err := harness.SendMail(realAddr, "sender@client.example", []string{"b@held.example"}, []byte("Subject: held\r\n\r\nheld\r\n")); err != nil {
		t.Fatalf("send to the real Postfix: %v", err)
	}
	realLog := real.waitLog(t, "to=<b@held.example>, relay=none", 30*time.Second)
	if program, _ := loggedBy(t, realLog, "to=<b@held.example>, relay=none"); program != "postfix/error" {
		t.Errorf("the real Postfix logs the deferral as %s:\n%s", program, realLog)
	}
}
