// Working on one message of the active queue: resolve, deliver, record, then finish it.

package qmgr

import (
	"context"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/pkg/agent"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// outcome is what became of one recipient in this attempt.
type outcome struct {
	rcpt    queue.Recipient
	status  ipc.DeliveryStatus
	dsnCode string
	reason  string
	// action is the success notice's Action for a sent recipient
	// ("delivered", "relayed"); empty when no notice is due (NOTIFY
	// left out SUCCESS or the next hop took it over).
	action string
	// relay is the agent's relay= field.
	relay string
}

// attempt is one pass over a message: the loaded file and the outcomes
// recorded so far.
type attempt struct {
	q      *Manager
	msg    *queue.Message
	active time.Time
	// flushing: a flush lifted defer_transports for this attempt.
	flushing bool
	// probe: the message is an address verification probe.
	probe bool
	// userVerify: the message is a sendmail -bv request.
	userVerify bool
	// recordAll: sendmail -v, first attempt: every outcome goes to the
	// trace log for the sender's report.
	recordAll bool
	// fresh: the message came from incoming/, so it has had no attempt
	// and no defer, bounce or trace log; wroteLogs: this attempt wrote
	// one. While both hold, the logs are not looked for (a lookup of a
	// missing log is a system call for nothing, several per message).
	fresh, wroteLogs bool

	// probeCounted: the attempt counts in q.probes until it ends.
	probeCounted bool

	mu       sync.Mutex // outcomes, jobs and the queue file's records
	outcomes []outcome
	// jobs counts the agent jobs not yet over.
	jobs int
	// file is the queue file, open from the load until the outcomes are
	// all in, unless a job had to wait for its destination when
	// maxFilesKept waiting messages kept theirs; nil after.
	file *queue.DoneMarker
	// fileKept: the file counts in q.filesKept until it is closed.
	fileKept bool
}

// maxFilesKept is how many messages that wait for a destination keep
// their queue file open; the others close it (markDone then opens it
// for each mark), so that a long backlog holds no descriptor per
// message.
const maxFilesKept = 256

// markDone marks the recipient record at offset done, in the open file
// while there is one.
func (a *attempt) markDone(offset int64) error {
	if a.file != nil {
		return a.file.MarkDone(offset)
	}
	return queue.MarkDone(a.msg.Path, offset)
}

// closeFile closes the queue file once the deliveries are over
// (finishing renames or retires it), or while a job waits for its
// destination (markDone then opens it for each mark).
func (a *attempt) closeFile() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.file == nil {
		return
	}
	if err := a.file.Close(); err != nil {
		a.q.Log.Warning("%s: %v", a.msg.ID, err)
	}
	a.file = nil
	if a.fileKept {
		a.fileKept = false
		a.q.filesKept.Add(-1)
	}
}

// keepFileWhileWaiting keeps the queue file of a message one of whose
// jobs waits for its destination open, unless maxFilesKept waiting
// messages keep theirs: then it closes it.
func (a *attempt) keepFileWhileWaiting() {
	a.mu.Lock()
	if a.file != nil && !a.fileKept {
		if a.q.filesKept.Add(1) <= maxFilesKept {
			a.fileKept = true
		} else {
			a.q.filesKept.Add(-1)
		}
	}
	keep := a.fileKept
	a.mu.Unlock()
	if !keep {
		a.closeFile()
	}
}

// process works on message id of the active queue, taken by start: it
// loads and routes the message, decides what the queue manager decides
// itself, and queues the other jobs at their destinations, delivering
// the first that gets a slot at once. The attempt is finished by its
// last job; when ctx ends before, the file stays in the active queue for
// the next start. flushing lifts defer_transports; fresh says the
// message came from incoming/.
func (q *Manager) process(ctx context.Context, id string, flushing, fresh bool) {
	loading := true
	loaded := func() { // start's token goes back
		if loading {
			loading = false
			<-q.loading
		}
	}
	defer loaded()
	msg, file, err := q.Layout.LoadForUpdate(queue.Active, id, func(s string) { q.Log.Warning("%s", s) })
	if err != nil {
		if !errors.Is(err, queue.ErrCorrupt) {
			q.Log.Warning("%v", err)
		}
		q.messageDone(id)
		return
	}
	keepUsedAttrs(msg)
	a := &attempt{q: q, msg: msg, file: file, active: q.now(), flushing: flushing, probe: isProbe(msg), userVerify: isUserVerify(msg), fresh: fresh}
	var previous map[int64]queue.StatusEntry
	if !fresh {
		previous = a.takeDeferLog()
	}
	// A deferred message has a defer log: only the first attempt is reported.
	a.recordAll = isRecord(msg) && len(previous) == 0
	pending := msg.Pending()
	q.loaded(id, len(pending))
	q.Log.Info("%s: from=<%s>, size=%d, nrcpt=%d (queue active)", id, msg.Sender, msg.Size.SegmentSize, len(pending))
	if msg.ForcedExpire && len(pending) > 0 {
		loaded()
		a.forceExpire(pending, previous)
		a.finish(ctx)
		a.end()
		return
	}

	if a.tooManyProbes() {
		loaded()
		a.decideAll(q.retryLog(), pending, ipc.StatusDeferred, "4.3.2", "Too many address verification requests")
		a.finish(ctx)
		a.end()
		return
	}
	routed := a.liveTransports(a.route(pending))
	var agentJobs []Job
	for _, job := range Group(routed, q.Settings.RecipientLimit) {
		if !a.deliverInHouse(job) {
			agentJobs = append(agentJobs, job)
		}
	}
	if len(agentJobs) == 0 {
		loaded()
		if ctx.Err() == nil {
			a.finish(ctx)
		}
		a.end()
		return
	}
	// Counted before the first is queued: the job that ends last
	// finishes the attempt.
	a.mu.Lock()
	a.jobs = len(agentJobs)
	a.mu.Unlock()
	var first *delivery
	waits := false
	for _, job := range agentJobs {
		d := &delivery{a: a, job: job}
		switch {
		case !q.enqueue(d):
			waits = true
		case first == nil:
			first = d
		default:
			q.hand(ctx, task{delivery: d})
		}
	}
	if waits {
		a.keepFileWhileWaiting()
	}
	loaded()
	if first != nil {
		// The common case needs no goroutine of its own.
		q.runDeliveries(ctx, first)
	}
}

