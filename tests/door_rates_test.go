// Differential tests of the door's slow-client and rate limits against a
// real Postfix 3.7: smtpd_min_data_rate for a client trickling DATA,
// smtpd_client_connection_rate_limit and
// smtpd_client_new_tls_session_rate_limit, with their replies and
// warning lines.

package tests

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/tlsconf/tlstest"
	"github.com/postern/postern/tests/internal/harness"
)

const doorRatesMainCF = differentialHostMainCF + `local_recipient_maps =
alias_maps =
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_client_event_limit_exceptions =
smtpd_timeout = 3s
smtpd_per_request_deadline = yes
smtpd_min_data_rate = 500
smtpd_client_connection_rate_limit = 4
smtpd_client_new_tls_session_rate_limit = 1
smtpd_tls_security_level = may
smtpd_tls_cert_file = ETC/server.crt
smtpd_tls_key_file = ETC/server.key
`

// doorRatesToData are the steps from 127.0.0.2 to DATA.
var doorRatesToData = []smtpStep{
	{"", "220"},
	{"HELO c.example", "250 mx.test.example"},
	{"MAIL FROM:<s@remote.example>", "250 2.1.0 Ok"},
	{"RCPT TO:<x@test.example>", "250 2.1.5 Ok"},
	{"DATA", "354 End data with <CR><LF>.<CR><LF>"},
}

// doorRatesTrickle plays doorRatesToData, then sends a message's content
// one byte every 300 ms until the server answers, and returns the
// replies.
func doorRatesTrickle(t *testing.T, addr string) []string {
	d := dialSMTP(t, addr, "127.0.0.2")
	out := stepLines(d.play(sends(doorRatesToData), bannerCodes))
	reply := make(chan string, 1)
	go func() {
		line, err := d.r.ReadString('\n')
		if err != nil {
			line = err.Error()
		}
		reply <- strings.TrimRight(line, "\r\n")
	}()
	for i := 0; i < 100; i++ {
		select {
		case got := <-reply:
			return append(out, "trickled content -> "+got)
		case <-time.After(300 * time.Millisecond):
			d.conn.Write([]byte("x"))
		}
	}
	t.Fatalf("%s: no reply to a client trickling DATA", addr)
	return nil
}

// doorRatesTLS makes two STARTTLS sessions.
func doorRatesTLS(t *testing.T, addr string) []string {
	var out []string
	for i := 1; i <= 2; i++ {
		d := dialSMTP(t, addr, "127.0.0.3")
		d.readReply(t)
		fmt.Fprintf(d.conn, "EHLO c.example\r\n")
		d.readReply(t)
		fmt.Fprintf(d.conn, "STARTTLS\r\n")
		reply := strings.Join(d.readReply(t), " | ")
		out = append(out, fmt.Sprintf("STARTTLS %d -> %s", i, reply))
		if strings.HasPrefix(reply, "220") {
			tc := tls.Client(d.conn, &tls.Config{InsecureSkipVerify: true})
			if err := tc.Handshake(); err != nil {
				t.Fatalf("TLS handshake with %s: %v", addr, err)
			}
			d.conn = tc
			d.r.Reset(tc)
		}
		// The second session is refused as soon as it exists: read
		// without sending anything, which the server's close could
		// turn into a reset that loses its reply.
		label := "after the handshake"
		if i == 1 {
			fmt.Fprintf(d.conn, "QUIT\r\n")
			label = "QUIT"
		}
		reply, err := d.r.ReadString('\n')
		if err != nil {
			reply += " (" + err.Error() + ")"
		}
		out = append(out, label+" -> "+strings.TrimRight(reply, "\r\n"))
	}
	return out
}

// doorRatesConnections opens connections until one is refused (at most
// 6), each closed after its greeting.
func doorRatesConnections(t *testing.T, addr string) []string {
	var out []string
	for i := 1; i <= 6; i++ {
		d := dialSMTP(t, addr, "127.0.0.4")
		reply, err := d.r.ReadString('\n')
		reply = strings.TrimRight(reply, "\r\n")
		if err != nil {
			reply += " (" + err.Error() + ")"
		}
		d.conn.Close()
		if strings.HasPrefix(reply, "220 ") {
			reply = "220"
		}
		out = append(out, fmt.Sprintf("connection %d -> %s", i, reply))
		if !strings.HasPrefix(reply, "220") {
			break
		}
	}
	return out
}

