// End-to-end test of the README's rspamd snippet: a private rspamd
// (Debian's package, its stock rules, a proxy worker in milter mode on a
// free port, no network) sits in smtpd_milters; a clean message is
// delivered, the GTUBE test message is refused with rspamd's reply.

package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// gtube is the GTUBE test pattern, which rspamd rejects.
const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

// startRspamd runs rspamd in the foreground with its stock rules and
// only the proxy worker, in milter mode, and waits until it listens.
func startRspamd(t *testing.T) int {
	t.Helper()
	if _, err := os.Stat("/usr/bin/rspamd"); err != nil {
		t.Skip("rspamd is not installed; scripts/test-deps.sh installs it")
	}
	dir := t.TempDir()
	port := harness.FreePort(t)
	harness.WriteFile(t, filepath.Join(dir, "tld.dat"), "com\nnet\norg\nexample\n")
	conf := filepath.Join(dir, "rspamd.conf")
	harness.WriteFile(t, conf, fmt.Sprintf(`.include "$CONFDIR/common.conf"
options {
    pidfile = "%[1]s/rspamd.pid";
    # Compiling the rules for hyperscan and the URL matcher for every
    # public suffix takes minutes on a busy machine: neither is needed.
    disable_hyperscan = true;
    url_tld = "%[1]s/tld.dat";
    dns {
        nameserver = ["127.0.0.1:9"];
        timeout = 0.1s;
        retransmits = 1;
    }
}
logging {
    type = "file";
    filename = "%[1]s/rspamd.log";
    level = "notice";
}
worker "rspamd_proxy" {
    bind_socket = "127.0.0.1:%[2]d";
    milter = yes;
    timeout = 120s;
    count = 1;
    upstream "local" {
        default = yes;
        self_scan = yes;
    }
}
`, dir, port))
	args := []string{"-f", "-c", conf, "--var=DBDIR=" + dir, "--var=RUNDIR=" + dir, "--var=LOGDIR=" + dir}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("_rspamd")
		if err != nil {
			t.Skipf("rspamd's user is missing: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, d := range []string{filepath.Dir(dir), dir} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{dir, filepath.Join(dir, "tld.dat")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		args = append(args, "-u", "_rspamd", "-g", "_rspamd")
	}
	cmd := exec.Command("/usr/bin/rspamd", args...)
	cmd.Dir = dir
	startListening(t, cmd, "rspamd", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 2*time.Minute, 100*time.Millisecond, func() string {
		log, _ := os.ReadFile(filepath.Join(dir, "rspamd.log"))
		return string(log)
	})
	return port
}

func TestMilterRspamd(t *testing.T) {
	rspamdPort := startRspamd(t)
	port := sinkPort(t)
	sink := startSink(t, "127.0.0.2:"+port, "sink.test", sinkOptions{})
	in := newDelivery(t, "")
	transport := in.writeMap("transport", "example.net smtp:[127.0.0.2]:"+port+"\n")
	// The README's snippet, on rspamd's port.
	in.appendMainCF(fmt.Sprintf(`transport_maps = %s
smtpd_milters = inet:127.0.0.1:%d
non_smtpd_milters = $smtpd_milters
milter_default_action = accept
milter_protocol = 6
milter_mail_macros = i {mail_addr} {client_addr} {client_name} {auth_authen}
`, transport, rspamdPort))
	in.run()

	reply := sendExpectError(t, in.addr, "alice@example.org", "bob@example.net",
		"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: GTUBE\r\nMessage-ID: <gtube@example.org>\r\n\r\n"+gtube+"\r\n")
	if reply != "554 5.7.1 Gtube pattern" {
		t.Fatalf("GTUBE: reply %q\nlog:\n%s", reply, in.log())
	}
	in.waitLog(": milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.7.1 Gtube pattern; from=<alice@example.org> to=<bob@example.net> proto=ESMTP helo=<localhost>", 30*time.Second)

	in.send("alice@example.org", []string{"bob@example.net"},
		"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: clean\r\nMessage-ID: <clean@example.org>\r\n\r\nHello Bob.\r\n")
	msgs := sink.waitMessages(t, in, 1, 60*time.Second)
	assertEnvelope(t, msgs[0], "alice@example.org", "bob@example.net")
}
