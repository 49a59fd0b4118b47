package qmgr

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
)

// TestAgentPoolGivesWayToADial: while a request connects to an agent's
// socket, the pool closes its idle connections to it and those that come
// back (an agent at maxproc 1 serves one connection at a time); once no
// request connects, a returned connection is kept again.
func TestAgentPoolGivesWayToADial(t *testing.T) {
	socket := filepath.Join(ipctest.SocketDir(t), "smtp")
	ipctest.StartAgent(t, socket, func(*ipc.DeliveryRequest) *ipc.DeliveryResult { return &ipc.DeliveryResult{} })
	dial := func() *ipc.Conn {
		t.Helper()
		c, err := ipc.Dial(context.Background(), socket, ipc.ProtocolDelivery)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closed := func(c *ipc.Conn) bool {
		return errors.Is(c.Send(context.Background(), &ipc.DeliveryRequest{}), net.ErrClosed)
	}
	var p agentPool
	now := time.Now()

	idle := dial()
	p.put(socket, idle, now)
	p.dialStart(socket)
	if !closed(idle) || p.get(socket) != nil {
		t.Error("an idle connection was kept while a request connects")
	}
	back := dial()
	p.put(socket, back, now)
	if !closed(back) || p.get(socket) != nil {
		t.Error("a connection that came back was kept while a request connects")
	}
	p.dialEnd(socket)

	kept := dial()
	p.put(socket, kept, now)
	if got := p.get(socket); got != kept || closed(kept) {
		t.Error("a connection that came back with no request connecting was not kept")
	}
}
