// End-to-end tests of relaying through a second Postern instance and through a smarthost that needs AUTH over STARTTLS.

package tests

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/pkg/tlsconf/tlstest"
	"github.com/postern/postern/tests/internal/harness"
)

// TestDeliveryGatewayAndInternal is the seed's two-tier setup: a DMZ
// gateway hands corp.example mail to the internal server by
// transport_maps, and the internal server sends everything else out
// through the gateway as its relayhost.
func TestDeliveryGatewayAndInternal(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t,
		"world.example. 300 IN MX 10 mx.world.example.",
		"mx.world.example. 300 IN A 127.0.0.12",
	)
	spool := startSink(t, "127.0.0.11:"+port, "spool.corp.example", sinkOptions{})
	world := startSink(t, "127.0.0.12:"+port, "mx.world.example", sinkOptions{})
	gateway := newDelivery(t, fmt.Sprintf(`myhostname = mailgw.corp.example
mydestination =
relay_domains = corp.example
dns_servers = %s
smtp_tcp_port = %s
`, dns.Addr, port))
	_, gatewayPort, _ := net.SplitHostPort(gateway.addr)
	internal := newDelivery(t, fmt.Sprintf(`myhostname = mail.corp.example
mydestination =
relay_domains = corp.example
dns_servers = %s
relayhost = [127.0.0.1]:%s
`, dns.Addr, gatewayPort))
	_, internalPort, _ := net.SplitHostPort(internal.addr)
	gateway.appendMainCF("transport_maps = " + gateway.writeMap("transport", fmt.Sprintf(
		"corp.example smtp:[127.0.0.1]:%s\n.corp.example smtp:[127.0.0.1]:%s\n", internalPort, internalPort)) + "\n")
	internal.appendMainCF("transport_maps = " + internal.writeMap("transport", "corp.example smtp:[127.0.0.11]:"+port+"\n") + "\n")
	gateway.run()
	internal.run()

	// Inbound: outside → gateway → internal → its spool sink.
	gateway.send("friend@world.example", []string{"taro@corp.example"}, "Subject: inbound\r\n\r\nin\r\n")
	got := spool.waitMessages(t, internal, 1, 30*time.Second)[0]
	assertEnvelope(t, got, "friend@world.example", "taro@corp.example")
	if n := strings.Count(got.Data, "Received: "); n != 2 {
		t.Errorf("inbound message has %d Received: headers, want 2 (gateway and internal):\n%s", n, got.Data)
	}
	assertSent(t, gateway.waitLog("to=<taro@corp.example>", 30*time.Second), "taro@corp.example", "127.0.0.1", "127.0.0.1", internalPort)
	assertSent(t, internal.waitLog("to=<taro@corp.example>", 30*time.Second), "taro@corp.example", "127.0.0.11", "127.0.0.11", port)

	// Outbound: internal → relayhost gateway → MX of the recipient.
	internal.send("taro@corp.example", []string{"friend@world.example"}, "Subject: outbound\r\n\r\nout\r\n")
	got = world.waitMessages(t, gateway, 1, 30*time.Second)[0]
	assertEnvelope(t, got, "taro@corp.example", "friend@world.example")
	assertSent(t, internal.waitLog("to=<friend@world.example>", 30*time.Second), "friend@world.example", "127.0.0.1", "127.0.0.1", gatewayPort)
	assertSent(t, gateway.waitLog("to=<friend@world.example>", 30*time.Second), "friend@world.example", "mx.world.example", "127.0.0.12", port)
}

// testCertificates makes a CA and a server certificate for host and ip,
// writes the CA to dir/ca.pem and returns the server's TLS configuration.
func testCertificates(t *testing.T, dir, host string, ip net.IP) (*tls.Config, string) {
	t.Helper()
	ca := tlstest.NewCA(t, "Postern Test CA")
	leaf := ca.Issue(tlstest.Leaf{CommonName: host, DNSNames: []string{host}, IPAddresses: []net.IP{ip},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	caFile := filepath.Join(dir, "ca.pem")
	harness.WriteFile(t, caFile, string(ca.PEM()))
	return &tls.Config{Certificates: []tls.Certificate{leaf}}, caFile
}

// TestDeliverySmarthostAuth sends through a relayhost that offers AUTH
// only after STARTTLS, with the password from a hash map; a server that
// offers no usable mechanism defers the mail ("No worthy mechs found").
func TestDeliverySmarthostAuth(t *testing.T) {
	port := sinkPort(t)
	dns := dnstest.Start(t,
		"smarthost.example. 300 IN A 127.0.0.13",
		"nomechs.example. 300 IN A 127.0.0.14",
	)
	in := newDelivery(t, fmt.Sprintf(`myhostname = client.test.example
mydestination =
dns_servers = %s
relayhost = [smarthost.example]:%s
smtp_tls_security_level = encrypt
smtp_tls_loglevel = 1
smtp_sasl_auth_enable = yes
smtp_sasl_security_options = noanonymous
`, dns.Addr, port))
	serverTLS, caFile := testCertificates(t, in.etc, "smarthost.example", net.ParseIP("127.0.0.13"))
	smarthost := startSink(t, "127.0.0.13:"+port, "smarthost.example",
		sinkOptions{tls: serverTLS, authMechs: []string{"PLAIN"}, user: "relayuser", password: "s3cret"})
	startSink(t, "127.0.0.14:"+port, "nomechs.example",
		sinkOptions{tls: serverTLS, authMechs: []string{"X-UNKNOWN"}, user: "relayuser", password: "s3cret"})
	passwords := in.writeMap("sasl_passwd", fmt.Sprintf("[smarthost.example]:%s relayuser:s3cret\n[nomechs.example]:%s relayuser:s3cret\n", port, port))
	transport := in.writeMap("transport", fmt.Sprintf("nomechs.test smtp:[nomechs.example]:%s\n", port))
	in.appendMainCF(fmt.Sprintf("smtp_tls_CAfile = %s\nsmtp_sasl_password_maps = %s\ntransport_maps = %s\n", caFile, passwords, transport))
	in.giveAway(caFile)
	in.run()

	in.send("sender@client.test.example", []string{"someone@far.example"}, "Subject: smarthost\r\n\r\nauth\r\n")
	assertEnvelope(t, smarthost.waitMessages(t, in, 1, 30*time.Second)[0], "sender@client.test.example", "someone@far.example")
	smarthost.mu.Lock()
	authed := strings.Join(smarthost.authed, ",")
	smarthost.mu.Unlock()
	if authed != "relayuser" {
		t.Errorf("smarthost authenticated %q, want relayuser", authed)
	}
	log := in.waitLog("to=<someone@far.example>", 30*time.Second)
	assertSent(t, log, "someone@far.example", "smarthost.example", "127.0.0.13", port)
	assertContains(t, "log", log, "Trusted TLS connection established to smarthost.example[127.0.0.13]:"+port)

	in.send("sender@client.test.example", []string{"user@nomechs.test"}, "Subject: no mechs\r\n\r\nauth\r\n")
	want := "status=deferred (SASL authentication failed; cannot authenticate to server nomechs.example[127.0.0.14]: no mechanism available)"
	log = in.waitLog(want, 30*time.Second)
	if !strings.Contains(log, "warning: SASL authentication failure: No worthy mechs found") {
		t.Errorf("log lacks the No worthy mechs warning:\n%s", log)
	}
}