// usedAttrs are the named attributes the queue manager reads; a loaded
// message keeps only these (see keepUsedAttrs). Add a name here before
// reading it with Message.Attr.
var usedAttrs = []string{
	queue.AttrContentReject, queue.AttrRedirect, queue.AttrContentFilter,
	queue.AttrDSNEnvID, queue.AttrDSNRet, queue.AttrEncoding, queue.AttrTraceFlags,
}

// keepUsedAttrs drops the attributes the queue manager does not read
// (the client's name, address and port, HELO, protocol, ...), so that a
// message waiting in the active queue does not hold them.
func keepUsedAttrs(m *queue.Message) {
	n := 0
	for _, a := range m.Attrs {
		if slices.Contains(usedAttrs, a.Name) {
			n++
		}
	}
	if n == len(m.Attrs) {
		return
	}
	var kept []queue.Attr
	if n > 0 {
		kept = make([]queue.Attr, 0, n)
		for _, a := range m.Attrs {
			if slices.Contains(usedAttrs, a.Name) {
				kept = append(kept, a)
			}
		}
	}
	m.Attrs = kept
}

// route chooses each pending recipient's transport and next hop. A
// local submission that header or body checks rejected is bounced. A
// REDIRECT from the header or body checks replaces all recipients by one
// (the others are done); a content filter overrides the resolver, as in
// Postfix's queue manager.
func (a *attempt) route(pending []queue.Recipient) []Routed {
	q, msg := a.q, a.msg
	if reason, ok := msg.Attr(queue.AttrContentReject); ok {
		dsn, text, _ := strings.Cut(reason, " ")
		for _, r := range pending {
			a.decide(r, ipc.StatusBounced, dsn, text)
		}
		return nil
	}
	redirect, _ := msg.Attr(queue.AttrRedirect)
	filter, _ := msg.Attr(queue.AttrContentFilter)
	if a.probe || a.userVerify {
		filter = "" // probes bypass content filters, as in Postfix
	}
	var routed []Routed
	for i, r := range pending {
		switch {
		case redirect != "" && i > 0:
			if err := a.markDone(r.Offset); err != nil {
				q.Log.Warning("%s: %v", msg.ID, err)
			}
			continue
		case redirect != "":
			if r.Original == "" {
				r.Original = r.Address
			}
			r.Address = redirect
		case filter != "":
			transport, nexthop, _ := strings.Cut(filter, ":")
			if nexthop == "" {
				nexthop = q.Settings.DefaultFilterNexthop
			}
			if nexthop == "" {
				if at := strings.LastIndexByte(r.Address, '@'); at >= 0 && at < len(r.Address)-1 {
					nexthop = r.Address[at+1:]
				} else {
					nexthop = q.Settings.MyHostname
				}
			}
			if !a.flushing && q.Settings.deferredTransport(transport) {
				a.decideAs(q.retryLog(), r, ipc.StatusDeferred, "4.3.2", "deferred transport")
				continue
			}
			routed = append(routed, Routed{Recipient: r, Transport: transport, Nexthop: nexthop})
			continue
		}
		res, err := a.resolver().ResolveFrom(msg.Sender, r.Address)
		if err != nil {
			q.Log.Warning("%s: resolve %s: %v", msg.ID, r.Address, err)
			a.decideAs(q.retryLog(), r, ipc.StatusDeferred, "4.3.0", "address resolver failure")
			continue
		}
		for _, w := range res.Warnings {
			q.logFor(q.RewriteLog).Warning("%s", w)
		}
		if redirect != "" && res.Recipient != "" {
			r.Address = res.Recipient
		}
		if !a.flushing && q.Settings.deferredTransport(res.Transport) {
			a.decideAs(q.retryLog(), r, ipc.StatusDeferred, "4.3.2", "deferred transport")
			continue
		}
		routed = append(routed, Routed{Recipient: r, Transport: res.Transport, Nexthop: res.Nexthop})
	}
	return routed
}

