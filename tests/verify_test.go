// End-to-end test of address verification: a relay hub in front of an
// internal server (a go-smtp sink that refuses unknown users with 550)
// refuses unknown recipients at RCPT TO with reject_unverified_recipient,
// after a probe through the normal delivery path, and keeps what it
// learnt across postfix reload.

package tests

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// startVerifyHub starts a hub relaying hub.example to an internal sink
// that refuses addresses starting with "nobody", with verify in
// master.cf and mainCF appended to main.cf.
func startVerifyHub(t *testing.T, mainCF string) (*deliveryRun, *smtpSink) {
	t.Helper()
	sinkAddr := harness.FreeAddr(t)
	sink := startSink(t, sinkAddr, "internal.example", sinkOptions{rejectPrefix: "nobody"})
	in := newDelivery(t, "")
	harness.WriteFile(t, filepath.Join(in.etc, "transport"), "hub.example smtp:["+strings.Replace(sinkAddr, ":", "]:", 1)+"\n")
	in.giveAway(filepath.Join(in.etc, "transport"))
	in.appendMainCF(fmt.Sprintf(`relay_domains = hub.example
transport_maps = texthash:%s/transport
smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
`, in.etc) + mainCF)
	data, err := os.ReadFile(filepath.Join(in.etc, "master.cf"))
	if err != nil {
		t.Fatal(err)
	}
	in.writeMasterCF(string(data) + "verify unix - - n - 1 verify\n")
	if err := os.Symlink(harness.Bin(t, "verify"), filepath.Join(in.daemonDir, "verify")); err != nil {
		t.Fatal(err)
	}
	return in.run(), sink
}

// smtpRcpt opens a session from 127.0.0.1 up to MAIL FROM.
func smtpRcpt(t *testing.T, in *deliveryRun) *smtpDialogue {
	t.Helper()
	d := dialSMTP(t, in.addr, "127.0.0.1")
	if banner, err := d.r.ReadString('\n'); err != nil || !strings.HasPrefix(banner, "220 ") {
		t.Fatalf("banner: %q, %v", banner, err)
	}
	if line := d.replyLine("HELO client.example"); !strings.HasPrefix(line, "250 ") {
		t.Fatalf("HELO: %q", line)
	}
	if line := d.replyLine("MAIL FROM:<sender@client.example>"); !strings.HasPrefix(line, "250 ") {
		t.Fatalf("MAIL FROM: %q\nlog:\n%s", line, in.log())
	}
	return d
}

func TestVerifyRelayHub(t *testing.T) {
	in, sink := startVerifyHub(t, `unverified_recipient_reject_code = 550
address_verify_poll_count = 1
`)
	const (
		progress = "Recipient address rejected: unverified address: Address verification in progress"
		unknown  = "nobody@hub.example"
		known    = "known@hub.example"
	)

	// First contact: neither address is known; each query sends a probe.
	d := smtpRcpt(t, in)
	for _, rcpt := range []string{unknown, known} {
		want := "450 4.1.1 <" + rcpt + ">: " + progress
		if got := d.replyLine("RCPT TO:<" + rcpt + ">"); got != want {
			t.Errorf("first RCPT TO:<%s>:\ngot  %s\nwant %s", rcpt, got, want)
		}
	}
	log := in.waitLog("450 4.1.1 <"+unknown+">: "+progress+"; from=<sender@client.example> to=<"+unknown+"> proto=SMTP helo=<client.example>", 10*time.Second)
	if !strings.Contains(log, "NOQUEUE: reject: RCPT from ") {
		t.Errorf("no NOQUEUE reject line:\n%s", log)
	}

	// The probes: MAIL and RCPT without DATA at the internal server,
	// logged as Postfix logs them, then removed from the queue.
	_, port, _ := net.SplitHostPort(sink.addr)
	in.waitLog("to=<"+unknown+">, relay=127.0.0.1[127.0.0.1]:"+port+", ", 20*time.Second)
	log = in.waitLogCount(": removed", 2, 20*time.Second)
	for _, want := range []string{
		"dsn=5.1.1, status=undeliverable (host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <" + unknown + ">: Recipient address rejected: no such user (in reply to RCPT TO command))",
		"to=<" + known + ">, relay=127.0.0.1[127.0.0.1]:" + port + ", ",
		"dsn=2.0.0, status=deliverable (250 2.0.0 I'll make sure <" + known + "> gets this)",
		"from=<double-bounce@",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if n := len(sink.received()); n != 0 {
		t.Errorf("the internal server received %d messages from probes, want none", n)
	}

	// Now the hub knows: the unknown user is refused with the internal
	// server's own words, the known one accepted.
	wantReject := "550 5.1.1 <" + unknown + ">: Recipient address rejected: undeliverable address: host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <" + unknown + ">: Recipient address rejected: no such user (in reply to RCPT TO command)"
	if got := d.replyLine("RCPT TO:<" + unknown + ">"); got != wantReject {
		t.Errorf("RCPT TO:<%s> after the probe:\ngot  %s\nwant %s", unknown, got, wantReject)
	}
	if got := d.replyLine("RCPT TO:<" + known + ">"); !strings.HasPrefix(got, "250 ") {
		t.Errorf("RCPT TO:<%s> after the probe: %s", known, got)
	}
	if got := d.replyLine("DATA"); !strings.HasPrefix(got, "354 ") {
		t.Fatalf("DATA: %s", got)
	}
	if got := d.replyLine("Subject: verified\r\n\r\nhello\r\n."); !strings.HasPrefix(got, "250 ") {
		t.Fatalf("end of DATA: %s", got)
	}
	d.replyLine("QUIT")
	msgs := sink.waitMessages(t, in, 1, 20*time.Second)
	if len(msgs[0].To) != 1 || msgs[0].To[0] != known {
		t.Errorf("delivered to %v, want [%s]", msgs[0].To, known)
	}

	// Nothing stays in the queue: probes are removed, never deferred.
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := in.postqueue("-p")
		if strings.TrimSpace(res.Stdout) == "Mail queue is empty" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postqueue -p: %s", res)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The cache is a btree table in data_directory and outlives the
	// verify process: after a reload the first RCPT is answered from it,
	// without a new probe.
	if _, err := os.Stat(filepath.Join(in.base, "data", "verify_cache.db")); err != nil {
		t.Errorf("address_verify_map file: %v", err)
	}
	probes := strings.Count(in.log(), "status=undeliverable")
	if res := in.postfix("reload"); res.ExitCode != 0 {
		t.Fatalf("postfix reload: %s", res)
	}
	in.waitLog("reload -- version ", 10*time.Second)
	d = smtpRcpt(t, in)
	if got := d.replyLine("RCPT TO:<" + unknown + ">"); got != wantReject {
		t.Errorf("RCPT TO:<%s> after reload:\ngot  %s\nwant %s", unknown, got, wantReject)
	}
	if got := d.replyLine("RCPT TO:<" + known + ">"); !strings.HasPrefix(got, "250 ") {
		t.Errorf("RCPT TO:<%s> after reload: %s", known, got)
	}
	d.replyLine("QUIT")
	if n := strings.Count(in.log(), "status=undeliverable"); n != probes {
		t.Errorf("%d probes after the reload, want none:\n%s", n-probes, in.log())
	}
}
