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
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
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
	return startVerifyHubTo(t, mainCF, sinkAddr), sink
}

// startVerifyHubTo is startVerifyHub relaying to the server at sinkAddr.
func startVerifyHubTo(t *testing.T, mainCF, sinkAddr string) *deliveryRun {
	t.Helper()
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
	return in.run()
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
	log := in.waitLog("450 4.1.1 <"+unknown+">: "+progress+"; from=<sender@client.example> to=<"+unknown+"> proto=SMTP helo=<client.example>", 30*time.Second)
	if !strings.Contains(log, "NOQUEUE: reject: RCPT from ") {
		t.Errorf("no NOQUEUE reject line:\n%s", log)
	}

	// The probes: MAIL and RCPT without DATA at the internal server,
	// logged as Postfix logs them, then removed from the queue.
	_, port, _ := net.SplitHostPort(sink.addr)
	in.waitLog("to=<"+unknown+">, relay=127.0.0.1[127.0.0.1]:"+port+", ", 30*time.Second)
	log = in.waitLogCount(": removed", 2, 30*time.Second)
	assertContains(t, "log", log,
		"dsn=5.1.1, status=undeliverable (host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <"+unknown+">: Recipient address rejected: no such user (in reply to RCPT TO command))",
		"to=<"+known+">, relay=127.0.0.1[127.0.0.1]:"+port+", ",
		"dsn=2.0.0, status=deliverable (250 2.0.0 I'll make sure <"+known+"> gets this)",
		"from=<double-bounce@",
	)
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
	msgs := sink.waitMessages(t, in, 1, 30*time.Second)
	if len(msgs[0].To) != 1 || msgs[0].To[0] != known {
		t.Errorf("delivered to %v, want [%s]", msgs[0].To, known)
	}

	// Nothing stays in the queue: probes are removed, never deferred.
	deadline := time.Now().Add(30 * time.Second)
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
	in.waitLog("reload -- version ", 30*time.Second)
	cleanup := "cache btree:" + filepath.Join(in.base, "data", "verify_cache") + " full cleanup: retained="
	in.waitLog(cleanup+"0 dropped=0 entries", 30*time.Second)
	d = smtpRcpt(t, in)
	if got := d.replyLine("RCPT TO:<" + unknown + ">"); got != wantReject {
		t.Errorf("RCPT TO:<%s> after reload:\ngot  %s\nwant %s", unknown, got, wantReject)
	}
	if got := d.replyLine("RCPT TO:<" + known + ">"); !strings.HasPrefix(got, "250 ") {
		t.Errorf("RCPT TO:<%s> after reload: %s", known, got)
	}
	d.replyLine("QUIT")
	in.waitLog(cleanup+"2 dropped=0 entries", 30*time.Second)
	if n := strings.Count(in.log(), "status=undeliverable"); n != probes {
		t.Errorf("%d probes after the reload, want none:\n%s", n-probes, in.log())
	}
}

// verifyHubMainCF is what both hubs add to their main.cf.
const verifyHubMainCF = `relay_domains = hub.example
smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
unverified_recipient_reject_code = 550
address_verify_poll_count = 1
`

// verifyHubSession runs the scenario on a hub: RCPT TO an unknown and a
// known user, waitProbes, the same again; it returns the four replies.
func verifyHubSession(t *testing.T, addr string, waitProbes func()) []string {
	t.Helper()
	d := dialSMTP(t, addr, "127.0.0.1")
	if banner, err := d.r.ReadString('\n'); err != nil || !strings.HasPrefix(banner, "220 ") {
		t.Fatalf("banner: %q, %v", banner, err)
	}
	var replies []string
	d.replyLine("HELO client.example")
	d.replyLine("MAIL FROM:<sender@client.example>")
	for round := 0; round < 2; round++ {
		for _, rcpt := range []string{"nobody@hub.example", "known@hub.example"} {
			replies = append(replies, d.replyLine("RCPT TO:<"+rcpt+">"))
		}
		if round == 0 {
			waitProbes()
		}
	}
	d.replyLine("QUIT")
	return replies
}

