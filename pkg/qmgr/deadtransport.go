// Dead transports: when qmgr cannot reach a transport's delivery agent,
// it defers that transport's recipients without trying for
// transport_retry_time, as Postfix's queue manager does.

package qmgr

import (
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// deadTransport is why and until when a transport is not tried.
type deadTransport struct {
	until   time.Time
	dsnCode string
	reason  string
}

// throttleTransport marks transport dead for transport_retry_time, unless
// it is dead already.
func (q *Manager) throttleTransport(transport, dsnCode, reason string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if d, ok := q.deadTransports[transport]; ok && q.now().Before(d.until) {
		return
	}
	if q.deadTransports == nil {
		q.deadTransports = map[string]deadTransport{}
	}
	q.deadTransports[transport] = deadTransport{until: q.now().Add(q.Settings.TransportRetryTime), dsnCode: dsnCode, reason: reason}
}

// unthrottleTransport brings transport back: its agent worked, or a
// flush asks for a new attempt.
func (q *Manager) unthrottleTransport(transport string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.deadTransports, transport)
}

// transportDead reports whether transport is dead now, and why.
func (q *Manager) transportDead(transport string) (deadTransport, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	d, ok := q.deadTransports[transport]
	if ok && !q.now().Before(d.until) {
		delete(q.deadTransports, transport)
		return deadTransport{}, false
	}
	return d, ok
}

// liveTransports defers the recipients whose transport is dead, as
// Postfix hands them to its retry service (logged by error(8)), and
// returns the others. A
// flush brings dead transports back instead.
func (a *attempt) liveTransports(routed []Routed) []Routed {
	live := routed[:0]
	for _, r := range routed {
		if a.flushing {
			a.q.unthrottleTransport(r.Transport)
		} else if d, dead := a.q.transportDead(r.Transport); dead {
			a.decideAs(a.q.retryLog(), r.Recipient, ipc.StatusDeferred, d.dsnCode, d.reason)
			continue
		}
		live = append(live, r)
	}
	return live
}
