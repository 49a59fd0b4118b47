// service_test.go tests check_policy_service against a policy server in
// the test: the request attributes, the actions, connection reuse and
// its limits, retries and the default action, inet: and unix: servers.

package policy

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/internal/sockdir"
)

// policyServer answers each request with action(attrs) and records the
// requests and connections.
type policyServer struct {
	ln       net.Listener
	action   func(attrs map[string]string) string
	mu       sync.Mutex
	requests []map[string]string
	conns    int
}

func startPolicyServer(t *testing.T, network, address string, action func(map[string]string) string) *policyServer {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	p := &policyServer{ln: ln, action: action}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns++
			p.mu.Unlock()
			go p.serve(c)
		}
	}()
	return p
}

func (p *policyServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		attrs := map[string]string{}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			if line == "" {
				break
			}
			k, v, _ := strings.Cut(line, "=")
			attrs[k] = v
		}
		p.mu.Lock()
		p.requests = append(p.requests, attrs)
		p.mu.Unlock()
		fmt.Fprintf(c, "action=%s\n\n", p.action(attrs))
	}
}

func (p *policyServer) stats() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.requests), p.conns
}

func TestPolicyService(t *testing.T) {
	srv := startPolicyServer(t, "tcp", "127.0.0.1:0", func(a map[string]string) string {
		switch strings.SplitN(a["recipient"], "@", 2)[0] {
		case "no":
			return "REJECT not you"
		case "later":
			return "DEFER_IF_PERMIT 4.2.0 Greylisted"
		case "ok":
			return "OK"
		case "restr":
			return "permit_mynetworks, reject"
		case "other":
			return "REJECT"
		}
		return "DUNNO"
	})
	c, _, _ := testCheckerWith(t, relayOnly+"smtpd_policy_service_request_limit = 3\n"+
		"smtpd_recipient_restrictions = check_policy_service inet:"+srv.ln.Addr().String()+"\n", nil, Options{})
	s := &Session{ClientName: "mx.example", ReverseName: "mx.example", ClientAddr: "192.0.2.1", ClientPort: "4711",
		Helo: "c.example", Protocol: "ESMTP", Mail: true, Sender: addr.Address{Local: "s", Domain: "remote.example"},
		Instance: "abc.1", Size: 1234}
	tests := []struct{ rcpt, want string }{
		{"no@relay.example", "554 5.7.1 <no@relay.example>: Recipient address rejected: not you"},
		{"later@relay.example", "450 4.2.0 <later@relay.example>: Recipient address rejected: Greylisted"},
		{"ok@relay.example", ""},
		{"other@relay.example", "554 5.7.1 <other@relay.example>: Recipient address rejected: Access denied"},
		{"restr@relay.example", "554 5.7.1 <restr@relay.example>: Recipient address rejected: Access denied"},
	}
	for _, tt := range tests {
		if got := rcpt(c, s, tt.rcpt); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.rcpt, got, tt.want)
		}
	}
	requests, conns := srv.stats()
	if requests != 5 || conns != 2 {
		t.Errorf("%d requests on %d connections, want 5 on 2 (request_limit 3)", requests, conns)
	}
	first := srv.requests[0]
	for k, v := range map[string]string{
		"request": "smtpd_access_policy", "protocol_state": "RCPT", "protocol_name": "ESMTP",
		"client_address": "192.0.2.1", "client_name": "mx.example", "client_port": "4711", "reverse_client_name": "mx.example",
		"helo_name": "c.example", "sender": "s@remote.example", "recipient": "no@relay.example",
		"recipient_count": "0", "instance": "abc.1", "size": "1234", "policy_context": "", "compatibility_level": "3.6",
	} {
		if first[k] != v {
			t.Errorf("request %s=%q, want %q", k, first[k], v)
		}
	}
}

func TestPolicyServiceFailure(t *testing.T) {
	// Nothing listens: after try_limit attempts, the default action.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	var slept []time.Duration
	c, warnings, _ := testCheckerWith(t, relayOnly+"smtpd_policy_service_try_limit = 3\nsmtpd_policy_service_retry_delay = 2s\n"+
		"smtpd_recipient_restrictions = check_policy_service inet:"+dead+"\n", nil,
		Options{Sleep: func(d time.Duration) { slept = append(slept, d) }})
	s := &Session{ClientAddr: "192.0.2.1", Protocol: "ESMTP", Mail: true}
	if got := rcpt(c, s, "a@relay.example"); got != "451 4.3.5 <a@relay.example>: Recipient address rejected: Server configuration problem" {
		t.Errorf("dead server = %q", got)
	}
	if len(slept) != 2 || slept[0] != 2*time.Second {
		t.Errorf("slept %v, want two retry delays of 2s", slept)
	}
	if !strings.Contains(strings.Join(*warnings, "\n"), "problem talking to server "+dead) {
		t.Errorf("warnings = %q", *warnings)
	}
	// Per-server settings in braces.
	c2, _, _ := testCheckerWith(t, relayOnly+
		"smtpd_recipient_restrictions = check_policy_service { inet:"+dead+", try_limit=1, default_action=DUNNO }, reject\n", nil,
		Options{Sleep: func(time.Duration) { t.Error("slept with try_limit=1") }})
	if got := rcpt(c2, s, "a@relay.example"); got != "554 5.7.1 <a@relay.example>: Recipient address rejected: Access denied" {
		t.Errorf("default_action=DUNNO = %q", got)
	}
}

func TestPolicyServiceUnix(t *testing.T) {
	dir := sockdir.New(t)
	srv := startPolicyServer(t, "unix", filepath.Join(dir, "policy"), func(a map[string]string) string {
		return "550 5.7.0 from " + a["protocol_state"]
	})
	_ = srv
	c, _, _ := testCheckerWith(t, relayOnly+"queue_directory = "+dir+"\n"+
		"smtpd_data_restrictions = check_policy_service unix:policy\n", nil, Options{})
	s := &Session{ClientAddr: "192.0.2.1", Protocol: "ESMTP", Mail: true, RecipientCount: 2}
	if got := c.CheckData(s).Reply(); got != "550 5.7.0 <DATA>: Data command rejected: from DATA" {
		t.Errorf("DATA = %q", got)
	}
	if got := srv.requests[0]["recipient_count"]; got != "2" {
		t.Errorf("recipient_count = %q", got)
	}
}
