// End-to-end tests of smtpd's DNS-based restrictions and policy
// delegation with the built daemons under master: the project's private
// DNS server (dns_servers) for reverse lookups, DNSBL zones and sender
// domains, and Debian's postgrey as the policy server for greylisting.

package tests

import (
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/tests/internal/harness"
)

// restrictionsMainCF is the base main.cf of these tests.
func restrictionsMainCF(etc, extra string) string {
	return `myhostname = mx.test.example
mydomain = test.example
mydestination = $myhostname, localhost, test.example
mynetworks = 127.0.0.1/32
local_recipient_maps = texthash:` + filepath.Join(etc, "users") + `
alias_maps =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
` + extra
}

func TestRestrictionsDNS(t *testing.T) {
	dns := dnstest.Start(t,
		"2.0.0.127.in-addr.arpa. IN PTR client.test.example.",
		"client.test.example. IN A 127.0.0.2",
		"3.0.0.127.in-addr.arpa. IN PTR forged.example.",
		"forged.example. IN A 127.0.0.9",
		"2.0.0.127.bl.test. IN A 127.0.0.2",
		`2.0.0.127.bl.test. IN TXT "listed at bl.test"`,
		"good.example. IN MX 10 mx.good.example.",
		"mx.good.example. IN A 192.0.2.1",
	)
	dns.FailName("4.0.0.127.in-addr.arpa")
	in := startOurSMTPWith(t, smtpDiffSetup{
		mainCF: func(etc string) string {
			return restrictionsMainCF(etc, "dns_servers = "+dns.Addr+"\n"+
				"smtpd_client_restrictions = permit_mynetworks, reject_rbl_client bl.test=127.0.0.[2..11], reject_unknown_client_hostname\n"+
				"smtpd_sender_restrictions = reject_unknown_sender_domain\n")
		},
		files: map[string]string{"users": "pftest x\n"},
	})

	// Listed in the DNSBL, with a verified name.
	d := dialSMTP(t, in.addr, "127.0.0.2")
	d.dialogue([]smtpStep{
		greeting,
		{"EHLO c.example", "250-mx.test.example\n250-PIPELINING\n250-SIZE 10240000\n250-VRFY\n250-ETRN\n250-ENHANCEDSTATUSCODES\n250-8BITMIME\n250-DSN\n250-SMTPUTF8\n250 CHUNKING"},
		{"MAIL FROM:<s@good.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<pftest@test.example>", "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using bl.test; listed at bl.test"},
		{"QUIT", "221 2.0.0 Bye"},
	})
	in.waitLog("connect from client.test.example[127.0.0.2]", 30*time.Second)
	in.waitLog("NOQUEUE: reject: RCPT from client.test.example[127.0.0.2]: 554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using bl.test; listed at bl.test; from=<s@good.example> to=<pftest@test.example> proto=ESMTP helo=<c.example>", 30*time.Second)

	// A PTR name that does not resolve back: unknown, 550 by default...
	d = dialSMTP(t, in.addr, "127.0.0.3")
	d.dialogue([]smtpStep{
		greeting,
		{"HELO c.example", "250 mx.test.example"},
		{"MAIL FROM:<s@good.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<pftest@test.example>", "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.3]"},
	})
	in.waitLog("warning: hostname forged.example does not resolve to address 127.0.0.3", 30*time.Second)
	in.waitLog("connect from unknown[127.0.0.3]", 30*time.Second)

	// ... and a failing reverse lookup is temporary.
	d = dialSMTP(t, in.addr, "127.0.0.4")
	d.dialogue([]smtpStep{
		greeting,
		{"HELO c.example", "250 mx.test.example"},
		{"MAIL FROM:<s@good.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<pftest@test.example>", "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.4]"},
	})

	// From mynetworks only the sender domain is checked.
	d = dialSMTP(t, in.addr, "127.0.0.1")
	d.dialogue([]smtpStep{
		greeting,
		{"HELO c.example", "250 mx.test.example"},
		{"MAIL FROM:<s@nx.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<pftest@test.example>", "450 4.1.8 <s@nx.example>: Sender address rejected: Domain not found"},
		{"RSET", "250 2.0.0 Ok"},
		{"MAIL FROM:<s@good.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<pftest@test.example>", "250 2.1.5 Ok"},
	})
}

