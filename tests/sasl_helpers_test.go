// Helpers of the SMTP AUTH tests: a private Dovecot that runs only its auth service, and certificate files for smtpd.

package tests

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/tlsconf/tlstest"
	"github.com/postern/postern/tests/internal/harness"
)

// saslUsers are the accounts of the test Dovecot: name and password.
var saslUsers = map[string]string{"alice": "alice-secret", "bob": "bob-secret", "mallory": "mallory-secret"}

// dovecotAuthConfig runs Dovecot with no mail protocol, only the auth
// service, with users from a passwd-file and one unix_listener per socket
// path (%[3]s). Failed logins are answered at once (auth_failure_delay 0)
// so that the tests stay quick.
const dovecotAuthConfig = `base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = postern-sasl-%[2]s
log_path = %[1]s/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
service auth {
%[3]s}
`

// dovecotAuth is a private Dovecot auth service.
type dovecotAuth struct {
	t       *testing.T
	dir     string
	config  string
	sockets []string
	cmd     *exec.Cmd
	exited  chan error
	output  *lockedBuffer
}

var dovecotInstances atomic.Int32

// saslPrerequisites returns why the AUTH tests cannot run here, or "".
func saslPrerequisites() string {
	if os.Geteuid() != 0 {
		return "Dovecot's auth service needs root"
	}
	if _, err := os.Stat(dovecotBinary); err != nil {
		return fmt.Sprintf("Dovecot is not installed (%v); scripts/test-deps.sh installs dovecot-core", err)
	}
	for _, name := range []string{"dovecot", "dovenull"} {
		if _, err := user.Lookup(name); err != nil {
			return fmt.Sprintf("Dovecot's %s user is missing: %v", name, err)
		}
	}
	return ""
}

// startDovecotAuth starts Dovecot with an auth listener (mode 0666) on
// each of sockets, absolute paths. It is stopped when the test ends.
func startDovecotAuth(t *testing.T, sockets ...string) *dovecotAuth {
	t.Helper()
	if why := saslPrerequisites(); why != "" {
		t.Skip(why)
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	var passwd strings.Builder
	for name, password := range saslUsers {
		fmt.Fprintf(&passwd, "%s:{PLAIN}%s\n", name, password)
	}
	harness.WriteFile(t, filepath.Join(dir, "passwd"), passwd.String())
	var listeners strings.Builder
	for _, s := range sockets {
		fmt.Fprintf(&listeners, "  unix_listener %s {\n    mode = 0666\n  }\n", s)
	}
	d := &dovecotAuth{t: t, dir: dir, config: filepath.Join(dir, "dovecot.conf"), sockets: sockets}
	harness.WriteFile(t, d.config, fmt.Sprintf(dovecotAuthConfig, dir, fmt.Sprintf("%d-%d", os.Getpid(), dovecotInstances.Add(1)), listeners.String()))
	d.start()
	t.Cleanup(d.stop)
	return d
}

// log is Dovecot's log file.
func (d *dovecotAuth) log() string {
	data, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
	return string(data)
}

// start runs Dovecot and waits until every socket accepts connections.
func (d *dovecotAuth) start() {
	t := d.t
	t.Helper()
	d.cmd = exec.Command(dovecotBinary, "-F", "-c", d.config)
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d.output = &lockedBuffer{}
	d.cmd.Stdout, d.cmd.Stderr = d.output, d.output
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
	}
	d.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan error) { exited <- cmd.Wait() }(d.cmd, d.exited)
	for _, s := range d.sockets {
		for deadline := time.Now().Add(30 * time.Second); ; {
			if c, err := net.Dial("unix", s); err == nil {
				c.Close()
				break
			}
			select {
			case err := <-d.exited:
				t.Fatalf("dovecot exited (%v):\n%s\nlog:\n%s", err, d.output.String(), d.log())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("dovecot does not listen on %s:\n%s\nlog:\n%s", s, d.output.String(), d.log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// stop terminates Dovecot and everything it started, as systemd stops
// the service: SIGTERM to every process of the group. (SIGTERM to the
// master alone leaves the auth process serving the clients it has.)
func (d *dovecotAuth) stop() {
	if d.cmd == nil {
		return
	}
	pid := d.cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		d.t.Errorf("dovecot still runs 30s after SIGTERM; killed\n%s", d.log())
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	d.cmd = nil
	// Nothing may accept on the sockets any more.
	for _, s := range d.sockets {
		os.Remove(s)
	}
}

// writeServerCert writes a self-signed certificate and key for
// mx.test.example into dir and returns their paths.
func writeServerCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	now := time.Now()
	cert := issuedCert{tls: tlstest.SelfSigned(t, &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.test.example"},
		DNSNames: []string{"mx.test.example"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})}.write(t, dir, "cert")
	return cert.certFile, cert.keyFile
}
