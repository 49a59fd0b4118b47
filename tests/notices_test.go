// End-to-end tests of the notices qmgr sends: the delayed-mail warning, the postmaster copies of notify_classes, and bounce_template_file.

package tests

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/tests/internal/harness"
)

// noticeOf returns the one message of msgs addressed to rcpt.
func noticeOf(t *testing.T, msgs []sinkMessage, rcpt string) sinkMessage {
	t.Helper()
	var found []sinkMessage
	for _, m := range msgs {
		if len(m.To) == 1 && m.To[0] == rcpt {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d messages to %s, want 1: %+v", len(found), rcpt, msgs)
	}
	return found[0]
}

// wrappedCRLF is a notice line as Postfix wraps it, with the CRLF line
// ends a sink sees.
func wrappedCRLF(line string) string {
	return strings.ReplaceAll(dsn.Wrap(line, 79, 4), "\n", "\r\n")
}

// postfixDelayText is the text real Postfix 3.7 writes in a delay notice
// with delay_warning_time = 2s and the default maximal_queue_lifetime.
const postfixDelayText = `Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host out.test.example.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than 0 hour(s).
It will be retried until it is 5 day(s) old.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<late@slow.example>: connect to slow.example[127.0.0.10]:%s: Connection
    refused
`

// TestNoticesDelayWarning: mail to an unreachable destination gets
// exactly one delayed-mail warning with Postfix's text once
// delay_warning_time has passed, delay_notice_recipient a copy with
// notify_classes = delay, and the message itself is delivered once the
// destination is back.
func TestNoticesDelayWarning(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t, append([]string{"slow.example. 300 IN A 127.0.0.10"}, bounceSinkMX...)...)
	origin := startSink(t, "127.0.0.9:"+port, "mx.origin.example", sinkOptions{})
	in := startDelivery(t, fmt.Sprintf(`myhostname = out.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
delay_warning_time = 2s
notify_classes = delay, resource, software
delay_notice_recipient = postmaster@origin.example
`, dns.Addr, port))

	in.send("sender@origin.example", []string{"late@slow.example"}, "Subject: slow one\r\nMessage-ID: <slow@origin.example>\r\n\r\nbody\r\n")
	msgs := origin.waitMessages(t, in, 2, 30*time.Second)
	// A few more attempts fail before the destination comes back.
	in.waitLogCount("to=<late@slow.example>, relay=none", 4, 30*time.Second)
	dest := startSink(t, "127.0.0.10:"+port, "slow.example", sinkOptions{})
	assertEnvelope(t, dest.waitMessages(t, in, 1, 30*time.Second)[0], "sender@origin.example", "late@slow.example")
	log := in.waitLog("to=<late@slow.example>, relay=slow.example[127.0.0.10]:"+port, 30*time.Second)
	if msgs = origin.received(); len(msgs) != 2 {
		t.Fatalf("origin got %d messages, want one warning and its copy: %+v", len(msgs), msgs)
	}
	id := queueIDOf(t, log, "late@slow.example")

	warning := noticeOf(t, msgs, "sender@origin.example")
	assertEnvelope(t, warning, "", "sender@origin.example")
	assertContains(t, "warning", warning.Data,
		"From: Mail Delivery System <MAILER-DAEMON@out.test.example>\r\n",
		"Subject: Delayed Mail (still being retried)\r\n",
		"Auto-Submitted: auto-replied\r\n",
		"Content-Type: multipart/report; report-type=delivery-status;\r\n",
		strings.ReplaceAll(fmt.Sprintf(postfixDelayText, port), "\n", "\r\n"),
		"Reporting-MTA: dns; out.test.example\r\nX-Postfix-Queue-ID: "+id+"\r\nX-Postfix-Sender: rfc822; sender@origin.example\r\n",
		"Final-Recipient: rfc822; late@slow.example\r\nOriginal-Recipient: rfc822;late@slow.example\r\nAction: delayed\r\nStatus: 4.4.1\r\n",
		"Will-Retry-Until: ",
		"Content-Description: Undelivered Message Headers\r\nContent-Type: message/global-headers\r\n", // net/smtp sent SMTPUTF8
		"Subject: slow one\r\n",
	)
	if strings.Contains(warning.Data, "\r\nbody\r\n") {
		t.Errorf("warning returns the body:\n%s", warning.Data)
	}
	copy := noticeOf(t, msgs, "postmaster@origin.example")
	assertEnvelope(t, copy, "double-bounce@out.test.example", "postmaster@origin.example")
	assertContains(t, "postmaster copy", copy.Data,
		"Subject: Postmaster Warning: Delayed Mail\r\n",
		"Auto-Submitted: auto-generated\r\n",
		"Content-Transfer-Encoding: 8bit\r\n\r\n\r\n<late@slow.example>: connect to ",
	)
	// Postfix's bounce daemon logs the notices; Postern's qmgr sends them
	// and logs them under bounce's name with its own PID.
	qmgrLine := id + ": from=<sender@origin.example>, size="
	assertLoggedBy(t, log, qmgrLine, "postfix/qmgr", qmgrLine)
	assertLoggedBy(t, log, id+": sender delay notification: ", "postfix/bounce", qmgrLine)
	assertLoggedBy(t, log, id+": postmaster delay notification: ", "postfix/bounce", qmgrLine)
	if n := strings.Count(log, id+": sender delay notification: "); n != 1 {
		t.Errorf("%d delay notifications logged, want 1:\n%s", n, log)
	}
}

