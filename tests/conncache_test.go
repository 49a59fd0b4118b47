// End-to-end test of connection caching for TLS and SASL-authenticated
// sessions (smtp_tls_connection_reuse).

package tests

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dnsx/dnstest"
)

// TestConnCacheTLSAuthenticated: with smtp_tls_connection_reuse = yes a
// relayhost session that is encrypted and authenticated is cached
// (smtp_connection_cache_destinations) and the next message goes over
// it (conn_use=2) without a second TLS handshake or AUTH; without the
// parameter each message has its own connection, as in Postfix.
func TestConnCacheTLSAuthenticated(t *testing.T) {
	for _, reuse := range []bool{true, false} {
		t.Run(fmt.Sprintf("smtp_tls_connection_reuse=%v", reuse), func(t *testing.T) {
			testConnCacheTLSAuthenticated(t, reuse)
		})
	}
}

func testConnCacheTLSAuthenticated(t *testing.T, reuse bool) {
	port := sinkPort(t)
	dns := dnstest.Start(t, "smarthost.example. 300 IN A 127.0.0.25")
	yesNo := map[bool]string{true: "yes", false: "no"}[reuse]
	in := newDelivery(t, fmt.Sprintf(`myhostname = client.test.example
mydestination =
dns_servers = %s
relayhost = [smarthost.example]:%s
smtp_tls_security_level = encrypt
smtp_tls_loglevel = 1
smtp_tls_connection_reuse = %s
smtp_sasl_auth_enable = yes
smtp_sasl_security_options = noanonymous
smtp_connection_cache_destinations = smarthost.example
smtp_connection_cache_time_limit = 60s
`, dns.Addr, port, yesNo))
	serverTLS, caFile := testCertificates(t, in.etc, "smarthost.example", net.ParseIP("127.0.0.25"))
	smarthost := startSink(t, "127.0.0.25:"+port, "smarthost.example",
		sinkOptions{tls: serverTLS, authMechs: []string{"PLAIN"}, user: "relayuser", password: "s3cret"})
	passwords := in.writeMap("sasl_passwd", fmt.Sprintf("[smarthost.example]:%s relayuser:s3cret\n", port))
	in.appendMainCF(fmt.Sprintf("smtp_tls_CAfile = %s\nsmtp_sasl_password_maps = %s\n", caFile, passwords))
	in.giveAway(caFile)
	in.run()

	in.send("sender@client.test.example", []string{"one@far.example"}, "Subject: one\r\n\r\none\r\n")
	smarthost.waitMessages(t, in, 1, 30*time.Second)
	in.waitLog("to=<one@far.example>", 30*time.Second)
	in.send("sender@client.test.example", []string{"two@far.example"}, "Subject: two\r\n\r\ntwo\r\n")
	smarthost.waitMessages(t, in, 2, 30*time.Second)
	log := in.waitLog("to=<two@far.example>", 30*time.Second)

	smarthost.mu.Lock()
	authed := strings.Join(smarthost.authed, ",")
	smarthost.mu.Unlock()
	handshakes := strings.Count(log, "Trusted TLS connection established to smarthost.example[127.0.0.25]:"+port)
	reused := strings.Contains(log, "to=<two@far.example>, relay=smarthost.example[127.0.0.25]:"+port+", conn_use=2, delay=")
	if reuse {
		if !reused || handshakes != 1 || authed != "relayuser" {
			t.Errorf("want the second message over the cached connection: conn_use=2 %v, %d TLS handshakes, AUTH by %q\n%s", reused, handshakes, authed, log)
		}
		return
	}
	if reused || handshakes != 2 || authed != "relayuser,relayuser" {
		t.Errorf("want a new connection for the second message: conn_use=2 %v, %d TLS handshakes, AUTH by %q\n%s", reused, handshakes, authed, log)
	}
}
