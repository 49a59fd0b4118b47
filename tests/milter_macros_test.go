// End-to-end test of the milter macros that need a counted client or a
// client certificate: {client_connections} (anvil's count of the
// client's concurrent connections) at CONNECT, and {cert_subject} and
// {cert_issuer} (a trusted client certificate's common names) at the
// HELO after STARTTLS.

package tests

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/postern/postern/tests/internal/harness"
)

// macroMilter records the macros of each CONNECT and HELO it gets.
type macroMilter struct {
	gomilter.NoOpMilter
	mu     *sync.Mutex
	events *[]string
}

func (m *macroMilter) record(stage string, mod gomilter.Modifier, names ...gomilter.MacroName) {
	var b strings.Builder
	b.WriteString(stage)
	for _, n := range names {
		fmt.Fprintf(&b, " %s=%s", n, mod.Get(n))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	*m.events = append(*m.events, b.String())
}

func (m *macroMilter) Connect(_, _ string, _ uint16, _ string, mod gomilter.Modifier) (*gomilter.Response, error) {
	m.record("connect", mod, gomilter.MacroClientConnections)
	return gomilter.RespContinue, nil
}

func (m *macroMilter) Helo(_ string, mod gomilter.Modifier) (*gomilter.Response, error) {
	m.record("helo", mod, gomilter.MacroTlsVersion, gomilter.MacroCertSubject, gomilter.MacroCertIssuer)
	return gomilter.RespContinue, nil
}

// A second concurrent connection from the client has
// {client_connections}=2; after STARTTLS with a certificate from the CA
// in smtpd_tls_CAfile, HELO carries its subject and issuer names.
func TestMilterMacrosConnectionsAndClientCert(t *testing.T) {
	var mu sync.Mutex
	var events []string
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gomilter.NewServer(gomilter.WithMilter(func() gomilter.Milter { return &macroMilter{mu: &mu, events: &events} }))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	seen := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(events, "\n")
	}

	dir := harness.SharedTempDir(t)
	ca := newTestCA(t, dir, "Milter Test CA")
	server := ca.issue("mx.test.example", []string{"mx.test.example"}, nil, false).write(t, dir, "server")
	client := ca.issue("client.milter.test", nil, nil, false)
	in := newDoor(t, "", fmt.Sprintf(`smtpd_client_event_limit_exceptions =
smtpd_milters = inet:%s
milter_connect_macros = j {daemon_name} v _ {client_connections}
smtpd_tls_security_level = may
smtpd_tls_cert_file = %s
smtpd_tls_key_file = %s
smtpd_tls_ask_ccert = yes
smtpd_tls_CAfile = %s
`, ln.Addr(), server.certFile, server.keyFile, ca.file))
	for _, f := range []string{server.certFile, server.keyFile, ca.file} {
		in.giveAway(f)
	}

	first := in.dial()
	if got := first.reply(30 * time.Second); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("banner %q\nlog:\n%s", got, in.log())
	}
	second := in.dial()
	if got := second.reply(30 * time.Second); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("second banner %q\nlog:\n%s", got, in.log())
	}
	if want := "connect {client_connections}=1\nconnect {client_connections}=2"; seen() != want {
		t.Errorf("CONNECT macros:\n%s\nwant\n%s", seen(), want)
	}
	second.send("QUIT")

	first.send("EHLO c.example")
	if got := first.send("STARTTLS"); got != "220 2.0.0 Ready to start TLS" {
		t.Fatalf("STARTTLS: %q\nlog:\n%s", got, in.log())
	}
	cert := client.tls
	tc := tls.Client(first.conn, &tls.Config{InsecureSkipVerify: true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }})
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v\nlog:\n%s", err, in.log())
	}
	tc.SetDeadline(time.Time{})
	first.conn, first.r = tc, bufio.NewReader(tc)
	if got := first.send("EHLO c.example"); !strings.HasPrefix(got, "250") {
		t.Fatalf("EHLO after STARTTLS: %q", got)
	}
	first.send("QUIT")
	lines := strings.Split(seen(), "\n")
	if len(lines) != 4 {
		t.Fatalf("events:\n%s\nwant 2 CONNECT and 2 HELO", seen())
	}
	if want := "helo {tls_version}= {cert_subject}= {cert_issuer}="; lines[2] != want {
		t.Errorf("HELO before STARTTLS: %q, want %q", lines[2], want)
	}
	if want := "helo {tls_version}=TLSv1.3 {cert_subject}=client.milter.test {cert_issuer}=Milter Test CA"; lines[3] != want {
		t.Errorf("HELO after STARTTLS: %q, want %q", lines[3], want)
	}
}
