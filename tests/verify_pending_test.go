// End-to-end test of address_verify_pending_request_limit: probes
// beyond the limit are deferred at once, compared with real Postfix.

package tests

import (
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// silentServer accepts connections and never greets, so that a probe
// to it stays in flight; it counts the connections.
type silentServer struct {
	addr     string
	accepted atomic.Int64
}

func startSilentServer(t *testing.T, addr string) *silentServer {
	t.Helper()
	ln := listenRetrying(t, addr, "silent server")
	s := &silentServer{addr: addr}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			s.accepted.Add(1)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return s
}

// waitAccepted waits until n connections came in.
func (s *silentServer) waitAccepted(t *testing.T, n int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); s.accepted.Load() < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections to the silent server, want %d", s.accepted.Load(), n)
		}
	}
}

// pendingLimitMainCF is what both hubs add to their main.cf.
const pendingLimitMainCF = `relay_domains = hub.example
smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient
address_verify_poll_count = 1
address_verify_pending_request_limit = 1
`

// pendingLimitSession asks for slow@ (whose probe hangs at the silent
// server), then for next@ twice: the first time its probe starts, the
// second time the cache has the deferral. It returns the replies to
// the three RCPTs.
func pendingLimitSession(t *testing.T, addr string, silent *silentServer, waitLog func(string)) []string {
	t.Helper()
	d := dialSMTP(t, addr, "127.0.0.1")
	if banner, err := d.r.ReadString('\n'); err != nil || !strings.HasPrefix(banner, "220 ") {
		t.Fatalf("banner: %q, %v", banner, err)
	}
	d.replyLine("HELO client.example")
	d.replyLine("MAIL FROM:<sender@client.example>")
	replies := []string{d.replyLine("RCPT TO:<slow@hub.example>")}
	silent.waitAccepted(t, 1)
	replies = append(replies, d.replyLine("RCPT TO:<next@hub.example>"))
	waitLog("status=undeliverable (Too many address verification requests)")
	replies = append(replies, replyOnceVerified(t, d, "RCPT TO:<next@hub.example>", "Too many address verification requests"))
	d.replyLine("QUIT")
	return replies
}

// replyOnceVerified sends cmd until its reply has want, for 30 s: the
// deferral is logged before it reaches the verify service, so the first
// RCPT after the log line may still find the probe in progress. It
// returns the last reply.
func replyOnceVerified(t *testing.T, d *smtpDialogue, cmd, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		reply := d.replyLine(cmd)
		if strings.Contains(reply, want) || time.Now().After(deadline) {
			return reply
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pendingLimitLogLine is the log line of the probe refused for the
// limit, with queue ID, PID and delays replaced.
func pendingLimitLogLine(t *testing.T, log string) string {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "Too many address verification requests") && strings.Contains(line, "to=<") {
			_, rest, _ := strings.Cut(line, " postfix/")
			rest = regexp.MustCompile(`\[[0-9]+\]: [0-9A-F]+: `).ReplaceAllString(rest, "[PID]: ID: ")
			return regexp.MustCompile(`delay=[0-9.]+, delays=[0-9./]+`).ReplaceAllString(rest, "delay=D, delays=D")
		}
	}
	t.Fatalf("no probe line for the limit:\n%s", log)
	return ""
}

// TestVerifyPendingRequestLimit: with address_verify_pending_request_limit
// = 1 and one probe hanging at a server that never greets, the next
// probe is deferred at once with Postfix's "Too many address
// verification requests" (logged by postfix/error as undeliverable), and
// the next RCPT gets that text in the 450 reply: the same replies and
// log line as the real Postfix's.
func TestVerifyPendingRequestLimit(t *testing.T) {
	realSilent := startSilentServer(t, "127.0.0.22:"+sinkPort(t))
	realAddr := harness.FreeAddr(t)
	real := startRealPostfixRelayWith(t, realAddr, "hub.example smtp:["+strings.Replace(realSilent.addr, ":", "]:", 1)+"\n",
		func(string) string { return pendingLimitMainCF },
		"verify unix - - n - 1 verify\n", "proxywrite unix - - n - 1 proxymap\n")
	want := pendingLimitSession(t, realAddr, realSilent, func(s string) { real.waitLog(t, s, 30*time.Second) })
	wantLine := pendingLimitLogLine(t, real.log())

	silent := startSilentServer(t, "127.0.0.23:"+sinkPort(t))
	in := startVerifyHubTo(t, pendingLimitMainCF, silent.addr)
	got := pendingLimitSession(t, in.addr, silent, func(s string) { in.waitLog(s, 30*time.Second) })
	gotLine := pendingLimitLogLine(t, in.log())

	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("replies differ from the real Postfix's:\n%s", harness.Diff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
	if want := "450 4.1.1 <next@hub.example>: Recipient address rejected: unverified address: Too many address verification requests"; got[2] != want {
		t.Errorf("reply %q, want %q", got[2], want)
	}
	if gotLine != wantLine {
		t.Errorf("log line differs from the real Postfix's:\n got %s\nwant %s", gotLine, wantLine)
	}
}
