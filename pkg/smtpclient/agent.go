// The delivery agent side of the qmgr protocol: one request in, one
// result per recipient out, each logged.

package smtpclient

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/postern/postern/pkg/agent"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
)

// Agent serves delivery requests from qmgr.
type Agent struct {
	// Watchdog is daemon_timeout: a delivery request that takes longer
	// ends the process, as Postfix's watchdog does. 0: no limit.
	Watchdog time.Duration
	Client   *Client
	// Layout finds queue files; its Root is the queue directory.
	Layout *queue.Layout
	Log    *maillog.Logger
}

// Serve handles one qmgr connection until qmgr closes it.
func (a *Agent) Serve(ctx context.Context, nc net.Conn) {
	agent.Serve(ctx, nc, a.Log, a.Watchdog, a.Deliver)
}

// Deliver carries out one request and logs each recipient's outcome.
func (a *Agent) Deliver(ctx context.Context, req *ipc.DeliveryRequest) *ipc.DeliveryResult {
	started := time.Now()
	path := a.Layout.Path(req.Queue, req.QueueID)
	msg := &Message{
		QueueID:    req.QueueID,
		Sender:     req.Sender,
		Size:       req.DataSize,
		BodyType:   req.BodyType,
		SMTPUTF8:   req.SMTPUTF8,
		DSNEnvID:   req.DSNEnvID,
		DSNRet:     req.DSNRet,
		VerifyOnly: req.Flags&ipc.DeliveryFlagVerify != 0,
		CacheLoad:  req.Flags&ipc.DeliveryFlagConnLoad != 0,
		CacheStore: req.Flags&ipc.DeliveryFlagConnStore != 0,
		Recipients: req.Recipients,
		Open: func() (io.ReadCloser, error) {
			return queue.OpenContent(path, req.DataOffset)
		},
	}
	if a.Client.cfg.SendXForward {
		msg.XForward = a.xforward(req)
	}
	results := a.Client.Deliver(ctx, req.Nexthop, msg, started)
	delays := agent.RequestDelays(req, started, time.Now())
	line := agent.LineFor(req.Flags)
	for i, r := range results {
		a.Log.Info("%s", line(req.QueueID, req.Recipients[i], r, delays))
	}
	return &ipc.DeliveryResult{Recipients: results}
}

// xforward reads the original client from the queue file; nil when it
// cannot be read (the delivery goes on without XFORWARD).
func (a *Agent) xforward(req *ipc.DeliveryRequest) *XForward {
	m, err := a.Layout.Load(req.Queue, req.QueueID, nil)
	if err != nil {
		a.Log.Warning("%s: %v", req.QueueID, err)
		return nil
	}
	attr := func(name string) string { v, _ := m.Attr(name); return v }
	return &XForward{Name: attr(queue.AttrClientName), Addr: attr(queue.AttrClientAddr), Port: attr("client_port"),
		Proto: attr(queue.AttrProtocol), Helo: attr(queue.AttrHelo), Ident: req.QueueID,
		Local: attr("rewrite_context") == "local"}
}
