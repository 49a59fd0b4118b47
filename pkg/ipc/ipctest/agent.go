// A stand-in delivery agent that answers as the test tells it, and the
// client side of one delivery.

package ipctest

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"

	"github.com/postern/postern/pkg/ipc"
)

// Answer decides a stand-in agent's result for a request; nil makes the
// agent hang up without one.
type Answer func(req *ipc.DeliveryRequest) *ipc.DeliveryResult

// Agent is a delivery agent that answers every request on a connection
// with its Answer and keeps the requests.
type Agent struct {
	// Path is the socket's path.
	Path string

	answer  Answer
	mu      sync.Mutex
	reqs    []ipc.DeliveryRequest
	conns   int
	perConn int
}

// CloseAfter makes the agent close each connection after n requests, as
// an agent at max_use does; 0 (the default) keeps them open.
func (a *Agent) CloseAfter(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.perConn = n
}

// Connections returns how many connections the agent has had.
func (a *Agent) Connections() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.conns
}

// StartAgent serves a stand-in agent on the socket path until the test
// ends.
func StartAgent(t testing.TB, path string, answer Answer) *Agent {
	t.Helper()
	a := &Agent{Path: path, answer: answer}
	Listen(t, path, a.serve)
	return a
}

func (a *Agent) serve(ctx context.Context, nc net.Conn) {
	a.mu.Lock()
	a.conns++
	limit := a.perConn
	a.mu.Unlock()
	conn, err := ipc.Greet(ctx, nc, ipc.ProtocolDelivery)
	if err != nil {
		return
	}
	for served := 0; limit == 0 || served < limit; served++ {
		var req ipc.DeliveryRequest
		if err := conn.Expect(ctx, &req); err != nil {
			return
		}
		a.mu.Lock()
		a.reqs = append(a.reqs, req)
		a.mu.Unlock()
		res := a.answer(&req)
		if res == nil {
			return
		}
		if err := conn.Send(ctx, res); err != nil {
			return
		}
	}
}

// Requests returns the requests so far.
func (a *Agent) Requests() []ipc.DeliveryRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]ipc.DeliveryRequest(nil), a.reqs...)
}

// Deliver sends req on conn, a connection to a delivery agent, and returns
// the agent's result.
func Deliver(ctx context.Context, conn *ipc.Conn, req *ipc.DeliveryRequest) (*ipc.DeliveryResult, error) {
	if err := conn.Send(ctx, req); err != nil {
		return nil, err
	}
	var res ipc.DeliveryResult
	if err := conn.Expect(ctx, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// ServeOne serves one delivery-protocol connection with serve, a delivery
// agent's Serve, on a fresh socket and returns the client side; served
// is closed once serve has returned (after conn is closed).
func ServeOne(ctx context.Context, t testing.TB, serve func(context.Context, net.Conn)) (conn *ipc.Conn, served <-chan struct{}) {
	t.Helper()
	sock := filepath.Join(SocketDir(t), "agent")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		serve(ctx, nc)
	}()
	conn, err = ipc.Dial(ctx, sock, ipc.ProtocolDelivery)
	if err != nil {
		t.Fatal(err)
	}
	return conn, done
}
