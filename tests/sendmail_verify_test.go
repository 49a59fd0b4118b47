// End-to-end tests of sendmail -bv: nothing is delivered and the sender
// gets a delivery status report per recipient (verify_template).

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// TestSendmailBvMatchesRealPostfix asks the real Postfix and Postern
// with sendmail -bv about a recipient the next hop accepts and one it
// refuses, and compares the two reports.
func TestSendmailBvMatchesRealPostfix(t *testing.T) {
	compareSendmailReport(t, "-bv", "", "deliverable", "undeliverable", "undeliverable")
}

// TestSendmailVerboseReportMatchesRealPostfix sends a message with
// sendmail -v to a recipient the next hop accepts and one it refuses:
// the message is delivered and bounced as usual, and the sender also
// gets the report of the attempt, compared with real Postfix's.
func TestSendmailVerboseReportMatchesRealPostfix(t *testing.T) {
	compareSendmailReport(t, "-v", "Subject: hi\n\nbody\n", "sent", "bounced", "deferred")
}

// compareSendmailReport runs sendmail with flag for good@, bad@ and
// late@ of a next hop that refuses bad@ and fails late@ temporarily,
// with the real Postfix and with Postern, and compares what sendmail
// prints and the "Mail Delivery Status Report" each sender gets;
// goodStatus, badStatus and lateStatus are the status= words of both
// MTAs' log lines (a -bv probe that fails temporarily is undeliverable
// at once in Postfix too).
func compareSendmailReport(t *testing.T, flag, stdin, goodStatus, badStatus, lateStatus string) {
	port := sinkPort(t)
	realAddr := harness.FreeAddr(t)
	startSink(t, "127.0.0.20:"+port, "dest.sink", sinkOptions{rejectPrefix: "bad@", tempFailPrefix: "late@"})
	viaReal := startSink(t, "127.0.0.18:"+port, "origin-of-real.sink", sinkOptions{})
	viaPostern := startSink(t, "127.0.0.19:"+port, "origin-of-postern.sink", sinkOptions{})
	var realEtc string
	real := startRealPostfixRelayWith(t, realAddr, fmt.Sprintf("dest.example smtp:[127.0.0.20]:%s\norigin.example smtp:[127.0.0.18]:%s\n", port, port),
		func(etc string) string { realEtc = etc; return "" }, "pickup unix n - n 60 1 pickup\n")
	in := newDelivery(t, "myhostname = postern.test.example\nmydestination =\n")
	in.addPickup()
	in.appendMainCF("transport_maps = " + in.writeMap("transport", fmt.Sprintf(
		"dest.example smtp:[127.0.0.20]:%s\norigin.example smtp:[127.0.0.19]:%s\n", port, port)) + "\n")
	in.run()
	waitForPath(t, filepath.Join(in.queue, "public", "pickup"), 30*time.Second)

	args := []string{flag, "-f", "sender@origin.example", "good@dest.example", "bad@dest.example", "late@dest.example"}
	pf := harness.RealPostfix(t)
	realRes := harness.Invocation{Path: pf.Path(t, "sendmail"), ConfigDir: realEtc, ConfigViaEnv: true, Args: args, Stdin: stdin}.Run(t)
	if realRes.ExitCode != 0 {
		t.Fatalf("real sendmail %s: %s", flag, realRes)
	}
	res := harness.Invocation{Path: harness.Bin(t, "sendmail"), ConfigDir: in.etc, ConfigViaEnv: true, Args: args, Stdin: stdin}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("sendmail %s: %s", flag, res)
	}
	if res.Stdout != realRes.Stdout {
		t.Errorf("sendmail %s printed %q, real Postfix's %q", flag, res.Stdout, realRes.Stdout)
	}
	realLog := real.waitLog(t, "sender delivery status notification: ", 60*time.Second)
	in.waitLog("sender delivery status notification: ", 60*time.Second)
	want := reportOf(t, viaReal, in)
	got := reportOf(t, viaPostern, in)
	realID := queueIDOf(t, realLog, "good@dest.example")
	posternID := queueIDOf(t, in.log(), "good@dest.example")
	if !strings.Contains(in.log(), posternID+": sender delivery status notification: ") {
		t.Errorf("no report log line for %s:\n%s", posternID, in.log())
	}
	for _, line := range []string{"to=<good@dest.example>, .*status=" + goodStatus, "to=<bad@dest.example>, .*status=" + badStatus,
		"to=<late@dest.example>, .*dsn=4.3.0, status=" + lateStatus + " "} {
		if !regexp.MustCompile(line).MatchString(in.log()) {
			t.Errorf("no log line %q:\n%s", line, in.log())
		}
		if !regexp.MustCompile(line).MatchString(realLog) {
			t.Errorf("the real Postfix logs no line %q:\n%s", line, realLog)
		}
	}
	wantHeaders, wantBody := noticeParts(t, noticeNormalizer("realpf.test.example", realID)(want.Data))
	gotHeaders, gotBody := noticeParts(t, noticeNormalizer("postern.test.example", posternID)(got.Data))
	if gotHeaders != wantHeaders {
		t.Errorf("headers differ from real Postfix's:\n got:\n%s\nwant:\n%s", gotHeaders, wantHeaders)
	}
	if gotBody != wantBody {
		t.Errorf("text and report differ from real Postfix's:\n got:\n%s\nwant:\n%s", gotBody, wantBody)
	}
	assertEnvelope(t, got, "", "sender@origin.example")
}

