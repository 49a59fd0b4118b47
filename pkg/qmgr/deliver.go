// Delivering a job: the error, retry and discard transports in-house, every other transport through its agent's socket.

package qmgr

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/resolve"
)

// Wording of deferrals the queue manager decides, as Postfix's.
const (
	reasonTransportUnavailable = "mail transport unavailable"
	reasonAgentNoResult        = "unknown mail transport error"
)

// deliverInHouse records the outcome of a job of the error, retry or
// discard transport, which the queue manager decides itself, and reports
// whether job was one.
func (a *attempt) deliverInHouse(job Job) bool {
	switch job.Transport {
	case "error":
		dsnCode, text := resolve.ParseErrorNexthop(job.Nexthop, "5.0.0")
		a.decideAll(a.q.ErrorLog, job.Recipients, ipc.StatusBounced, dsnCode, text)
	case "retry":
		dsnCode, text := resolve.ParseErrorNexthop(job.Nexthop, "4.0.0")
		a.decideAll(a.q.retryLog(), job.Recipients, ipc.StatusDeferred, dsnCode, text)
	case "discard":
		dsnCode, text := resolve.ParseErrorNexthop(job.Nexthop, "2.0.0")
		a.decideAll(a.q.DiscardLog, job.Recipients, ipc.StatusSent, dsnCode, text)
	default:
		return false
	}
	return true
}

// deliverHeld delivers a job through its agent, holding a slot of w, its
// destination's window, which it releases with the outcome's feedback,
// and records each recipient's outcome.
func (a *attempt) deliverHeld(ctx context.Context, job Job, w *Window) {
	if d, dead := a.q.transportDead(job.Transport); dead {
		// Found dead while the job waited: deferred without a
		// connection attempt, as Postfix defers a throttled
		// transport's queued jobs.
		w.Return()
		a.decideAll(a.q.retryLog(), job.Recipients, ipc.StatusDeferred, d.dsnCode, d.reason)
		return
	}
	results, connected, err := a.request(ctx, job, a.q.cachingFlags(w))
	a.q.deliveryDone(w)
	if ctx.Err() != nil {
		w.Release(true)
		return
	}
	if err != nil {
		a.q.Log.Warning("%v", err)
		w.Release(false)
		reason, log := reasonTransportUnavailable, a.q.retryLog()
		if connected {
			reason, log = reasonAgentNoResult, nil
		} else {
			// Postfix throttles the transport and hands its recipients
			// to the retry service, whose error(8) logs them.
			a.q.throttleTransport(job.Transport, "4.3.0", reason)
		}
		a.decideAll(log, job.Recipients, ipc.StatusDeferred, "4.3.0", reason)
		return
	}
	a.q.unthrottleTransport(job.Transport)
	byOffset := make(map[int64]ipc.RecipientResult, len(results))
	for _, rr := range results {
		byOffset[rr.Offset] = rr
	}
	accepted := false
	recipients := job.Recipients
	if a.userVerify || a.recordAll {
		// In the order an SMTP client settles them, as Postfix's
		// report lists them.
		recipients = settleOrder(recipients, byOffset, a.userVerify)
	}
	for _, r := range recipients {
		rr, ok := byOffset[r.Offset]
		if !ok {
			a.decide(r, ipc.StatusDeferred, "4.3.0", reasonAgentNoResult)
			continue
		}
		if rr.Status != ipc.StatusDeferred {
			accepted = true
		}
		a.record(outcome{rcpt: r, status: rr.Status, dsnCode: rr.DSNCode, reason: rr.Reply, action: a.successAction(r, rr), relay: rr.Relay})
	}
	w.Release(accepted)
}

// decideAll records the same in-house outcome for every recipient,
// logged to log (nil: the queue manager's log).
func (a *attempt) decideAll(log Logger, rcpts []queue.Recipient, status ipc.DeliveryStatus, dsnCode, reason string) {
	for _, r := range rcpts {
		a.decideAs(log, r, status, dsnCode, reason)
	}
}

// request sends one delivery request to the transport's agent and returns
// its per-recipient results; connected tells a failure after the agent
// answered the connection from one before. flags are added to the
// request's (connection caching). It uses a kept connection when
// there is one, and a new one when the agent has closed the kept one.
func (a *attempt) request(ctx context.Context, job Job, flags ipc.DeliveryFlags) (results []ipc.RecipientResult, connected bool, err error) {
	socket := a.q.agentSocket(job.Transport)
	req := a.deliveryRequest(job)
	req.Flags |= flags
	if conn := a.q.agents.get(socket); conn != nil {
		results, err := exchange(ctx, conn, req)
		if err == nil {
			a.q.agents.put(socket, conn, a.q.now())
			return results, true, nil
		}
		conn.Close()
		if ctx.Err() != nil || !peerHungUp(err) {
			return nil, true, err
		}
	}
	a.q.agents.dialStart(socket)
	conn, err := ipc.Dial(ctx, socket, ipc.ProtocolDelivery)
	a.q.agents.dialEnd(socket)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return nil, false, fmt.Errorf("connect to transport %s: %s", socket, capitalize(errno.Error()))
		}
		return nil, false, err
	}
	results, err = exchange(ctx, conn, req)
	if err != nil {
		conn.Close()
		return nil, true, err
	}
	a.q.agents.put(socket, conn, a.q.now())
	return results, true, nil
}

// exchange sends one request on conn and reads its result.
func exchange(ctx context.Context, conn *ipc.Conn, req *ipc.DeliveryRequest) ([]ipc.RecipientResult, error) {
	if err := conn.Send(ctx, req); err != nil {
		return nil, err
	}
	var res ipc.DeliveryResult
	if err := conn.Expect(ctx, &res); err != nil {
		return nil, err
	}
	return res.Recipients, nil
}

// deliveryRequest is the request for one job of this attempt.
func (a *attempt) deliveryRequest(job Job) *ipc.DeliveryRequest {
	m := a.msg
	envid, _ := m.Attr(queue.AttrDSNEnvID)
	req := &ipc.DeliveryRequest{
		Queue:       queue.Active,
		QueueID:     m.ID,
		DataOffset:  m.Size.DataOffset,
		DataSize:    m.Size.ContentLength,
		Sender:      m.Sender,
		Transport:   job.Transport,
		Nexthop:     job.Nexthop,
		ArrivalTime: m.ArrivalTime,
		ActiveTime:  a.active,
		DSNEnvID:    envid,
		DSNRet:      a.dsnRet(),
		SMTPUTF8:    m.Size.SMTPUTF8 != 0,
	}
	switch encoding, _ := m.Attr(queue.AttrEncoding); encoding {
	case queue.EncodingEightBit:
		req.BodyType = "8BITMIME"
	case queue.EncodingSevenBit:
		req.BodyType = "7BIT"
	}
	if a.probe || a.userVerify {
		req.Flags |= ipc.DeliveryFlagVerify
	}
	if a.probe && a.q.negativeNotCached() {
		req.Flags |= ipc.DeliveryFlagVerifyNotCached
	}
	for _, r := range job.Recipients {
		req.Recipients = append(req.Recipients, ipc.Recipient{
			Address: r.Address, OriginalRecipient: r.Original, Offset: r.Offset,
			Notify: ipc.DSNNotify(r.DSNNotify), ORCPT: r.DSNOrcpt,
		})
	}
	return req
}

// capitalize makes a Go system error read as the C library's strerror:
// "No such file or directory".
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
