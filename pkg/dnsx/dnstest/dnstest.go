// Package dnstest runs a small authoritative DNS server on 127.0.0.1 for
// tests of the smtp client's lookups.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server answers from Records; names not in Records get NXDOMAIN, names in
// ServFail get SERVFAIL.
type Server struct {
	// Addr is the "127.0.0.1:port" the server listens on (UDP).
	Addr string

	mu       sync.Mutex
	records  map[string][]dns.RR
	servFail map[string]bool
}

// Start runs a server until the test ends. Each record is in zone-file
// form, e.g. "example.com. 300 IN MX 10 mx1.example.com.".
func Start(t testing.TB, records ...string) *Server {
	t.Helper()
	s := &Server{records: map[string][]dns.RR{}, servFail: map[string]bool{}}
	for _, text := range records {
		s.Add(t, text)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dns listen: %v", err)
	}
	s.Addr = pc.LocalAddr().String()
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return s
}

// Add adds one record in zone-file form.
func (s *Server) Add(t testing.TB, text string) {
	t.Helper()
	rr, err := dns.NewRR(text)
	if err != nil {
		t.Fatalf("record %q: %v", text, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := strings.ToLower(rr.Header().Name)
	s.records[name] = append(s.records[name], rr)
}

// FailName makes every query for name fail with SERVFAIL.
func (s *Server) FailName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servFail[strings.ToLower(dns.Fqdn(name))] = true
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	reply := new(dns.Msg)
	reply.SetReply(req)
	reply.Authoritative = true
	s.mu.Lock()
	if len(req.Question) == 1 {
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		rrs, known := s.records[name]
		switch {
		case s.servFail[name]:
			reply.Rcode = dns.RcodeServerFailure
		case !known:
			reply.Rcode = dns.RcodeNameError
		default:
			for _, rr := range rrs {
				if rr.Header().Rrtype == q.Qtype {
					reply.Answer = append(reply.Answer, rr)
				}
			}
		}
	}
	s.mu.Unlock()
	_ = w.WriteMsg(reply)
}