// startPostgrey runs Debian's postgrey on a free 127.0.0.1 port with a
// greylisting delay of one second, until the test ends.
func startPostgrey(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("postgrey")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/postgrey"); err != nil {
			t.Skip("postgrey is not installed (scripts/test-deps.sh installs it)")
		}
	}
	dir := t.TempDir()
	addr := harness.FreeAddr(t)
	args := []string{"--inet=" + addr, "--delay=1", "--dbdir=" + dir, "--pidfile=" + filepath.Join(dir, "pid")}
	if os.Geteuid() == 0 {
		// postgrey drops to an account of its own; give it the database.
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Skipf("no account for postgrey: %v", err)
		}
		uid, _ := strconv.Atoi(nobody.Uid)
		gid, _ := strconv.Atoi(nobody.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		// t.TempDir's parent; the system's temporary directory above it
		// is reachable already and must keep its mode (1777).
		os.Chmod(filepath.Dir(dir), 0o755)
		group, err := user.LookupGroupId(nobody.Gid)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--user=nobody", "--group="+group.Name)
	}
	cmd := exec.Command(bin, args...)
	out, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		out.Close()
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("postgrey does not listen on %s:\n%s", addr, data)
		}
	}
}

func TestRestrictionsPostgrey(t *testing.T) {
	grey := startPostgrey(t)
	in := startOurSMTPWith(t, smtpDiffSetup{
		mainCF: func(etc string) string {
			return restrictionsMainCF(etc, "smtpd_peername_lookup = no\n"+
				"smtpd_recipient_restrictions = check_policy_service inet:"+grey+"\n")
		},
		files: map[string]string{"users": "pftest x\n"},
	})
	greylisted := "450 4.2.0 <pftest@test.example>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/test.example.html"
	d := dialSMTP(t, in.addr, "127.0.0.2")
	d.dialogue([]smtpStep{
		greeting,
		{"HELO c.example", "250 mx.test.example"},
		{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		{"RCPT TO:<pftest@test.example>", greylisted},
		{"QUIT", "221 2.0.0 Bye"},
	})
	in.waitLog("NOQUEUE: reject: RCPT from unknown[127.0.0.2]: "+greylisted+"; from=<s@remote.example> to=<pftest@test.example> proto=SMTP helo=<c.example>", 30*time.Second)

	// The retry after the delay is accepted, and postgrey's PREPEND
	// header is in the queued message.
	accepted := false
	for try := 0; try < 20 && !accepted; try++ {
		time.Sleep(time.Second)
		d = dialSMTP(t, in.addr, "127.0.0.2")
		d.dialogue([]smtpStep{
			greeting,
			{"HELO c.example", "250 mx.test.example"},
			{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
		})
		reply := d.replyLine("RCPT TO:<pftest@test.example>")
		switch {
		case reply == "250 2.1.5 Ok":
			accepted = true
			d.expect("DATA", "354 End data with <CR><LF>.<CR><LF>")
			line := d.replyLine("Subject: retry\r\n\r\nhello\r\n.")
			if !strings.HasPrefix(line, "250 2.0.0 Ok: queued as ") {
				t.Fatalf("end of data: %q", line)
			}
			id := strings.TrimPrefix(line, "250 2.0.0 Ok: queued as ")
			// Above smtpd's Received: header, as Postfix writes it.
			if _, content := in.readQueued(id); !strings.HasPrefix(content, "X-Greylist: delayed ") || !strings.Contains(content, "\nReceived: from c.example ") {
				t.Errorf("queued message does not start with the X-Greylist header followed by Received:\n%s", content)
			}
		case reply != greylisted:
			t.Fatalf("retry: %q", reply)
		}
		d.replyLine("QUIT")
	}
	if !accepted {
		t.Fatal("postgrey never accepted the retry")
	}
}
