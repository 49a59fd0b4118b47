// Package agent is the delivery-agent side of qmgr's delivery protocol:
// the request loop every delivery agent runs, and the per-recipient log
// line they write.
package agent

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

// Serve answers delivery requests on one connection from qmgr until it
// closes: each request, once its queue name and queue ID are checked (they
// name a file, so nothing may escape the queue directory), goes to deliver
// and its result back to qmgr. Problems are logged as warnings and end the
// connection. A request that takes longer than watchdog (daemon_timeout)
// ends the process.
func Serve(ctx context.Context, nc net.Conn, log *maillog.Logger, watchdog time.Duration, deliver func(context.Context, *ipc.DeliveryRequest) *ipc.DeliveryResult) {
	conn, err := ipc.Greet(ctx, nc, ipc.ProtocolDelivery)
	if err != nil {
		log.Warning("%s: %v", nc.RemoteAddr(), err)
		return
	}
	for {
		m, err := conn.Receive(ctx)
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				log.Warning("delivery request: %v", err)
			}
			return
		}
		req, ok := m.(*ipc.DeliveryRequest)
		if !ok {
			log.Warning("%s: unexpected %v instead of a delivery request", conn.Peer(), m.Type())
			return
		}
		if !queue.ValidID(req.QueueID) || !slices.Contains(queue.MessageQueues, req.Queue) {
			log.Warning("%s: bad delivery request: queue %q, queue ID %q", conn.Peer(), req.Queue, req.QueueID)
			return
		}
		disarm := armWatchdog(watchdog, log)
		result := deliver(ctx, req)
		disarm()
		if err := conn.Send(ctx, result); err != nil {
			log.Warning("%s: send delivery result: %v", req.QueueID, err)
			return
		}
	}
}
