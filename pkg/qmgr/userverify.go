// sendmail -bv: messages with the user-verify trace flag are routed and
// handed to the delivery agents in verify mode like probes, but each
// recipient's outcome goes to the trace log, and the sender gets one
// "Mail Delivery Status Report" (verify_template) when all are known.

package qmgr

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// verifyReport is the notice about a sendmail -bv request.
var verifyReport = noticeKind{dsn.ClassVerify, 0, "delivery status notification"}

// isUserVerify reports whether m is a sendmail -bv request.
func isUserVerify(m *queue.Message) bool {
	v, _ := m.Attr(queue.AttrTraceFlags)
	n, err := strconv.Atoi(v)
	return err == nil && n&queue.TraceFlagUserVerify != 0
}

// recordUserVerify writes a recipient's verdict to the trace log:
// deliverable when the agent would deliver, else undeliverable (also
// for a temporary failure: the request is not retried).
func (a *attempt) recordUserVerify(o outcome) {
	q, m := a.q, a.msg
	a.mu.Lock()
	defer a.mu.Unlock()
	a.outcomes = append(a.outcomes, o)
	action := "undeliverable"
	if o.status == ipc.StatusSent {
		action = "deliverable"
	}
	entry := queue.StatusEntry{Recipient: o.rcpt.Address, Offset: o.rcpt.Offset, Status: o.dsnCode, Action: action, Reason: o.reason}
	if strings.Contains(o.relay, "[") {
		entry.Reason = "delivery via " + o.relay + ": " + o.reason
	}
	if err := q.Layout.AppendStatus(queue.Trace, m.ID, entry); err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
	}
	if err := a.markDone(o.rcpt.Offset); err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
	}
}

// finishUserVerify mails the report to the sender and removes the
// request. A report that cannot be sent now is tried again later.
func (a *attempt) finishUserVerify(ctx context.Context) {
	q, m := a.q, a.msg
	entries, err := q.Layout.ReadStatus(queue.Trace, m.ID)
	if err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
	}
	if len(entries) > 0 && m.Sender != "" {
		if err := a.sendNotice(ctx, verifyReport, entries, false, m.Sender, false); err != nil {
			q.Log.Warning("%s: %v", m.ID, err)
			next := q.now().Add(q.Settings.MinimalBackoff)
			if err := q.Layout.SetNextAttempt(queue.Active, m.ID, next); err != nil {
				q.Log.Warning("%v", err)
			}
			if err := q.Layout.Shift(m.ID, queue.Active, queue.Deferred); err != nil {
				q.Log.Warning("%v", err)
			}
			return
		}
	}
	if err := queue.RemoveFile(q.Layout.Path(queue.Trace, m.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
		q.Log.Warning("%s: remove %s: %v", m.ID, q.Layout.RelPath(queue.Trace, m.ID), err)
	}
	if err := q.Layout.Remove(queue.Active, m.ID); err != nil {
		q.Log.Warning("%v", err)
		return
	}
	q.Log.Info("%s: removed", m.ID)
}

// settleOrder orders rcpts as Postfix's smtp(8) settles them, for the
// report: Postfix's qmgr sorts a message's recipients by domain and
// address; a probe's verdicts all come at the RCPT replies, in that
// order; in a delivery the refused recipients come at their RCPT
// replies, before those accepted, which are settled at the end of DATA.
func settleOrder(rcpts []queue.Recipient, results map[int64]ipc.RecipientResult, probe bool) []queue.Recipient {
	sorted := slices.Clone(rcpts)
	slices.SortStableFunc(sorted, func(a, b queue.Recipient) int {
		_, da, _ := strings.Cut(a.Address, "@")
		_, db, _ := strings.Cut(b.Address, "@")
		if c := strings.Compare(strings.ToLower(da), strings.ToLower(db)); c != 0 {
			return c
		}
		return strings.Compare(a.Address, b.Address)
	})
	if probe {
		return sorted
	}
	out := make([]queue.Recipient, 0, len(rcpts))
	for _, sent := range []bool{false, true} {
		for _, r := range sorted {
			if (results[r.Offset].Status == ipc.StatusSent) == sent {
				out = append(out, r)
			}
		}
	}
	return out
}

// isRecord reports whether m is a sendmail -v request.
func isRecord(m *queue.Message) bool {
	v, _ := m.Attr(queue.AttrTraceFlags)
	n, err := strconv.Atoi(v)
	return err == nil && n&queue.TraceFlagRecord != 0
}

// trace appends an outcome to the trace log: for a success notice
// (NOTIFY=SUCCESS) or, with sendmail -v, every outcome of the first
// attempt (failed, delayed, delivered or relayed). A remote server's
// reply is shown as Postfix's smtp(8) does: "delivery via HOST: REPLY".
// The caller holds a.mu.
func (a *attempt) trace(o outcome, entry queue.StatusEntry) {
	a.wroteLogs = true
	q, m := a.q, a.msg
	switch o.status {
	case ipc.StatusBounced:
		entry.Action = "failed"
	case ipc.StatusDeferred:
		entry.Action = "delayed"
	default:
		entry.Action = o.action
		if entry.Action == "" {
			entry.Action = "delivered"
		}
	}
	if strings.Contains(o.relay, "[") {
		entry.Reason = "delivery via " + o.relay + ": " + o.reason
	}
	if err := q.Layout.AppendStatus(queue.Trace, m.ID, entry); err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
	}
}
