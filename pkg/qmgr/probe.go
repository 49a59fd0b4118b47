// Address verification probes: messages with the verify flag are routed
// with the address_verify_* overrides, delivered in verify mode, and
// their outcomes go to the verify service instead of the queue file's
// bounce and defer logs; the message is then removed, never deferred or
// returned.

package qmgr

import (
	"context"
	"strconv"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/verify"
)

// verifyUpdateTimeout bounds one report to the verify service.
const verifyUpdateTimeout = time.Minute

// isProbe reports whether m is an address verification probe.
func isProbe(m *queue.Message) bool {
	v, _ := m.Attr(queue.AttrTraceFlags)
	n, err := strconv.Atoi(v)
	return err == nil && n&queue.TraceFlagVerify != 0
}

// negativeNotCached reports address_verify_negative_cache = no.
func (q *Manager) negativeNotCached() bool {
	return q.Verify != nil && q.Verify.NoNegativeCache
}

// tooManyProbes counts a probe in (until the attempt ends) and reports
// whether it is beyond address_verify_pending_request_limit: its
// recipients are then deferred at once, "Too many address verification
// requests", as Postfix's qmgr hands them to its retry service.
func (a *attempt) tooManyProbes() bool {
	if !a.probe {
		return false
	}
	q := a.q
	n := q.probes.Add(1)
	a.probeCounted = true
	return q.Settings.PendingProbeLimit > 0 && n > int64(q.Settings.PendingProbeLimit)
}

// resolver is the resolver for this attempt's message: probes have their
// own (address_verify_transport_maps, address_verify_relayhost, ...).
func (a *attempt) resolver() Resolver {
	if a.probe && a.q.ProbeResolver != nil {
		return a.q.ProbeResolver
	}
	return a.q.Resolver
}

// probeStatus is how a probe's outcome is logged and cached.
func probeStatus(s ipc.DeliveryStatus) verify.Status {
	switch s {
	case ipc.StatusSent:
		return verify.StatusOK
	case ipc.StatusBounced:
		return verify.StatusBounce
	}
	return verify.StatusDefer
}

// recordProbe reports a probe's outcome for one recipient to the verify
// service and marks the recipient done.
func (a *attempt) recordProbe(o outcome) {
	q, m := a.q, a.msg
	if q.Verify != nil {
		ctx, cancel := context.WithTimeout(context.Background(), verifyUpdateTimeout)
		defer cancel()
		addrs := []string{o.rcpt.Address}
		if o.rcpt.Original != "" {
			addrs = []string{o.rcpt.Original, o.rcpt.Address}
		}
		if _, err := q.Verify.Report(ctx, addrs, probeStatus(o.status), o.reason); err != nil {
			q.Log.Warning("%s: verify service failure: %v", m.ID, err)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.markDone(o.rcpt.Offset); err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
	}
}

// finishProbe removes a probe once its recipients are reported.
func (a *attempt) finishProbe() {
	q, m := a.q, a.msg
	if err := q.Layout.Remove(queue.Active, m.ID); err != nil {
		q.Log.Warning("%v", err)
		return
	}
	q.Log.Info("%s: removed", m.ID)
}
