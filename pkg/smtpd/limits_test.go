package smtpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/pkg/anvil"
	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/match"
	"github.com/postern/postern/pkg/sasl/sasltest"
)

// withAnvil gives the server a real anvil table served on a socket.
func withAnvil(t *testing.T) func(*testServer) {
	t.Helper()
	path := filepath.Join(sockdir.New(t), "anvil")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close() })
	table := anvil.NewTable(time.Minute)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				table.Serve(ctx, conn)
			}()
		}
	}()
	return func(ts *testServer) {
		ts.srv.Anvil = &anvil.Client{Path: path}
		ts.srv.Service = "smtp"
	}
}

func TestNewTLSSessionRateLimit(t *testing.T) {
	set := tlsSettings(t, false)
	set.Limits.NewTLSRate = 1
	ts := startServer(t, set, withAnvil(t))
	first := dial(t, ts.addr)
	first.expect("", "220 mx.test.example ESMTP Postern")
	first.send("EHLO c\r\n")
	first.reply()
	first.upgrade()
	first.expect("NOOP", "250 2.0.0 Ok")

	// The second new session is over the limit: 421 over TLS, then
	// the end of the session.
	second := dial(t, ts.addr)
	second.reply()
	second.send("EHLO c\r\n")
	second.reply()
	second.expect("STARTTLS", "220 2.0.0 Ready to start TLS")
	tc := tls.Client(second.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	second.conn, second.r = tc, bufio.NewReader(tc)
	second.expect("", "421 4.7.0 mx.test.example Error: too many new TLS sessions from localhost[127.0.0.1]")
	second.expectClosed()
	ts.waitLog(t, "warning: New TLS session rate limit exceeded: 2 from localhost[127.0.0.1] for service smtp")

	// Once over, STARTTLS itself is refused.
	third := dial(t, ts.addr)
	third.reply()
	third.expect("STARTTLS", "454 4.7.0 Error: too many new TLS sessions from localhost[127.0.0.1]")
	ts.waitLog(t, "warning: Refusing STARTTLS request from localhost[127.0.0.1] for service smtp")
}

func TestAuthRateLimit(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "auth")
	sasltest.Start(t, path)
	set := saslSettings(t, testSettings())
	set.Limits.AuthRate = 1
	ts := startServer(t, set, withDovecot(path), withAnvil(t))
	c := dial(t, ts.addr)
	c.reply()
	c.send("EHLO c\r\n")
	c.reply()
	c.expect("AUTH PLAIN "+b64("\x00alice\x00wrong"), "535 5.7.8 Error: authentication failed: (reason unavailable)")
	c.expect("AUTH PLAIN "+b64("\x00alice\x00secret"), "450 4.7.1 Error: too many AUTH commands from 127.0.0.1")
	ts.waitLog(t, "warning: AUTH command rate limit exceeded: 2 from localhost[127.0.0.1] for service smtp")
}

func TestConnectionCountLimitAndExemption(t *testing.T) {
	set := testSettings()
	set.Limits.ConnectionCount = 1
	ts := startServer(t, set, withAnvil(t))
	first := dial(t, ts.addr)
	first.expect("", "220 mx.test.example ESMTP Postern")
	second := dial(t, ts.addr)
	second.expect("", "421 4.7.0 mx.test.example Error: too many connections from 127.0.0.1")
	second.expectClosed()
	ts.waitLog(t, "warning: Connection concurrency limit exceeded: 2 from localhost[127.0.0.1] for service smtp")

	// A client in smtpd_client_event_limit_exceptions is not counted.
	exempt := testSettings()
	exempt.Limits.ConnectionCount = 1
	var err error
	if exempt.Limits.exempt, err = match.NewNetworkList("smtpd_client_event_limit_exceptions", []string{"127.0.0.0/8"}, match.Options{}); err != nil {
		t.Fatal(err)
	}
	ts = startServer(t, exempt, withAnvil(t))
	for i := 0; i < 3; i++ {
		dial(t, ts.addr).expect("", "220 mx.test.example ESMTP Postern")
	}
}