// verifyLogLines are the log lines about verification, with queue IDs,
// delays, pids and ports replaced.
func verifyLogLines(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, "unverified address") && !strings.Contains(line, "deliverable") {
			continue
		}
		_, rest, _ := strings.Cut(line, "]: ")
		rest = regexp.MustCompile(`^[0-9A-F]{8,}: `).ReplaceAllString(rest, "ID: ")
		rest = regexp.MustCompile(`delay=[0-9.]+, delays=[0-9./]+`).ReplaceAllString(rest, "delay=D, delays=D")
		rest = regexp.MustCompile(`\]:[0-9]+,`).ReplaceAllString(rest, "]:PORT,")
		out = append(out, rest)
	}
	sort.Strings(out)
	return out
}

// TestVerifyDifferentialRealPostfix runs the relay hub scenario against
// the real Postfix and Postern and compares the replies and log lines.
func TestVerifyDifferentialRealPostfix(t *testing.T) {
	compareVerifyHubs(t, verifyHubMainCF, nil)
}

// TestVerifyNegativeCacheOffMatchesRealPostfix: with
// address_verify_negative_cache = no, a failed probe is logged
// status=undeliverable-but-not-cached and the address is probed again at
// the next RCPT, as the real Postfix does; replies and log lines are
// compared.
func TestVerifyNegativeCacheOffMatchesRealPostfix(t *testing.T) {
	compareVerifyHubs(t, verifyHubMainCF+"address_verify_negative_cache = no\n", func(log func() string) {
		deadline := time.Now().Add(30 * time.Second)
		for strings.Count(log(), "status=undeliverable-but-not-cached") < 2 {
			if time.Now().After(deadline) {
				t.Fatalf("no second probe of the unknown user:\n%s", log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// compareVerifyHubs runs the relay hub scenario with mainCF on the real
// Postfix and on Postern, and compares the replies and log lines, once
// settle (nil: nothing) returns for each hub's log.
func compareVerifyHubs(t *testing.T, mainCF string, settle func(log func() string)) {
	if os.Geteuid() != 0 {
		t.Skip("starting the real Postfix needs root")
	}
	// The real Postfix hub.
	pfSinkAddr := harness.FreeAddr(t)
	startSink(t, pfSinkAddr, "internal.example", sinkOptions{rejectPrefix: "nobody"})
	pfAddr := harness.FreeAddr(t)
	pfLog := startRealPostfixRelayWith(t, pfAddr, "hub.example smtp:["+strings.Replace(pfSinkAddr, ":", "]:", 1)+"\n",
		func(string) string { return mainCF },
		"verify unix - - n - 1 verify\n", "proxywrite unix - - n - 1 proxymap\n").log
	pfReplies := verifyHubSession(t, pfAddr, func() {
		deadline := time.Now().Add(30 * time.Second)
		for l := pfLog(); !strings.Contains(l, "status=undeliverable") || !strings.Contains(l, "status=deliverable"); l = pfLog() {
			if time.Now().After(deadline) {
				t.Fatalf("no probe results in the real Postfix log:\n%s", l)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	// Postern.
	in, _ := startVerifyHub(t, mainCF)
	psReplies := verifyHubSession(t, in.addr, func() { in.waitLogCount(": removed", 2, 30*time.Second) })
	if settle != nil {
		settle(pfLog)
		settle(in.log)
	}

	for i := range pfReplies {
		if pfReplies[i] != psReplies[i] {
			t.Errorf("reply %d:\nPostfix %s\nPostern %s", i, pfReplies[i], psReplies[i])
		}
	}
	// smtpd's lines of the session reach each log through its postlogd,
	// after the replies: the session's disconnect line comes after them.
	const sessionEnd = "disconnect from localhost[127.0.0.1] helo=1 "
	in.waitLog(sessionEnd, 30*time.Second)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(pfLog(), sessionEnd) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	pfLines, psLines := verifyLogLines(pfLog()), verifyLogLines(in.log())
	if strings.Join(pfLines, "\n") != strings.Join(psLines, "\n") {
		t.Errorf("log lines differ:\nPostfix:\n%s\nPostern:\n%s", strings.Join(pfLines, "\n"), strings.Join(psLines, "\n"))
	}
}

// TestVerifyVirtualAsRoot probes virtual(8) recipients under a root
// master (the real privilege model): the probe looks the mailbox up and
// writes nothing, and the cache file belongs to mail_owner.
func TestVerifyVirtualAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the root privilege model needs root")
	}
	const owner = 65534 // nobody / nogroup
	in, addr, mailBase := startVirtualAsRootWith(t, owner, "bob@example.test=bob/", true, `smtpd_reject_unlisted_recipient = no
smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
unverified_recipient_reject_code = 550
address_verify_poll_count = 1
`)

	run := &deliveryRun{masterRun: in, addr: addr}
	d := smtpRcpt(t, run)
	for _, rcpt := range []string{"bob@example.test", "nobody@example.test"} {
		want := "450 4.1.1 <" + rcpt + ">: Recipient address rejected: unverified address: Address verification in progress"
		if got := d.replyLine("RCPT TO:<" + rcpt + ">"); got != want {
			t.Errorf("first RCPT TO:<%s>:\ngot  %s\nwant %s", rcpt, got, want)
		}
	}
	log := run.waitLogCount(": removed", 2, 30*time.Second)
	assertContains(t, "log", log,
		"to=<bob@example.test>, relay=virtual, ",
		"dsn=2.0.0, status=deliverable (delivers to maildir)",
		`dsn=5.1.1, status=undeliverable (unknown user: "nobody@example.test")`,
	)
	if got := d.replyLine("RCPT TO:<bob@example.test>"); !strings.HasPrefix(got, "250 ") {
		t.Errorf("RCPT TO:<bob@example.test> after the probe: %s", got)
	}
	want := `550 5.1.1 <nobody@example.test>: Recipient address rejected: undeliverable address: unknown user: "nobody@example.test"`
	if got := d.replyLine("RCPT TO:<nobody@example.test>"); got != want {
		t.Errorf("RCPT TO:<nobody@example.test> after the probe:\ngot  %s\nwant %s", got, want)
	}
	d.replyLine("QUIT")
	if _, err := os.Stat(filepath.Join(mailBase, "bob")); !os.IsNotExist(err) {
		t.Errorf("the probe created bob's Maildir: %v", err)
	}
	mailOwner, err := user.Lookup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(in.base, "data", "verify_cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := st.Sys().(*syscall.Stat_t).Uid; fmt.Sprint(uid) != mailOwner.Uid {
		t.Errorf("verify_cache.db owned by uid %d, want mail_owner's %s", uid, mailOwner.Uid)
	}
}

// TestVerifyProbeTransportMaps routes probes with
// address_verify_transport_maps to another server than transport_maps
// names: the verdict is that server's.
func TestVerifyProbeTransportMaps(t *testing.T) {
	probeSinkAddr := harness.FreeAddr(t)
	probeSink := startSink(t, probeSinkAddr, "probes.example", sinkOptions{rejectPrefix: "known"})
	host, port, _ := net.SplitHostPort(probeSinkAddr)
	in, mailSink := startVerifyHub(t, fmt.Sprintf(`address_verify_poll_count = 1
address_verify_transport_maps = inline:{ hub.example=smtp:[%s]:%s }
`, host, port))
	d := smtpRcpt(t, in)
	d.replyLine("RCPT TO:<known@hub.example>")
	in.waitLogCount(": removed", 1, 30*time.Second)
	// The probe server refuses "known": its answer counts (450, the
	// default unverified_recipient_reject_code).
	want := "450 4.1.1 <known@hub.example>: Recipient address rejected: unverified address: host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <known@hub.example>: Recipient address rejected: no such user (in reply to RCPT TO command)"
	if got := d.replyLine("RCPT TO:<known@hub.example>"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	d.replyLine("QUIT")
	if log := in.log(); !strings.Contains(log, "to=<known@hub.example>, relay=127.0.0.1[127.0.0.1]:"+port+", ") {
		t.Errorf("the probe did not go to the address_verify_transport_maps server:\n%s", log)
	}
	if n := len(mailSink.received()) + len(probeSink.received()); n != 0 {
		t.Errorf("%d messages delivered", n)
	}
}
