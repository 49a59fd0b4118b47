// Finishing an attempt: expiry, the non-delivery notification, then removal or deferral.

package qmgr

import (
	"context"
	"errors"
	"os"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// finish decides the message's fate once every pending recipient has an
// outcome: recipients still deferred past the lifetime are bounced; the
// bounce log, if any, goes back to the sender; the file is then removed,
// or moved to the deferred queue with its next attempt time.
func (a *attempt) finish(ctx context.Context) {
	a.closeFile()
	switch {
	case a.probe:
		a.finishProbe()
		return
	case a.userVerify:
		a.finishUserVerify(ctx)
		return
	}
	q, m := a.q, a.msg
	now := q.now()
	var deferred []outcome
	for _, o := range a.outcomes {
		if o.status == ipc.StatusDeferred {
			deferred = append(deferred, o)
		}
	}
	if len(deferred) > 0 && Expired(m.ArrivalTime, now, q.Settings.lifetime(m.Sender)) {
		q.Log.Info("%s: from=<%s>, status=expired, returned to sender", m.ID, m.Sender)
		for _, o := range deferred {
			o.status = ipc.StatusBounced
			a.record(o)
		}
		deferred = nil
	}
	var bounced []queue.StatusEntry
	if !a.noLogs() {
		var err error
		if bounced, err = q.Layout.ReadStatus(queue.Bounce, m.ID); err != nil {
			q.Log.Warning("%s: %v", m.ID, err)
		}
	}
	retry := len(deferred) > 0
	if len(bounced) > 0 {
		if err := a.returnToSender(ctx, bounced); err != nil {
			q.Log.Warning("%s: %v", m.ID, err)
			retry = true // the bounce log stays; the next attempt sends it
		} else if err := queue.RemoveFile(q.Layout.Path(queue.Bounce, m.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			q.Log.Warning("%s: remove %s: %v", m.ID, q.Layout.RelPath(queue.Bounce, m.ID), err)
		}
	}
	if len(deferred) > 0 {
		a.warnDelayed(ctx, now)
	}
	if (!retry || a.recordAll) && !a.noLogs() {
		// sendmail -v reports the first attempt, also when it deferred
		a.reportSuccess(ctx)
	}
	if !retry {
		// Every agent is done with the file: it may hold the next message.
		retire := q.Layout.Retire
		if a.noLogs() {
			retire = q.Layout.RetireFile
		}
		if err := retire(queue.Active, m.ID); err != nil {
			q.Log.Warning("%v", err)
			return
		}
		q.Log.Info("%s: removed", m.ID)
		return
	}
	// The retry time goes on before the move (rename keeps it): a file
	// that reached deferred/ with its old time would be due at once, and a
	// concurrent deferred scan could take it back to active/.
	next := now.Add(Backoff(m.ArrivalTime, now, q.Settings.MinimalBackoff, q.Settings.MaximalBackoff))
	if err := q.Layout.SetNextAttempt(queue.Active, m.ID, next); err != nil {
		q.Log.Warning("%v", err)
	}
	if err := q.Layout.Shift(m.ID, queue.Active, queue.Deferred); err != nil {
		q.Log.Warning("%v", err)
	}
}
