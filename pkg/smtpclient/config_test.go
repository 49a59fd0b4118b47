// Tests of reading the client's settings from main.cf.

package smtpclient

import (
	"crypto/x509"
	"encoding/pem"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
)

func loadMainCF(t *testing.T, lines ...string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestFromConfig(t *testing.T) {
	dir := t.TempDir()
	_, certs := testCA(t, []string{"mx.test"})
	caFile := filepath.Join(dir, "ca.pem")
	leaf, _ := x509.ParseCertificate(certs[0].Certificate[0])
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(dir, "sasl_passwd")
	if err := os.WriteFile(passwd, []byte("[relay.test]:587 u:p\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := loadMainCF(t,
		"myhostname = mx.client.test",
		"smtp_tcp_port = 2525",
		"dns_servers = 127.0.0.1:5300, 127.0.0.2",
		"inet_interfaces = 127.0.0.7",
		"inet_protocols = ipv4",
		"smtp_connect_timeout = 7s",
		"smtp_tls_security_level = encrypt",
		"smtp_tls_loglevel = 1",
		"smtp_tls_CAfile = "+caFile,
		"smtp_sasl_auth_enable = yes",
		"smtp_sasl_password_maps = texthash:"+passwd,
		"smtp_sasl_tls_security_options = noanonymous",
		"smtp_connection_cache_time_limit = 5s",
		"smtp_connection_reuse_count_limit = 3",
	)
	c, closeTables, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeTables()
	if c.MyHostname != "mx.client.test" || c.HeloName != "mx.client.test" || c.Port != "2525" || c.ConnectTimeout != 7*time.Second {
		t.Fatalf("config = %+v", c)
	}
	if !slices.Equal(c.Resolver.Servers, []string{"127.0.0.1:5300", "127.0.0.2:53"}) || !c.Resolver.IPv4 || c.Resolver.IPv6 {
		t.Fatalf("resolver = %+v", c.Resolver)
	}
	if !slices.Contains(c.OwnAddrs, netip.MustParseAddr("127.0.0.7")) {
		t.Fatalf("own addresses = %v", c.OwnAddrs)
	}
	if !c.Reuse || c.CacheIdleLimit != 5*time.Second || c.ReuseTimeLimit != 300*time.Second || c.ReuseCountLimit != 3 {
		t.Fatalf("reuse = %v %v %v %v", c.Reuse, c.CacheIdleLimit, c.ReuseTimeLimit, c.ReuseCountLimit)
	}
	if c.TLS.Level != "encrypt" || c.TLS.LogLevel != 1 || c.TLS.RootCAs == nil {
		t.Fatalf("tls = %+v", c.TLS)
	}
	if !c.SASL.Enable || len(c.SASL.Passwords) != 1 || !slices.Equal(c.SASL.TLSOptions, []string{"noanonymous"}) ||
		!slices.Equal(c.SASL.Options, []string{"noplaintext", "noanonymous"}) {
		t.Fatalf("sasl = %+v", c.SASL)
	}
	if v, ok, _ := c.SASL.Passwords[0].Lookup("[relay.test]:587"); !ok || v != "u:p" {
		t.Fatalf("password lookup = %q %v", v, ok)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{"smtp_tls_security_level = sometimes", `invalid tls security level: "sometimes"`},
		{"smtp_tcp_port = nosuchservice", "smtp_tcp_port: unknown service: nosuchservice/tcp"},
		{"smtp_tls_loglevel = loud", "bad numerical configuration: smtp_tls_loglevel = loud"},
		{"dns_servers = not-an-address", `dns_servers: bad server address "not-an-address"`},
		{"smtp_tls_CAfile = /nonexistent/ca.pem", "cannot load Certification Authority data"},
	}
	for _, tt := range tests {
		cfg := loadMainCF(t, "inet_interfaces = loopback-only", tt.line)
		_, _, err := FromConfig(cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.line, err, tt.want)
		}
	}
}
