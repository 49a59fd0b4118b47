// End-to-end tests of smtpd_milters: a private OpenDKIM signs what
// Postern relays, and the signature of the delivered copy verifies
// against the test key (checked by a second OpenDKIM in verify mode);
// a milter that is down gets milter_default_action.

package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/milter"
	"github.com/postern/postern/tests/internal/harness"
)

// startOpenDKIM runs opendkim in the foreground with config (a format
// string taking the port) and waits until it listens.
func startOpenDKIM(t *testing.T, dir, name, config string) int {
	t.Helper()
	port := harness.FreePort(t)
	conf := filepath.Join(dir, name+".conf")
	harness.WriteFile(t, conf, fmt.Sprintf(config, port))
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	startListening(t, exec.Command("/usr/sbin/opendkim", "-f", "-x", conf), "opendkim "+name, addr, 30*time.Second, 50*time.Millisecond, nil)
	return port
}

// startListening starts cmd (described as name) in a process group of
// its own, killed with its group when the test ends, and waits up to
// timeout, looking every poll, until it listens on addr. The failure
// reports show its output and what detail returns, if given.
func startListening(t *testing.T, cmd *exec.Cmd, name, addr string, timeout, poll time.Duration, detail func() string) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	output := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	waitAccepting(t, name, addr, exited, timeout, poll, func() string {
		if detail == nil {
			return output.String()
		}
		return output.String() + "\n" + detail()
	})
}

// waitAccepting waits up to timeout, looking every poll, until something
// accepts connections on addr. It fails the test, with what diagnose
// returns, when exited (the server's Wait) reports first or the time is
// up; an exit it took is put back for the test's cleanup.
func waitAccepting(t *testing.T, name, addr string, exited chan error, timeout, poll time.Duration, diagnose func() string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited (%v):\n%s", name, err, diagnose())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen on %s:\n%s", name, addr, diagnose())
		}
		time.Sleep(poll)
	}
}

// publicKey reads the p= value out of opendkim-genkey's TXT record file.
func publicKey(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var joined strings.Builder
	for _, m := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(string(data), -1) {
		joined.WriteString(m[1])
	}
	return joined.String()
}

// parseMessage splits a delivered message into milter headers and body.
func parseMessage(data string) ([]milter.Header, []byte) {
	data = strings.ReplaceAll(data, "\r\n", "\n")
	head, body, _ := strings.Cut(data, "\n\n")
	var headers []milter.Header
	for _, line := range strings.Split(head, "\n") {
		if (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) && len(headers) > 0 {
			headers[len(headers)-1].Value += "\n" + line
			continue
		}
		name, value, _ := strings.Cut(line, ":")
		headers = append(headers, milter.Header{Name: name, Value: value})
	}
	return headers, []byte(body)
}

// runMilter passes m through one milter as an SMTP client at
// 192.0.2.1 would, and applies its edits.
func runMilter(t *testing.T, s *milter.Settings, spec string, m *milter.Message, log milter.Warner) milter.Verdict {
	t.Helper()
	specs, err := s.Specs(spec)
	if err != nil {
		t.Fatal(err)
	}
	c := milter.Open(s, specs, log)
	defer c.Close()
	for _, ev := range []func() milter.Verdict{
		func() milter.Verdict {
			return c.Connect(milter.Client{Name: "sink.test", Reverse: "sink.test", Addr: "192.0.2.1", Port: "25", NameStatus: "OK"})
		},
		func() milter.Verdict { return c.Helo("sink.test") },
		func() milter.Verdict { return c.Mail(m.Sender, "", milter.Resolved{Addr: m.Sender}, "sink.test") },
		func() milter.Verdict { return c.Rcpt(m.Recipients[0], "", milter.Resolved{Addr: m.Recipients[0]}) },
		func() milter.Verdict { return c.Data(m.QueueID) },
	} {
		if v := ev(); v.Stop() {
			return v
		}
	}
	v, edits := c.Content(0, m)
	milter.Apply(m, edits, &v)
	return v
}

type warnings struct{ lines []string }

func (w *warnings) Warning(format string, args ...any) {
	w.lines = append(w.lines, fmt.Sprintf(format, args...))
}

