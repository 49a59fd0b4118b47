// Tests of smtp_tls_policy_maps: lookup keys, levels, attributes and the warnings for unusable entries.

package smtpclient

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/dnsx/dnstest"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/tlsconf"
)

// policyTable writes content as a texthash table and opens it.
func policyTable(t *testing.T, content string) maps.Table {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tls_policy")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	table, err := maps.Open("texthash:"+path, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { table.Close() })
	return table
}

func TestTLSPolicyMaps(t *testing.T) {
	pool, certs := testCA(t, []string{"mx.tls.test"}, []string{"mx.sub.policy.test"})
	tlsSink := listenSink(t, "127.0.0.3:0", withTLS(certs[0]))
	port := tlsSink.port()
	plainSink := listenSink(t, hostPort("127.0.0.4", port))
	subSink := listenSink(t, hostPort("127.0.0.5", port), withTLS(certs[1]))
	listenSink(t, hostPort("127.0.0.6", port), func(s *sink) {
		s.srv.TLSConfig = &tls.Config{Certificates: certs[:1], MaxVersion: tls.VersionTLS12}
	})
	zone := dnstest.Start(t,
		"tls.test. IN MX 10 mx.tls.test.", "mx.tls.test. IN A 127.0.0.3",
		"plain.test. IN MX 10 mx.plain.test.", "mx.plain.test. IN A 127.0.0.4",
		"deep.sub.policy.test. IN MX 10 mx.sub.policy.test.", "mx.sub.policy.test. IN A 127.0.0.5",
		"old.test. IN MX 10 mx.old.test.", "mx.old.test. IN A 127.0.0.6",
	)
	table := policyTable(t, strings.Join([]string{
		"tls.test verify",
		"plain.test encrypt",
		".policy.test secure match=.sub.policy.test",
		"[127.0.0.3]:" + port + " none",
		"[127.0.0.4]:" + port + " may protocols=>=TLSv1.2",
		"old.test encrypt protocols=>=TLSv1.3",
		"bad.test verify match=",
		"silly.test sometimes",
		"unknown.test may colour=blue",
		"ignored.test none ciphers=high",
		"dane.test dane",
		"daneonly.test dane-only",
		"wrongmatch.test verify match=elsewhere.test",
		"pinned.test fingerprint match=" + tlsconf.Fingerprint("sha256", certs[0].Certificate[0]),
		"nopin.test fingerprint",
	}, "\n")+"\n")
	tests := []struct {
		name, nexthop, level string
		status               ipc.DeliveryStatus
		reply, log           string
		tls                  bool
		sink                 *sink
	}{
		{name: "domain entry raises the level", nexthop: "tls.test", level: "may", status: ipc.StatusSent, tls: true, sink: tlsSink,
			log: "Verified TLS connection established to mx.tls.test[127.0.0.3]:" + port},
		{name: "encrypt without STARTTLS", nexthop: "plain.test", level: "may", status: ipc.StatusDeferred,
			reply: "TLS is required, but was not offered by host mx.plain.test[127.0.0.4]"},
		{name: "parent domain entry with match", nexthop: "deep.sub.policy.test", level: "none", status: ipc.StatusSent, tls: true, sink: subSink,
			log: "Verified TLS connection established to mx.sub.policy.test[127.0.0.5]:" + port},
		{name: "explicit nexthop entry lowers the level", nexthop: "[127.0.0.3]:" + port, level: "encrypt", status: ipc.StatusSent, sink: tlsSink},
		{name: "explicit nexthop without entry keeps the level", nexthop: "[127.0.0.4]", level: "none", status: ipc.StatusSent, sink: plainSink},
		{name: "protocols refuse the server's", nexthop: "old.test", level: "may", status: ipc.StatusDeferred,
			reply: "Cannot start TLS: handshake failure", log: "SSL_connect error to mx.old.test[127.0.0.6]:" + port + ": -1"},
		{name: "empty match", nexthop: "bad.test", level: "may", status: ipc.StatusDeferred, reply: "client TLS configuration problem",
			log: `warning: smtp_tls_policy_maps, next-hop destination "bad.test": attribute "match" has empty value`},
		{name: "invalid level", nexthop: "silly.test", level: "may", status: ipc.StatusDeferred, reply: "client TLS configuration problem",
			log: `warning: smtp_tls_policy_maps, next-hop destination "silly.test": invalid security level "sometimes"`},
		{name: "invalid attribute", nexthop: "unknown.test", level: "may", status: ipc.StatusDeferred, reply: "client TLS configuration problem",
			log: `warning: smtp_tls_policy_maps, next-hop destination "unknown.test": invalid attribute name: "colour"`},
		{name: "unusable policy", nexthop: "unknown.test", level: "may", status: ipc.StatusDeferred, reply: "client TLS configuration problem",
			log: `warning: TLS policy lookup for unknown.test/mx.tls.test: client TLS configuration problem`},
		{name: "dane-only is not available", nexthop: "daneonly.test", level: "may", status: ipc.StatusDeferred, reply: "client TLS configuration problem",
			log: "warning: daneonly.test: dane-only configured with dnssec lookups disabled"},
		{name: "fingerprint", nexthop: "pinned.test", level: "may", status: ipc.StatusSent, tls: true, sink: tlsSink,
			log: "Verified TLS connection established to mx.tls.test[127.0.0.3]:" + port},
		{name: "fingerprint without fingerprints", nexthop: "nopin.test", level: "may", status: ipc.StatusDeferred, reply: "client TLS configuration problem",
			log: "warning: nexthop domain nopin.test: configured at fingerprint security level, but with no fingerprints to match."},
		{name: "verify match elsewhere", nexthop: "wrongmatch.test", level: "may", status: ipc.StatusDeferred, reply: "Server certificate not verified",
			log: "Untrusted TLS connection established to mx.tls.test[127.0.0.3]:" + port},
	}
	for _, name := range []string{"bad", "silly", "unknown", "daneonly", "wrongmatch", "pinned", "nopin"} {
		zone.Add(t, name+".test. IN MX 10 mx.tls.test.")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, readLog := newTestClient(t, port, zone, func(cfg *Config) {
				cfg.TLS = TLSPolicy{Level: tt.level, LogLevel: 1, RootCAs: pool, TLSChoices: TLSChoices{PolicyMaps: []maps.Table{table}}}
			})
			var before int
			if tt.sink != nil {
				before = len(tt.sink.received())
			}
			r := deliver(c, tt.nexthop, testMessage("user@x.test"))[0]
			if r.Status != tt.status || (tt.reply != "" && r.Reply != tt.reply) {
				t.Fatalf("result = %+v, want %v %q\nlog:\n%s", r, tt.status, tt.reply, readLog())
			}
			if tt.log != "" && !strings.Contains(readLog(), tt.log) {
				t.Fatalf("log lacks %q:\n%s", tt.log, readLog())
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

func TestTLSClientCertificate(t *testing.T) {
	_, certs := testCA(t, []string{"mx.tls.test"}, []string{"client.test"})
	s := listenSink(t, "127.0.0.3:0", func(s *sink) {
		s.srv.TLSConfig = &tls.Config{Certificates: certs[:1], ClientAuth: tls.RequestClientCert}
	})
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key")
	writePair(t, certs[1], certFile, keyFile)
	policy := TLSPolicy{Level: "encrypt", TLSChoices: TLSChoices{CertFile: certFile, KeyFile: keyFile}}
	if err := policy.check(); err != nil {
		t.Fatal(err)
	}
	c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) { cfg.TLS = policy })
	if r := deliver(c, "[127.0.0.3]", testMessage("user@x.test"))[0]; r.Status != ipc.StatusSent {
		t.Fatalf("result %+v", r)
	}
	if got := s.received(); len(got) != 1 || !got[0].tls || got[0].clientCN != "client.test" {
		t.Fatalf("received %+v, want one message over TLS from client.test", got)
	}
	bad := TLSPolicy{TLSChoices: TLSChoices{CertFile: filepath.Join(dir, "missing.crt")}}
	if err := bad.check(); err == nil || !strings.Contains(err.Error(), "cannot load client certificate") {
		t.Errorf("missing certificate: %v", err)
	}
}

// writePair writes a certificate and its key in PEM.
func writePair(t *testing.T, cert tls.Certificate, certFile, keyFile string) {
	t.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}
