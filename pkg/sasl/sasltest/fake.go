// Package sasltest is a fake Dovecot auth service for tests of pkg/sasl
// and of smtpd's AUTH: users "alice" with password "secret".
package sasltest

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// Server is a tiny auth server: PLAIN and LOGIN for alice/secret, an
// ANONYMOUS that always fails temporarily, and a private mechanism that
// must not be offered.
type Server struct {
	l net.Listener

	mu       sync.Mutex
	requests []string // every line received after the handshake
	conns    []net.Conn
	accepted int
}

// Start listens on the Unix socket path, or on a TCP port of 127.0.0.1
// when path is "". The server stops at the end of the test.
func Start(t testing.TB, path string) *Server {
	t.Helper()
	network, address := "unix", path
	if path == "" {
		network, address = "tcp", "127.0.0.1:0"
	}
	l, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	f := &Server{l: l}
	go f.serve()
	t.Cleanup(f.Stop)
	return f
}

// Addr is the listening address.
func (f *Server) Addr() string { return f.l.Addr().String() }

// Connections counts the connections accepted so far.
func (f *Server) Connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepted
}

// Stop closes the listener and every connection, as a Dovecot that exits.
func (f *Server) Stop() {
	f.l.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

// Lines returns the request lines received after the handshakes.
func (f *Server) Lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *Server) serve() {
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns = append(f.conns, c)
		f.accepted++
		f.mu.Unlock()
		go f.session(c)
	}
}

func (f *Server) session(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	fmt.Fprint(c, "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tLOGIN\tplaintext\nMECH\tANONYMOUS\tanonymous\nMECH\tSECRET\tprivate\nSPID\t1\nCUID\t1\nCOOKIE\tabc\nDONE\n")
	mech := map[string]string{}  // id -> mechanism
	login := map[string]string{} // id -> LOGIN user given so far
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "VERSION") || strings.HasPrefix(line, "CPID") {
			continue
		}
		f.mu.Lock()
		f.requests = append(f.requests, line)
		f.mu.Unlock()
		fields := strings.Split(line, "\t")
		if len(fields) < 3 {
			continue
		}
		id := fields[1]
		if fields[0] == "AUTH" {
			mech[id] = fields[2]
		}
		switch {
		case fields[0] == "AUTH" && fields[2] == "PLAIN":
			resp, has := "", false
			for _, a := range fields[3:] {
				if v, ok := strings.CutPrefix(a, "resp="); ok {
					resp, has = v, true
				}
			}
			if !has {
				fmt.Fprintf(c, "CONT\t%s\t\n", id)
				continue
			}
			f.plain(c, id, resp)
		case fields[0] == "CONT" && mech[id] == "PLAIN":
			f.plain(c, id, fields[2])
		case fields[0] == "AUTH" && fields[2] == "LOGIN":
			fmt.Fprintf(c, "CONT\t%s\tVXNlcm5hbWU6\n", id)
		case fields[0] == "CONT" && login[id] == "":
			user, _ := base64.StdEncoding.DecodeString(fields[2])
			login[id] = string(user)
			fmt.Fprintf(c, "CONT\t%s\tUGFzc3dvcmQ6\n", id)
		case fields[0] == "CONT":
			pass, _ := base64.StdEncoding.DecodeString(fields[2])
			if login[id] == "alice" && string(pass) == "secret" {
				fmt.Fprintf(c, "OK\t%s\tuser=alice\n", id)
			} else {
				fmt.Fprintf(c, "FAIL\t%s\tuser=%s\n", id, login[id])
			}
		case fields[0] == "AUTH" && fields[2] == "ANONYMOUS":
			fmt.Fprintf(c, "FAIL\t%s\ttemp\treason=try\x01tlater\n", id)
		}
	}
}

func (f *Server) plain(c net.Conn, id, resp string) {
	creds, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		fmt.Fprintf(c, "FAIL\t%s\tcode=invalid_base64\treason=Invalid base64 data\n", id)
		return
	}
	parts := strings.Split(string(creds), "\x00")
	if len(parts) == 3 && parts[1] == "alice" && parts[2] == "secret" {
		fmt.Fprintf(c, "OK\t%s\tuser=alice\n", id)
		return
	}
	user := ""
	if len(parts) == 3 {
		user = parts[1]
	}
	fmt.Fprintf(c, "FAIL\t%s\tuser=%s\n", id, user)
}