// dsnRet returns the message's RET= parameter.
func (a *attempt) dsnRet() ipc.DSNRet {
	v, _ := a.msg.Attr(queue.AttrDSNRet)
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return ipc.DSNRet(n)
}

// record applies an outcome to the queue file: a sent recipient is marked
// done; a bounced one gets a bounce log entry and is marked done; a
// deferred one gets a defer log entry.
func (a *attempt) record(o outcome) {
	switch {
	case a.probe:
		a.recordProbe(o)
		return
	case a.userVerify:
		a.recordUserVerify(o)
		return
	}
	q, m := a.q, a.msg
	a.mu.Lock()
	defer a.mu.Unlock()
	a.outcomes = append(a.outcomes, o)
	entry := queue.StatusEntry{Recipient: o.rcpt.Address, Offset: o.rcpt.Offset, Status: o.dsnCode, Reason: o.reason}
	if a.recordAll || (o.status == ipc.StatusSent && o.action != "") {
		a.trace(o, entry)
	}
	switch o.status {
	case ipc.StatusBounced:
		entry.Action = "failed"
		a.wroteLogs = true
		if err := q.Layout.AppendStatus(queue.Bounce, m.ID, entry); err != nil {
			q.Log.Warning("%s: %v", m.ID, err)
			return
		}
	case ipc.StatusDeferred:
		entry.Action = "delayed"
		a.wroteLogs = true
		if err := q.Layout.AppendStatus(queue.Defer, m.ID, entry); err != nil {
			q.Log.Warning("%s: %v", m.ID, err)
		}
		return
	}
	if err := a.markDone(o.rcpt.Offset); err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
	}
}

// decide records an outcome the queue manager reached itself, and logs it
// as a delivery agent would.
func (a *attempt) decide(r queue.Recipient, status ipc.DeliveryStatus, dsnCode, reason string) {
	a.decideAs(nil, r, status, dsnCode, reason)
}

// decideAs is decide logging to log (nil: the queue manager's log), for
// the outcomes that Postfix's error(8) or discard(8) logs.
func (a *attempt) decideAs(log Logger, r queue.Recipient, status ipc.DeliveryStatus, dsnCode, reason string) {
	name := status.String()
	if a.probe || a.userVerify {
		name = agent.VerifyStatus(status, a.probe && a.q.negativeNotCached())
	}
	a.q.logFor(log).Info("%s: %s", a.msg.ID, deliveryLine(r.Address, r.Original, a.msg.ArrivalTime, a.active, a.q.now(), dsnCode, name, reason))
	a.record(outcome{rcpt: r, status: status, dsnCode: dsnCode, reason: reason})
}

// noLogs reports whether the message has no status logs: it came from
// incoming/ and this attempt wrote none. Called once the outcomes are in.
func (a *attempt) noLogs() bool { return a.fresh && !a.wroteLogs }

// takeDeferLog reads and removes the defer log of the previous attempt:
// this attempt writes it anew.
func (a *attempt) takeDeferLog() map[int64]queue.StatusEntry {
	q, id := a.q, a.msg.ID
	entries, err := q.Layout.ReadStatus(queue.Defer, id)
	if err != nil {
		q.Log.Warning("%s: %v", id, err)
	}
	if err := queue.RemoveFile(q.Layout.Path(queue.Defer, id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		q.Log.Warning("%s: remove %s: %v", id, q.Layout.RelPath(queue.Defer, id), err)
	}
	byOffset := make(map[int64]queue.StatusEntry, len(entries))
	for _, e := range entries {
		byOffset[e.Offset] = e
	}
	return byOffset
}

// forceExpire returns every pending recipient of a message postsuper -e
// or -f expired, without a delivery attempt, with the reason of its last
// deferral ("message is administratively expired" when it had none).
func (a *attempt) forceExpire(pending []queue.Recipient, previous map[int64]queue.StatusEntry) {
	m := a.msg
	a.q.Log.Info("%s: from=<%s>, status=force-expired, returned to sender", m.ID, m.Sender)
	for _, r := range pending {
		o := outcome{rcpt: r, status: ipc.StatusBounced, dsnCode: "4.7.0", reason: "message is administratively expired"}
		if e, ok := previous[r.Offset]; ok {
			o.dsnCode, o.reason = e.Status, e.Reason
		}
		a.record(o)
	}
}
