// End-to-end test of after-queue content filtering: content_filter sends
// every message to a filter (here a small SMTP proxy in the test) that
// adds a header and re-injects it through the classic 127.0.0.1 smtpd
// listener with content_filter= and XFORWARD; the message passes the
// filter exactly once and keeps its original client.

package tests

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// reinjectingFilter accepts SMTP on addr, announcing XFORWARD, and
// passes each message on to reinject with "X-Filtered: yes" added and
// the XFORWARD commands it got replayed.
type reinjectingFilter struct {
	mu       sync.Mutex
	passes   int
	xforward []string
}

func (f *reinjectingFilter) serve(t *testing.T, ln net.Listener, reinject string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go f.session(t, c, reinject)
	}
}

func (f *reinjectingFilter) session(t *testing.T, c net.Conn, reinject string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	say := func(s string) { fmt.Fprintf(c, "%s\r\n", s) }
	say("220 filter.test ESMTP")
	var xforward []string
	var from string
	var rcpts []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			say("250-filter.test")
			say("250 XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT")
		case "XFORWARD":
			xforward = append(xforward, line)
			say("250 2.0.0 Ok")
		case "MAIL":
			from = strings.TrimSuffix(strings.TrimPrefix(strings.Fields(line)[1], "FROM:<"), ">")
			say("250 2.1.0 Ok")
		case "RCPT":
			rcpts = append(rcpts, strings.TrimSuffix(strings.TrimPrefix(strings.Fields(line)[1], "TO:<"), ">"))
			say("250 2.1.5 Ok")
		case "DATA":
			say("354 go on")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			f.mu.Lock()
			f.passes++
			f.xforward = append(f.xforward, xforward...)
			f.mu.Unlock()
			if err := f.reinject(reinject, xforward, from, rcpts, "X-Filtered: yes\r\n"+data.String()); err != nil {
				t.Logf("re-injection: %v", err)
				say("451 4.3.0 re-injection failed")
			} else {
				say("250 2.0.0 Ok: filtered")
			}
			xforward, from, rcpts = nil, "", nil
		case "RSET":
			xforward, from, rcpts = nil, "", nil
			say("250 2.0.0 Ok")
		case "QUIT":
			say("221 2.0.0 Bye")
			return
		default:
			say("250 2.0.0 Ok")
		}
	}
}

// reinject sends the message to the re-injection listener, replaying
// the XFORWARD commands.
func (f *reinjectingFilter) reinject(addr string, xforward []string, from string, rcpts []string, data string) error {
	c, err := harness.DialSMTP(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("filter.test"); err != nil {
		return err
	}
	tp := c.Text
	for _, x := range xforward {
		id, err := tp.Cmd("%s", x)
		if err != nil {
			return err
		}
		tp.StartResponse(id)
		_, _, err = tp.ReadResponse(250)
		tp.EndResponse(id)
		if err != nil {
			return fmt.Errorf("%s: %w", x, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(data)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestContentFilterReinjectionWithXForward(t *testing.T) {
	port := sinkPort(t)
	sink := startSink(t, "127.0.0.2:"+port, "sink.test", sinkOptions{})
	filterLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer filterLn.Close()
	reinject := harness.FreeAddr(t)
	filter := &reinjectingFilter{}
	go filter.serve(t, filterLn, reinject)

	in := newDelivery(t, "")
	master := in.readMasterCF()
	in.writeMasterCF(master + fmt.Sprintf(`scan unix - - n - 10 smtp
  -o smtp_send_xforward_command=yes
%s inet n - n - 10 smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
`, reinject))
	transport := in.writeMap("transport", "example.net smtp:[127.0.0.2]:"+port+"\n")
	in.appendMainCF("transport_maps = " + transport + "\ncontent_filter = scan:[" + strings.Replace(filterLn.Addr().String(), ":", "]:", 1) + "\n")
	in.run()
	waitListening(t, reinject)

	c, err := harness.DialSMTP(in.addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("original.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@example.net"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("Subject: to be filtered\r\n\r\nhello\r\n"))
	if err := w.Close(); err != nil {
		t.Fatalf("end of data: %v\nlog:\n%s", err, in.log())
	}
	c.Quit()

	msgs := sink.waitMessages(t, in, 1, 30*time.Second)
	time.Sleep(time.Second) // a second pass through the filter would show now
	if got := len(sink.received()); got != 1 {
		t.Fatalf("sink got %d messages, want 1", got)
	}
	data := msgs[0].Data
	if n := strings.Count(data, "X-Filtered: yes"); n != 1 {
		t.Errorf("message passed the filter %d times:\n%s", n, data)
	}
	filter.mu.Lock()
	passes, xforward := filter.passes, filter.xforward
	filter.mu.Unlock()
	if passes != 1 {
		t.Errorf("filter saw %d messages, want 1", passes)
	}
	if len(xforward) != 2 || !strings.HasPrefix(xforward[0], "XFORWARD NAME=localhost ADDR=127.0.0.1 PORT=") ||
		!regexp.MustCompile(`^XFORWARD PROTO=ESMTP HELO=original\.test IDENT=[0-9A-F]+ SOURCE=LOCAL$`).MatchString(xforward[1]) {
		t.Errorf("XFORWARD commands %q", xforward)
	}
	// (SOURCE=LOCAL: a 127.0.0.1 client is in local_header_rewrite_clients.)
	// The re-injected copy names the original client in its Received:.
	if !regexp.MustCompile(`(?m)\AReceived: from original\.test \(localhost \[127\.0\.0\.1\]\)\r?\n\tby `).MatchString(data) {
		t.Errorf("re-injected Received: does not name the original client:\n%s", data)
	}
	first := regexp.MustCompile(`IDENT=([0-9A-F]+)`).FindStringSubmatch(strings.Join(xforward, " "))
	if first != nil {
		in.waitLog("client=localhost[127.0.0.1], orig_queue_id="+first[1]+", orig_client=localhost[127.0.0.1]", 30*time.Second)
	}
}

// readMasterCF returns master.cf as written.
func (in *masterRun) readMasterCF() string {
	in.t.Helper()
	data, err := os.ReadFile(filepath.Join(in.etc, "master.cf"))
	if err != nil {
		in.t.Fatal(err)
	}
	return string(data)
}
