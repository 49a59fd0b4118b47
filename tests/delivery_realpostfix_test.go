// Interop end-to-end test: Postern relays to the real Postfix and the real Postfix relays to Postern, each ending at a go-smtp sink.

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

// realPostfixRelay is a private real Postfix with a full delivery
// pipeline whose transport table is given by the test.
type realPostfixRelay struct {
	addr    string
	maillog string
}

func (r *realPostfixRelay) log() string {
	data, _ := os.ReadFile(r.maillog)
	return string(data)
}

// startRealPostfixRelay starts the real Postfix (own configuration,
// queue and data directories, smtpd on a free 127.0.0.1 port, nothing
// delivered locally) routing by transport, and stops it when the test
// ends.
func startRealPostfixRelay(t *testing.T, addr, transport string) *realPostfixRelay {
	t.Helper()
	return startRealPostfixRelayWith(t, addr, transport, func(string) string { return "" })
}

// startRealPostfixRelayWith is startRealPostfixRelay with the main.cf
// lines extra returns for the configuration directory etc appended, and
// the master.cf lines services.
func startRealPostfixRelayWith(t *testing.T, addr, transport string, extra func(etc string) string, services ...string) *realPostfixRelay {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("starting the real Postfix needs root")
	}
	pf := harness.RealPostfix(t)
	base := harness.SharedTempDir(t)
	etc, spool := filepath.Join(base, "etc"), filepath.Join(base, "spool")
	r := &realPostfixRelay{addr: addr, maillog: filepath.Join(base, "maillog")}
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	harness.WriteFile(t, filepath.Join(etc, "transport"), transport)
	harness.WriteFile(t, filepath.Join(etc, "main.cf"), fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %s
data_directory = %s/data
maillog_file = %s
maillog_file_prefixes = %s
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mail_owner = postfix
myhostname = realpf.test.example
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
local_recipient_maps =
transport_maps = texthash:%s/transport
disable_dns_lookups = yes
smtp_host_lookup = native
`, spool, base, r.maillog, base, etc)+extra(etc))
	harness.WriteFile(t, filepath.Join(etc, "master.cf"), fmt.Sprintf(`%s inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
smtp unix - - n - - smtp
relay unix - - n - - smtp
error unix - - n - - error
retry unix - - n - - error
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
proxymap unix - - n - - proxymap
tlsmgr unix - - n 1000? 1 tlsmgr
postlog unix-dgram n - n - 1 postlogd
`, addr)+strings.Join(services, ""))
	postfix := pf.Path(t, "postfix")
	if res := (harness.Invocation{Path: postfix, ConfigDir: etc, Args: []string{"start"}}).Run(t); res.ExitCode != 0 {
		t.Fatalf("real postfix start: %s\nlog:\n%s", res, r.log())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("real Postfix log:\n%s", r.log())
		}
		stopRealPostfix(t, postfix, etc, filepath.Join(spool, "pid", "master.pid"))
	})
	waitListening(t, addr)
	return r
}

// waitLog waits until the real Postfix's log contains text.
func (r *realPostfixRelay) waitLog(t *testing.T, text string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		log := r.log()
		if strings.Contains(log, text) {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("real Postfix log lacks %q after %v:\n%s", text, timeout, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDeliveryInteropRealPostfix(t *testing.T) {
	port := sinkPort(t)
	realAddr := harness.FreeAddr(t)
	_, realPort, _ := net.SplitHostPort(realAddr)
	viaReal := startSink(t, "127.0.0.16:"+port, "via-real.sink", sinkOptions{})
	viaPostern := startSink(t, "127.0.0.17:"+port, "via-postern.sink", sinkOptions{})
	in := newDelivery(t, "myhostname = postern.test.example\nmydestination =\n")
	_, posternPort, _ := net.SplitHostPort(in.addr)
	in.appendMainCF("transport_maps = " + in.writeMap("transport", fmt.Sprintf(
		"real.example smtp:[127.0.0.1]:%s\nposternside.example smtp:[127.0.0.17]:%s\n", realPort, port)) + "\n")
	real := startRealPostfixRelay(t, realAddr, fmt.Sprintf(
		"real.example smtp:[127.0.0.16]:%s\nposternside.example smtp:[127.0.0.1]:%s\n", port, posternPort))
	in.run()

	// Postern → real Postfix → sink.
	in.send("sender@client.example", []string{"user@real.example"}, "Subject: to postfix\r\n\r\nhello postfix\r\n")
	got := viaReal.waitMessages(t, in, 1, 30*time.Second)[0]
	assertEnvelope(t, got, "sender@client.example", "user@real.example")
	if !strings.Contains(got.Data, "hello postfix") || strings.Count(got.Data, "Received: ") != 2 {
		t.Errorf("message via the real Postfix:\n%s", got.Data)
	}
	assertSent(t, in.waitLog("to=<user@real.example>", 30*time.Second), "user@real.example", "127.0.0.1", "127.0.0.1", realPort)
	real.waitLog(t, "to=<user@real.example>, relay=127.0.0.16[127.0.0.16]:"+port, 30*time.Second)

	// Real Postfix → Postern → sink.
	if err := harness.SendMail(realAddr, "sender@client.example", []string{"user@posternside.example"}, []byte("Subject: to postern\r\n\r\nhello postern\r\n")); err != nil {
		t.Fatalf("send to the real Postfix: %v\nlog:\n%s", err, real.log())
	}
	got = viaPostern.waitMessages(t, in, 1, 30*time.Second)[0]
	assertEnvelope(t, got, "sender@client.example", "user@posternside.example")
	if !strings.Contains(got.Data, "hello postern") || strings.Count(got.Data, "Received: ") != 2 {
		t.Errorf("message via Postern:\n%s", got.Data)
	}
	log := real.waitLog(t, "to=<user@posternside.example>, relay=127.0.0.1[127.0.0.1]:"+posternPort, 30*time.Second)
	if !strings.Contains(log, "status=sent (250 ") {
		t.Errorf("real Postfix log lacks status=sent:\n%s", log)
	}
	assertSent(t, in.waitLog("to=<user@posternside.example>", 30*time.Second), "user@posternside.example", "127.0.0.17", "127.0.0.17", port)
}