// TestNoticesBounceCopyAndTemplate: with notify_classes = bounce the
// postmaster gets the headers of a bounced message, and a
// bounce_template_file changes the sender's notice.
func TestNoticesBounceCopyAndTemplate(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t, append([]string{
		"dest.example. 300 IN MX 10 mx.dest.example.",
		"mx.dest.example. 300 IN A 127.0.0.8",
	}, bounceSinkMX...)...)
	startSink(t, "127.0.0.8:"+port, "mx.dest.example", sinkOptions{rejectPrefix: "bad@"})
	origin := startSink(t, "127.0.0.9:"+port, "mx.origin.example", sinkOptions{})
	in := newDelivery(t, fmt.Sprintf(`myhostname = out.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
notify_classes = bounce
bounce_notice_recipient = postmaster@origin.example
`, dns.Addr, port))
	template := filepath.Join(in.etc, "bounce.cf")
	harness.WriteFile(t, template, `# the site's wording
failure_template = <<EOF
Charset: us-ascii
From: Example Mail Robot <MAILER-DAEMON>
Subject: Your message bounced
Postmaster-Subject: Bounce at $myhostname

Sorry: $myhostname could not deliver your mail (kept for $maximal_queue_lifetime_days days).
EOF
`)
	in.giveAway(template)
	in.appendMainCF("bounce_template_file = " + template + "\n")
	in.run()

	in.send("sender@origin.example", []string{"bad@dest.example"}, "Subject: bounce me\r\n\r\nsecret body\r\n")
	msgs := origin.waitMessages(t, in, 2, 30*time.Second)
	log := in.waitLog("postmaster non-delivery notification: ", 30*time.Second)
	id := queueIDOf(t, log, "bad@dest.example")
	qmgrLine := id + ": from=<sender@origin.example>, size="
	assertLoggedBy(t, log, id+": sender non-delivery notification: ", "postfix/bounce", qmgrLine)
	assertLoggedBy(t, log, id+": postmaster non-delivery notification: ", "postfix/bounce", qmgrLine)
	notice := noticeOf(t, msgs, "sender@origin.example")
	assertContains(t, "notice", notice.Data,
		"From: Example Mail Robot <MAILER-DAEMON@out.test.example>\r\n",
		"Subject: Your message bounced\r\n",
		"\r\n\r\nSorry: out.test.example could not deliver your mail (kept for 5 days).\r\n\r\n<bad@dest.example>: host mx.dest.example[127.0.0.8] said: ",
		"Action: failed\r\n",
		"secret body",
	)
	copy := noticeOf(t, msgs, "postmaster@origin.example")
	assertEnvelope(t, copy, "double-bounce@out.test.example", "postmaster@origin.example")
	assertContains(t, "postmaster copy", copy.Data,
		"Subject: Bounce at $myhostname\r\n",
		"Content-Description: Undelivered Message Headers\r\n",
		"Subject: bounce me\r\n",
	)
	if strings.Contains(copy.Data, "Sorry:") || strings.Contains(copy.Data, "secret body") {
		t.Errorf("postmaster copy has the text or the body:\n%s", copy.Data)
	}
}

