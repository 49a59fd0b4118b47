// The delivery agent side of the qmgr protocol: one request in, one
// result per recipient out, each logged.
package smtpclient

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
)

// Agent serves delivery requests from qmgr.
type Agent struct {
	Client *Client
	// Layout finds queue files; its Root is the queue directory.
	Layout *queue.Layout
	Log    *maillog.Logger
}

// Serve handles one qmgr connection until qmgr closes it.
func (a *Agent) Serve(ctx context.Context, nc net.Conn) {
	conn, err := ipc.Greet(ctx, nc, ipc.ProtocolDelivery)
	if err != nil {
		a.Log.Warning("%s: %v", nc.RemoteAddr(), err)
		return
	}
	for {
		m, err := conn.Receive(ctx)
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				a.Log.Warning("delivery request: %v", err)
			}
			return
		}
		req, ok := m.(*ipc.DeliveryRequest)
		if !ok {
			a.Log.Warning("%s: unexpected %v instead of a delivery request", conn.Peer(), m.Type())
			return
		}
		if !queue.ValidID(req.QueueID) || !slices.Contains(queue.MessageQueues, req.Queue) {
			a.Log.Warning("%s: bad delivery request: queue %q, queue ID %q", conn.Peer(), req.Queue, req.QueueID)
			return
		}
		result := a.Deliver(ctx, req)
		if err := conn.Send(ctx, result); err != nil {
			a.Log.Warning("%s: send delivery result: %v", req.QueueID, err)
			return
		}
	}
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
		Recipients: req.Recipients,
		Open: func() (io.ReadCloser, error) {
			return queue.OpenContent(path, req.DataOffset)
		},
	}
	results := a.Client.Deliver(ctx, req.Nexthop, msg, started)
	done := time.Now()
	delays := Delays{Arrival: req.ArrivalTime, Active: req.ActiveTime, Started: started, Done: done}
	if delays.Active.IsZero() {
		delays.Active = started
	}
	if delays.Arrival.IsZero() {
		delays.Arrival = delays.Active
	}
	line := DeliveryLine
	if msg.VerifyOnly {
		line = VerifyLine
	}
	for i, r := range results {
		a.Log.Info("%s", line(req.QueueID, req.Recipients[i], r, delays))
	}
	return &ipc.DeliveryResult{Recipients: results}
}
