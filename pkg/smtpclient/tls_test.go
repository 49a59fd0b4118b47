// Tests of the TLS security levels against a STARTTLS sink with a
// certificate made by a test CA.

package smtpclient

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/tlsconf/tlstest"
)

// testCA makes a CA and, signed by it, one server certificate for each
// list of names.
func testCA(t *testing.T, names ...[]string) (*x509.CertPool, []tls.Certificate) {
	t.Helper()
	ca := tlstest.NewCA(t, "Test CA")
	var certs []tls.Certificate
	for _, dnsNames := range names {
		certs = append(certs, ca.Issue(tlstest.Leaf{CommonName: dnsNames[0], DNSNames: dnsNames,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}))
	}
	return ca.Pool(), certs
}

func withTLS(cert tls.Certificate) sinkOption {
	return func(s *sink) { s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}} }
}

func TestTLSLevels(t *testing.T) {
	pool, certs := testCA(t, []string{"mx.tls.test"}, []string{"elsewhere.test"})
	_, foreign := testCA(t, []string{"mx.foreign.test"})
	tlsSink := listenSink(t, "127.0.0.3:0", withTLS(certs[0]))
	port := tlsSink.port()
	plainSink := listenSink(t, hostPort("127.0.0.4", port))
	wrongSink := listenSink(t, hostPort("127.0.0.5", port), withTLS(certs[1]))
	listenSink(t, hostPort("127.0.0.6", port), withTLS(foreign[0]))
	zone := dnstest.Start(t,
		"tls.test. IN MX 10 mx.tls.test.", "mx.tls.test. IN A 127.0.0.3",
		"plain.test. IN MX 10 mx.plain.test.", "mx.plain.test. IN A 127.0.0.4",
		"wrong.test. IN MX 10 mx.wrong.test.", "mx.wrong.test. IN A 127.0.0.5",
		"foreign.test. IN MX 10 mx.foreign.test.", "mx.foreign.test. IN A 127.0.0.6",
	)
	relay := func(host, ip string) string { return host + "[" + ip + "]:" + port }
	tests := []struct {
		name, level, nexthop string
		trust                bool
		status               ipc.DeliveryStatus
		reply, logLine       string
		tls                  bool
		sink                 *sink
	}{
		{name: "none", level: "none", nexthop: "tls.test", status: ipc.StatusSent, sink: tlsSink},
		{name: "may untrusted", level: "may", nexthop: "tls.test", status: ipc.StatusSent, tls: true, sink: tlsSink,
			logLine: "Untrusted TLS connection established to " + relay("mx.tls.test", "127.0.0.3") + ": TLSv1.3 with cipher TLS_"},
		{name: "may trusted", level: "may", nexthop: "tls.test", trust: true, status: ipc.StatusSent, tls: true, sink: tlsSink,
			logLine: "Trusted TLS connection established to " + relay("mx.tls.test", "127.0.0.3") + ": TLSv1.3 with cipher TLS_"},
		{name: "may without STARTTLS", level: "may", nexthop: "plain.test", status: ipc.StatusSent, sink: plainSink},
		{name: "encrypt without STARTTLS", level: "encrypt", nexthop: "plain.test", status: ipc.StatusDeferred,
			reply: "TLS is required, but was not offered by host mx.plain.test[127.0.0.4]"},
		{name: "encrypt untrusted", level: "encrypt", nexthop: "wrong.test", status: ipc.StatusSent, tls: true, sink: wrongSink,
			logLine: "Untrusted TLS connection established to " + relay("mx.wrong.test", "127.0.0.5")},
		{name: "verify", level: "verify", nexthop: "tls.test", trust: true, status: ipc.StatusSent, tls: true, sink: tlsSink,
			logLine: "Verified TLS connection established to " + relay("mx.tls.test", "127.0.0.3")},
		// Postfix 3.7 defers an untrusted chain at the verify level with
		// "not verified" too, after logging why and the Untrusted line.
		{name: "verify untrusted", level: "verify", nexthop: "tls.test", status: ipc.StatusDeferred, reply: "Server certificate not verified",
			logLine: "certificate verification failed for " + relay("mx.tls.test", "127.0.0.3") + ": untrusted issuer /CN=Test CA"},
		{name: "verify foreign CA", level: "verify", nexthop: "foreign.test", trust: true, status: ipc.StatusDeferred, reply: "Server certificate not verified",
			logLine: "Untrusted TLS connection established to " + relay("mx.foreign.test", "127.0.0.6")},
		// A name that does not match makes the chain untrusted, as
		// OpenSSL's verification does in Postfix 3.7.
		{name: "verify wrong name", level: "verify", nexthop: "wrong.test", trust: true, status: ipc.StatusDeferred, reply: "Server certificate not verified",
			logLine: "server certificate verification failed for " + relay("mx.wrong.test", "127.0.0.5") + ": num=62:hostname mismatch"},
		{name: "may trusted wrong name", level: "may", nexthop: "wrong.test", trust: true, status: ipc.StatusSent, tls: true, sink: wrongSink,
			logLine: "Trusted TLS connection established to " + relay("mx.wrong.test", "127.0.0.5")},
		{name: "secure wrong name", level: "secure", nexthop: "wrong.test", trust: true, status: ipc.StatusDeferred, reply: "Server certificate not verified",
			logLine: "Untrusted TLS connection established to " + relay("mx.wrong.test", "127.0.0.5")},
		{name: "secure nexthop match", level: "secure", nexthop: "tls.test", trust: true, status: ipc.StatusSent, tls: true, sink: tlsSink,
			logLine: "Verified TLS connection established to " + relay("mx.tls.test", "127.0.0.3")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, readLog := newTestClient(t, port, zone, func(cfg *Config) {
				cfg.TLS = TLSPolicy{Level: tt.level, LogLevel: 1}
				if tt.trust {
					cfg.TLS.RootCAs = pool
				}
			})
			var before int
			if tt.sink != nil {
				before = len(tt.sink.received())
			}
			r := deliver(c, tt.nexthop, testMessage("user@x.test"))[0]
			if r.Status != tt.status || (tt.reply != "" && r.Reply != tt.reply) {
				t.Fatalf("result = %+v, want %v %q", r, tt.status, tt.reply)
			}
			if tt.logLine != "" && !strings.Contains(readLog(), tt.logLine) {
				t.Fatalf("log lacks %q:\n%s", tt.logLine, readLog())
			}
			if tt.logLine == "" && strings.Contains(readLog(), "TLS connection established") {
				t.Fatalf("unexpected TLS log:\n%s", readLog())
			}
			if tt.sink != nil {
				got := tt.sink.received()
				if len(got) != before+1 || got[before].tls != tt.tls {
					t.Fatalf("received %+v, want one message with tls=%v", got[before:], tt.tls)
				}
			}
		})
	}
}

func TestTLSHandshakeFailure(t *testing.T) {
	_, certs := testCA(t, []string{"127.0.0.3"})
	// An ECDSA certificate with only RSA key exchange allowed: no
	// handshake can succeed.
	broken := func(s *sink) {
		s.srv.TLSConfig = &tls.Config{Certificates: certs, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}
	}
	s := listenSink(t, "127.0.0.3:0", broken)
	tests := []struct {
		level  string
		status ipc.DeliveryStatus
		reply  string
	}{
		{"may", ipc.StatusSent, "250 2.0.0 Ok: queued as SINK1"},
		{"encrypt", ipc.StatusDeferred, "Cannot start TLS: handshake failure"},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			before := len(s.received())
			c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) { cfg.TLS.Level = tt.level })
			r := deliver(c, "[127.0.0.3]", testMessage("user@x.test"))[0]
			if r.Status != tt.status || r.Reply != tt.reply {
				t.Fatalf("result %+v", r)
			}
			got := s.received()[before:]
			if (tt.status == ipc.StatusSent) != (len(got) == 1) || (len(got) == 1 && got[0].tls) {
				t.Fatalf("received %+v", got)
			}
		})
	}
}