// reportOf waits for the "Mail Delivery Status Report" among the
// messages sink receives.
func reportOf(t *testing.T, sink *smtpSink, in *deliveryRun) sinkMessage {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range sink.received() {
			if strings.Contains(m.Data, "Subject: Mail Delivery Status Report\r\n") {
				return m
			}
		}
	}
	t.Fatalf("sink %s has no report after 60s; log:\n%s", sink.name, in.log())
	return sinkMessage{}
}

// TestSendmailBvReportsDeliverableAndUndeliverable runs sendmail -bv for
// a virtual mailbox and an unknown user of the same domain: nothing is
// delivered, and the sender's mailbox receives one report saying the
// first is deliverable and the second undeliverable.
func TestSendmailBvReportsDeliverableAndUndeliverable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("virtual delivery needs root")
	}
	addr := harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{asRoot: true, masterCF: fmt.Sprintf(`%s inet n - n - - smtpd
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
virtual unix - n n - - virtual
%s`, addr, postlogServiceLine)})
	for _, name := range []string{"smtpd", "pickup", "cleanup", "qmgr", "virtual", "sendmail"} {
		if err := os.Symlink(harness.Bin(t, name), filepath.Join(in.daemonDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	mailBase := filepath.Join(in.base, "mail")
	if err := os.Mkdir(mailBase, 0o755); err != nil {
		t.Fatal(err)
	}
	in.appendMainCF(fmt.Sprintf(`myhostname = mx.test.example
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
virtual_mailbox_domains = example.test
virtual_mailbox_base = %s
virtual_mailbox_maps = inline:{ bob@example.test=bob/ }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
`, mailBase))
	if err := os.Chown(mailBase, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	in.start()
	waitListening(t, addr)
	waitForPath(t, filepath.Join(in.queue, "public", "pickup"), 30*time.Second)

	res := harness.Invocation{Path: harness.Bin(t, "sendmail"), ConfigDir: in.etc, ConfigViaEnv: true,
		Args: []string{"-bv", "-f", "bob@example.test", "bob@example.test", "nobody@example.test"}}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("sendmail -bv: %s", res)
	}
	log := in.waitLog("sender delivery status notification: ", 60*time.Second)
	newDir := filepath.Join(mailBase, "bob", "new")
	var files []os.DirEntry
	for deadline := time.Now().Add(60 * time.Second); ; {
		files, _ = os.ReadDir(newDir)
		if len(files) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(files) != 1 {
		t.Fatalf("bob's Maildir has %d messages, want the report only; log:\n%s", len(files), in.log())
	}
	data, err := os.ReadFile(filepath.Join(newDir, files[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	report := string(data)
	for _, want := range []string{
		"Subject: Mail Delivery Status Report\n",
		"Enclosed is the mail delivery report that you requested.",
		"\nFinal-Recipient: rfc822; bob@example.test\nOriginal-Recipient: rfc822;bob@example.test\nAction: deliverable\nStatus: 2.0.0\n",
		"\nFinal-Recipient: rfc822; nobody@example.test\nOriginal-Recipient: rfc822;nobody@example.test\nAction: undeliverable\nStatus: 5.1.1\n",
		"Content-Description: Message Headers\n",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !regexp.MustCompile(`to=<bob@example\.test>, relay=virtual, .*status=deliverable`).MatchString(log) {
		t.Errorf("no deliverable log line for bob:\n%s", log)
	}
	if !regexp.MustCompile(`to=<nobody@example\.test>, .*status=undeliverable`).MatchString(log) {
		t.Errorf("no undeliverable log line for nobody:\n%s", log)
	}
}