func TestMilterOpenDKIMSignsAndSignatureVerifies(t *testing.T) {
	for _, bin := range []string{"/usr/sbin/opendkim", "/usr/sbin/opendkim-genkey"} {
		if _, err := os.Stat(bin); err != nil {
			t.Skipf("OpenDKIM is not installed (%v); scripts/test-deps.sh installs it", err)
		}
	}
	dir := t.TempDir()
	if out, err := exec.Command("/usr/sbin/opendkim-genkey", "-D", dir, "-d", "example.org", "-s", "test").CombinedOutput(); err != nil {
		t.Fatalf("opendkim-genkey: %v\n%s", err, out)
	}
	signPort := startOpenDKIM(t, dir, "signer", `Mode s
Domain example.org
Selector test
KeyFile `+dir+`/test.private
Socket inet:%d@127.0.0.1
Syslog no
RequireSafeKeys no
Canonicalization relaxed/simple
PidFile `+dir+`/signer.pid
`)

	port := sinkPort(t)
	sink := startSink(t, "127.0.0.2:"+port, "sink.test", sinkOptions{})
	in := newDelivery(t, "")
	transport := in.writeMap("transport", "example.net smtp:[127.0.0.2]:"+port+"\n")
	in.appendMainCF(fmt.Sprintf("transport_maps = %s\nsmtpd_milters = inet:127.0.0.1:%d\n", transport, signPort))
	in.run()
	in.send("alice@example.org", []string{"bob@example.net"},
		"From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: signed by OpenDKIM\r\nDate: Mon, 07 Dec 2026 06:00:00 +0000\r\nMessage-ID: <dkim-1@example.org>\r\n\r\nHello Bob,\r\nthis is signed.\r\n")
	msgs := sink.waitMessages(t, in, 1, 30*time.Second)
	data := msgs[0].Data
	if !regexp.MustCompile(`(?m)^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example\.org;\s+s=test;`).MatchString(data) {
		t.Fatalf("delivered message is not signed:\n%s\nlog:\n%s", data, in.log())
	}

	// A second OpenDKIM verifies the delivered copy with the test key.
	harness.WriteFile(t, filepath.Join(dir, "dns"), "test._domainkey.example.org "+publicKey(t, filepath.Join(dir, "test.txt"))+"\n")
	verifyPort := startOpenDKIM(t, dir, "verifier", `Mode v
Socket inet:%d@127.0.0.1
Syslog no
AuthservID verifier.test
TestDNSData file:`+dir+`/dns
PidFile `+dir+`/verifier.pid
`)
	s := &milter.Settings{ConnectTimeout: 30 * time.Second, CommandTimeout: 30 * time.Second, ContentTimeout: 30 * time.Second,
		DefaultAction: "tempfail", Protocol: 6, MyHostname: "check.test", DaemonName: "check.test"}
	headers, body := parseMessage(data)
	m := &milter.Message{QueueID: "CHECK", Sender: "alice@example.org", Recipients: []string{"bob@example.net"}, Headers: headers, Body: body}
	log := &warnings{}
	if v := runMilter(t, s, fmt.Sprintf("inet:127.0.0.1:%d", verifyPort), m, log); v.Reply != "" {
		t.Fatalf("verifier: %+v %v", v, log.lines)
	}
	var results []string
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, "Authentication-Results") {
			results = append(results, h.Value)
		}
	}
	if len(results) != 1 || !strings.Contains(results[0], "dkim=pass") || !strings.Contains(results[0], "header.d=example.org") {
		t.Errorf("verifier's Authentication-Results %q, want dkim=pass for example.org (warnings %v)", results, log.lines)
	}
}

// A milter that cannot be reached: milter_default_action = tempfail
// refuses the message with 451 4.7.1, accept lets it through.
func TestMilterDownDefaultAction(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	ln.Close()
	for _, action := range []string{"tempfail", "accept"} {
		t.Run(action, func(t *testing.T) {
			port := sinkPort(t)
			sink := startSink(t, "127.0.0.2:"+port, "sink.test", sinkOptions{})
			in := newDelivery(t, "")
			transport := in.writeMap("transport", "example.net smtp:[127.0.0.2]:"+port+"\n")
			in.appendMainCF(fmt.Sprintf("transport_maps = %s\nsmtpd_milters = inet:%s\nmilter_default_action = %s\n", transport, down, action))
			in.run()
			reply := sendExpectError(t, in.addr, "alice@example.org", "bob@example.net", "Subject: milter down\r\n\r\nhello\r\n")
			if action == "tempfail" {
				// As Postfix: the failure is logged at CONNECT and EHLO, and
				// MAIL FROM gets the reply.
				if reply != "451 4.7.1 Service unavailable - try again later" {
					t.Fatalf("reply %q\nlog:\n%s", reply, in.log())
				}
				in.waitLog("warning: connect to Milter service inet:"+down+": Connection refused", 30*time.Second)
				in.waitLog("NOQUEUE: milter-reject: CONNECT from localhost[127.0.0.1]: 451 4.7.1 Service unavailable - try again later; proto=SMTP", 30*time.Second)
				in.waitLog("NOQUEUE: milter-reject: EHLO from localhost[127.0.0.1]: 451 4.7.1 Service unavailable - try again later; proto=SMTP helo=<localhost>", 30*time.Second)
				in.waitLog("NOQUEUE: milter-reject: MAIL from localhost[127.0.0.1]: 451 4.7.1 Service unavailable - try again later; from=<alice@example.org> proto=ESMTP helo=<localhost>", 30*time.Second)
				return
			}
			if reply != "" {
				t.Fatalf("reply %q\nlog:\n%s", reply, in.log())
			}
			sink.waitMessages(t, in, 1, 30*time.Second)
		})
	}
}