// doorRatesLogLines are the limit warnings and timeout lines, the
// service name and byte counts made equal.
func doorRatesLogLines(log, service string) []string {
	line := regexp.MustCompile(`smtpd\[\d+\]: (warning: .*limit exceeded.*|timeout after .*)$`)
	bytes := regexp.MustCompile(`\(\d+ bytes\)`)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			out = append(out, bytes.ReplaceAllString(strings.ReplaceAll(m[1], service, "SERVICE"), "(N bytes)"))
		}
	}
	return out
}

// TestDoorDifferentialRates runs a DATA trickle, connections past the
// connection rate and STARTTLS past the new TLS session rate against both
// servers and compares replies and log lines.
func TestDoorDifferentialRates(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "Test CA")
	server := ca.issue("mx.test.example", []string{"mx.test.example"}, nil, false)
	setup := smtpDiffSetup{
		mainCF: func(etc string) string { return strings.ReplaceAll(doorRatesMainCF, "ETC", etc) },
		files: map[string]string{
			"server.crt": string(tlstest.CertPEM(server.tls)),
			"server.key": string(tlstest.KeyPEM(t, server.tls)),
		},
		masterCF: "anvil unix - - n - 1 anvil\ntlsmgr unix - - n 1000? 1 tlsmgr\n",
	}
	run := func(addr string) []string {
		out := doorRatesTrickle(t, addr)
		out = append(out, doorRatesConnections(t, addr)...)
		return append(out, doorRatesTLS(t, addr)...)
	}
	ours := startOurSMTPWith(t, setup)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("our log:\n%s", ours.log())
		}
	})
	got := run(ours.addr)
	want := append(stepLines(doorRatesToData),
		"trickled content -> 421 4.4.2 mx.test.example Error: timeout exceeded",
		"connection 1 -> 220", "connection 2 -> 220", "connection 3 -> 220", "connection 4 -> 220",
		"connection 5 -> 421 4.7.0 mx.test.example Error: too many connections from 127.0.0.4",
		"STARTTLS 1 -> 220 2.0.0 Ready to start TLS",
		"QUIT -> 221 2.0.0 Bye",
		// The second session is over the limit once it exists.
		"STARTTLS 2 -> 220 2.0.0 Ready to start TLS",
		"after the handshake -> 421 4.7.0 mx.test.example Error: too many new TLS sessions from unknown[127.0.0.3]",
	)
	if d := harness.DiffLines(want, got); d != "" {
		t.Errorf("replies differ (-want +got):\n%s", d)
	}
	// Three sessions' smtpd processes log these, each after its reply.
	ours.waitLog("timeout after DATA", 30*time.Second)
	ours.waitLog("Connection rate limit exceeded", 30*time.Second)
	ourLog := ours.waitLog("New TLS session rate limit exceeded", 30*time.Second)
	ourLines := doorRatesLogLines(ourLog, ours.addr)
	wantLines := []string{
		"timeout after DATA (N bytes) from unknown[127.0.0.2]",
		"warning: Connection rate limit exceeded: 5 from unknown[127.0.0.4] for service SERVICE",
		"warning: New TLS session rate limit exceeded: 2 from unknown[127.0.0.3] for service SERVICE",
	}
	if d := harness.DiffLines(wantLines, ourLines); d != "" {
		t.Errorf("log lines differ (-want +got):\n%s", d)
	}

	pf := realPostfixMaster(t)
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, setup)
	real := run(realAddr)
	if d := harness.DiffLines(real, got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	realLines := waitLogLines(realLog, len(ourLines), func(log string) []string { return doorRatesLogLines(log, realAddr) })
	if d := harness.DiffLines(realLines, ourLines); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}