// TestNoticesSMTPTranscript: with notify_classes = protocol, a session
// with a protocol error sends error_notice_recipient its transcript, as
// Postfix's smtpd does.
func TestNoticesSMTPTranscript(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t, bounceSinkMX...)
	origin := startSink(t, "127.0.0.9:"+port, "mx.origin.example", sinkOptions{})
	in := startDelivery(t, fmt.Sprintf(`myhostname = out.test.example
mydestination =
dns_servers = %s
smtp_tcp_port = %s
notify_classes = protocol
error_notice_recipient = postmaster@origin.example
`, dns.Addr, port))

	c, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	readReply := func() string {
		var last string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			last = line
			if len(line) < 4 || line[3] != '-' {
				return last
			}
		}
	}
	readReply()
	for _, cmd := range []string{"EHLO client.example", "FOO", "MAIL FROM:<a@origin.example>", "MAIL FROM:<a@origin.example>", "QUIT"} {
		fmt.Fprintf(c, "%s\r\n", cmd)
		readReply()
	}
	notice := origin.waitMessages(t, in, 1, 30*time.Second)[0]
	assertEnvelope(t, notice, "double-bounce@out.test.example", "postmaster@origin.example")
	assertContains(t, "transcript", notice.Data,
		"From: Mail Delivery System <MAILER-DAEMON@out.test.example>\r\n",
		"To: Postmaster <postmaster@origin.example>\r\n",
		"Subject: Postern SMTP server: errors from unknown[127.0.0.1]\r\n",
		"Received: by out.test.example (Postern)\r\n\tid ",
		"\r\n\r\nTranscript of session follows.\r\n\r\n Out: 220 out.test.example ESMTP Postern\r\n In:  EHLO client.example\r\n Out: 250-out.test.example\r\n",
		"\r\n In:  FOO\r\n Out: 500 5.5.2 Error: command not recognized\r\n In:  MAIL FROM:<a@origin.example>\r\n Out: 250 2.1.0 Ok\r\n"+
			" In:  MAIL FROM:<a@origin.example>\r\n Out: 503 5.5.1 Error: nested MAIL command\r\n In:  QUIT\r\n Out: 221 2.0.0 Bye\r\n\r\n\r\nFor other details, see the local mail logfile\r\n",
	)
}

// noticeNormalizer rewrites what differs by nature between two notices
// of the same message: host names, queue IDs, times.
func noticeNormalizer(hostname, queueID string) func(string) string {
	dates := regexp.MustCompile(`(Arrival-Date|Will-Retry-Until): [^\r\n]*`)
	stamp := regexp.MustCompile(`QUEUEID\.[0-9]+/HOST`)
	return func(s string) string {
		s = strings.ReplaceAll(s, hostname, "HOST")
		s = strings.ReplaceAll(s, queueID, "QUEUEID")
		s = dates.ReplaceAllString(s, "$1: DATE")
		return stamp.ReplaceAllString(s, "QUEUEID.TIME/HOST")
	}
}

// noticeParts returns a notice's own headers (From to
// Content-Transfer-Encoding, as bounce writes them) and its body up to
// the returned headers, whose Received: lines differ between MTAs.
func noticeParts(t *testing.T, data string) (headers, body string) {
	t.Helper()
	head, rest, ok := strings.Cut(data, "\r\n\r\n")
	if !ok {
		t.Fatalf("no body:\n%s", data)
	}
	var keep []string
	inFolded := false
	for _, line := range strings.Split(head, "\r\n") {
		name, _, _ := strings.Cut(line, ":")
		switch {
		case strings.HasPrefix(line, "\t") || strings.HasPrefix(line, " "):
			if inFolded {
				keep = append(keep, line)
			}
		case name == "From" || name == "Subject" || name == "To" || name == "Auto-Submitted" ||
			name == "MIME-Version" || name == "Content-Type" || name == "Content-Transfer-Encoding":
			keep = append(keep, line)
			inFolded = true
		default:
			inFolded = false
		}
	}
	body, _, ok = strings.Cut(rest, "Return-Path: ")
	if !ok {
		t.Fatalf("no returned headers:\n%s", data)
	}
	return strings.Join(keep, "\r\n"), body
}

// realNotice is one notice to compare between the real Postfix and
// Postern: both route route (transport_maps lines for the recipient's
// domain) and origin.example to a sink of their own, with mainCF added
// to main.cf.
type realNotice struct {
	mainCF string
	route  string
	rcpt   string
	body   string
	logged string // what the real Postfix logs when it sends the notice
}

// compareNoticeWithRealPostfix sends n.body from sender@origin.example
// to n.rcpt through the real Postfix and through Postern, waits for the
// notice each returns to the sender, and compares their headers, text
// and delivery report, up to host names, queue IDs and times. It returns
// the real Postfix's notice and Postern's.
func compareNoticeWithRealPostfix(t *testing.T, port string, n realNotice) (want, got sinkMessage) {
	t.Helper()
	realAddr := harness.FreeAddr(t)
	viaReal := startSink(t, "127.0.0.18:"+port, "origin-of-real.sink", sinkOptions{})
	viaPostern := startSink(t, "127.0.0.19:"+port, "origin-of-postern.sink", sinkOptions{})
	real := startRealPostfixRelayWith(t, realAddr, n.route+fmt.Sprintf("origin.example smtp:[127.0.0.18]:%s\n", port),
		func(string) string { return n.mainCF })
	in := newDelivery(t, "myhostname = postern.test.example\nmydestination =\n"+n.mainCF)
	in.appendMainCF("transport_maps = " + in.writeMap("transport", n.route+fmt.Sprintf(
		"origin.example smtp:[127.0.0.19]:%s\n", port)) + "\n")
	in.run()

	if err := harness.SendMail(realAddr, "sender@origin.example", []string{n.rcpt}, []byte(n.body)); err != nil {
		t.Fatalf("send to the real Postfix: %v\nlog:\n%s", err, real.log())
	}
	in.send("sender@origin.example", []string{n.rcpt}, n.body)
	want = viaReal.waitMessages(t, in, 1, 60*time.Second)[0]
	got = viaPostern.waitMessages(t, in, 1, 60*time.Second)[0]
	realLog := real.waitLog(t, n.logged, 30*time.Second)
	realID := queueIDOf(t, realLog, n.rcpt)
	posternLog := in.waitLog(n.logged, 30*time.Second)
	posternID := queueIDOf(t, posternLog, n.rcpt)
	// Both log the notice as postfix/bounce: Postfix from its bounce
	// daemon, Postern from qmgr under bounce's name.
	if got, _ := loggedBy(t, posternLog, posternID+": "+n.logged); got != "postfix/bounce" {
		t.Errorf("Postern logs %q as %s", n.logged, got)
	}
	if want, _ := loggedBy(t, realLog, realID+": "+n.logged); want != "postfix/bounce" {
		t.Errorf("the real Postfix logs %q as %s", n.logged, want)
	}
	wantHeaders, wantBody := noticeParts(t, noticeNormalizer("realpf.test.example", realID)(want.Data))
	gotHeaders, gotBody := noticeParts(t, noticeNormalizer("postern.test.example", posternID)(got.Data))
	if gotHeaders != wantHeaders {
		t.Errorf("headers differ from real Postfix's:\n got:\n%s\nwant:\n%s", gotHeaders, wantHeaders)
	}
	if gotBody != wantBody {
		t.Errorf("text and report differ from real Postfix's:\n got:\n%s\nwant:\n%s", gotBody, wantBody)
	}
	return want, got
}

// TestNoticesDelayWarningMatchesRealPostfix sends the same message to an
// unreachable destination through the real Postfix and through Postern,
// both with delay_warning_time = 2s, and compares the two delay
// notices: headers, text and delivery report, up to host names, queue
// IDs and times.
func TestNoticesDelayWarningMatchesRealPostfix(t *testing.T) {
	want, got := compareNoticeWithRealPostfix(t, sinkPort(t), realNotice{
		mainCF: "delay_warning_time = 2s\nminimal_backoff_time = 1s\nmaximal_backoff_time = 2s\nqueue_run_delay = 1s\n",
		route:  "slow.example smtp:[127.0.0.1]:1\n",
		rcpt:   "late@slow.example",
		body:   "Subject: slow one\r\nMessage-ID: <slow@origin.example>\r\nFrom: <sender@origin.example>\r\n\r\nbody\r\n",
		logged: "sender delay notification: ",
	})
	assertEnvelope(t, got, "", "sender@origin.example")
	assertEnvelope(t, want, "", "sender@origin.example")
}

// TestNoticesBounceMatchesRealPostfix compares the non-delivery
// notification for a recipient the next hop refuses with 550, sent by
// the real Postfix and by Postern for the same message.
func TestNoticesBounceMatchesRealPostfix(t *testing.T) {
	port := sinkPort(t)
	startSink(t, "127.0.0.20:"+port, "dest.sink", sinkOptions{rejectPrefix: "bad@"})
	compareNoticeWithRealPostfix(t, port, realNotice{
		route:  fmt.Sprintf("dest.example smtp:[127.0.0.20]:%s\n", port),
		rcpt:   "bad@dest.example",
		body:   "Subject: bounce me\r\nMessage-ID: <bounce@origin.example>\r\nFrom: <sender@origin.example>\r\n\r\nbody\r\n",
		logged: "sender non-delivery notification: ",
	})
}
