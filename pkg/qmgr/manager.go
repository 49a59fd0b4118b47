// Package qmgr is the queue manager: it moves mail from the incoming and
// deferred queues into the active queue, resolves and groups recipients,
// hands them to the delivery agents under per-destination concurrency
// windows, records the outcomes in the queue file, and retries, expires
// and returns mail as Postfix's qmgr does.
package qmgr

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/resolve"
	"github.com/postern/postern/pkg/verify"
)

// Logger is where the queue manager logs (a *maillog.Logger).
type Logger interface {
	Info(format string, args ...any)
	Warning(format string, args ...any)
}

// Resolver gives a recipient's transport and next hop (a
// *resolve.Resolver); ResolveFrom applies the sender-dependent tables.
type Resolver interface {
	Resolve(address string) (resolve.Result, error)
	ResolveFrom(sender, address string) (resolve.Result, error)
}

// Manager is a running queue manager. Fill the exported fields, then call
// Run; Trigger may be called at any time.
type Manager struct {
	Settings *Settings
	Layout   *queue.Layout
	Resolver Resolver
	Log      Logger
	// BounceLog, ErrorLog, RetryLog and DiscardLog log the lines that
	// Postfix's bounce, error(8) and discard(8) programs write and the
	// queue manager writes here instead: the notices to senders and
	// postmaster (postfix/bounce), the recipients of the error: transport
	// (postfix/error, error service), of the retry service —
	// defer_transports, transports whose agent cannot be reached,
	// resolver failures, the retry: transport, excess probes —
	// (postfix/error, retry service's syslog_name), and those of the
	// discard: transport (postfix/discard). RewriteLog logs the
	// resolver's warnings, which Postfix's trivial-rewrite logs
	// (postfix/trivial-rewrite). Nil means Log; a nil RetryLog means
	// ErrorLog.
	BounceLog, ErrorLog, RetryLog, DiscardLog, RewriteLog Logger
	// CleanupSocket is the cleanup service's socket, for bounces;
	// AgentDir the directory of the delivery agents' sockets
	// ("private").
	CleanupSocket string
	AgentDir      string
	// ProbeResolver routes address verification probes (nil: Resolver);
	// Verify receives their results (nil: they are dropped).
	ProbeResolver Resolver
	Verify        *verify.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Flow puts the input flow control tokens in (in_flow_delay): one
	// per message taken from incoming/, and up to its limit whenever
	// incoming/ has been scanned to its end. Nil puts none.
	Flow *mailflow.Producer

	mu    sync.Mutex
	wake  chan struct{}
	tasks chan task // to an idle worker
	// loading holds a token for each message being loaded and routed,
	// at most maxLoading.
	loading chan struct{}

	scanIncoming bool
	scanDeferred bool
	// watch follows incoming/ (nil: not watched, every scan is full);
	// fullIncoming says the next scan of incoming/ looks at every file.
	// Both belong to Run's goroutine.
	watch        *incomingWatch
	fullIncoming bool
	ignoreTimes  bool // the next deferred scan takes every file (postqueue -f)
	// flushing: the next scans ignore defer_transports (postqueue -f).
	flushing bool
	// reopened: a flush opened the windows again; Run's loop starts the
	// jobs waiting at them.
	reopened bool
	full     bool // a scan stopped at qmgr_message_active_limit
	// active are the messages being worked on, with the recipients each
	// holds in memory (see active.go); recipientsInMemory is their sum.
	active             map[string]int
	recipientsInMemory int
	// left are the files scans left because their ID was still active,
	// by ID (see leaveLocked).
	left    map[string]leftFile
	windows map[string]*Window
	// deadTransports are the transports whose agent could not be
	// reached, until transport_retry_time passes.
	deadTransports map[string]deadTransport
	agents         agentPool
	wg             sync.WaitGroup
	// probes counts the address verification probes being processed.
	probes atomic.Int64
	// filesKept counts the waiting messages that keep their queue file
	// open (attempt.keepFileWhileWaiting).
	filesKept atomic.Int64
}

func (q *Manager) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// logFor returns l, or Log when l is nil.
func (q *Manager) logFor(l Logger) Logger {
	if l == nil {
		return q.Log
	}
	return l
}

func (q *Manager) init() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.wake == nil {
		q.wake = make(chan struct{}, 1)
		q.tasks = make(chan task)
		q.loading = make(chan struct{}, maxLoading)
		q.active = map[string]int{}
		q.windows = map[string]*Window{}
	}
}

// Trigger records the requests of a trigger and wakes the manager: I and
// W scan the incoming queue, D the deferred queue (files due now), A both
// queues with every deferred file eligible, F forgets destination
// failures and also makes every deferred file eligible (postqueue -f
// sends F A D I).
func (q *Manager) Trigger(codes []ipc.TriggerCode) {
	q.init()
	q.mu.Lock()
	for _, c := range codes {
		switch c {
		case ipc.TriggerWakeup, ipc.TriggerScanIncoming:
			q.scanIncoming = true
		case ipc.TriggerScanDeferred:
			q.scanDeferred = true
		case ipc.TriggerScanAll:
			q.scanIncoming, q.scanDeferred, q.ignoreTimes = true, true, true
		case ipc.TriggerFlushDead:
			q.scanDeferred, q.ignoreTimes, q.flushing = true, true, true
			for _, w := range q.windows {
				w.Reset()
			}
			// A window that failures had closed may have room now.
			q.reopened = true
			q.deadTransports = nil
		}
	}
	q.mu.Unlock()
	q.poke()
}

func (q *Manager) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends: it first takes up the files left in the
// active queue (delivery is at least once), then scans the incoming queue
// and, every queue_run_delay, the deferred queue. It returns after the
// deliveries in progress have stopped.
func (q *Manager) Run(ctx context.Context) error {
	q.init()
	if err := q.Settings.validate(q.Log.Warning); err != nil {
		return err
	}
	q.mu.Lock()
	q.scanIncoming, q.scanDeferred = true, true
	q.mu.Unlock()
	// Watched before the first scan, which looks at every file, so that
	// nothing made ready in between is missed. A hashed incoming queue
	// has subdirectories, which one watch does not cover.
	q.fullIncoming = true
	if q.Layout.RelDir(queue.Incoming, "0") == queue.Incoming {
		q.watch = watchIncoming(filepath.Join(q.Layout.Root, queue.Incoming))
	}
	if q.watch != nil {
		defer q.watch.close()
	}
	err := q.Layout.Walk(queue.Active, func(e queue.Entry) error {
		return q.start(ctx, e.ID, false, false)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		q.Log.Warning("%v", err)
	}
	ticker := time.NewTicker(q.Settings.QueueRunDelay)
	defer ticker.Stop()
	expiry := time.NewTicker(agentIdleLimit / 2)
	defer expiry.Stop()
	q.poke()
	// incomingCut: the last incoming/ scan stopped at the active queue's
	// limit; it goes on when a message is done.
	incomingCut := false
	for {
		select {
		case <-ctx.Done():
			q.wg.Wait()
			q.dropWaiting()
			q.agents.closeAll()
			return nil
		case <-expiry.C:
			q.agents.expire(q.now())
			continue
		case <-ticker.C:
			q.mu.Lock()
			q.scanDeferred = true
			q.mu.Unlock()
			// Belt and braces: the next scan of incoming/ looks at
			// every file, as it did before the watch.
			q.fullIncoming = true
		case <-q.wake:
		}
		q.mu.Lock()
		incoming, deferred, all, flushing, reopened := q.scanIncoming, q.scanDeferred, q.ignoreTimes, q.flushing, q.reopened
		q.scanIncoming, q.scanDeferred, q.ignoreTimes, q.full, q.flushing, q.reopened = false, false, false, false, false, false
		var again []leftFile
		if len(q.left) > 0 {
			again = q.takeLeftLocked()
		}
		q.mu.Unlock()
		if reopened {
			q.startWaitingEverywhere(ctx)
		}
		q.takeAgain(ctx, again)
		if incoming {
			q.scanIncomingQueue(ctx, all, flushing)
			// Set again by this scan only when it stopped at the
			// active queue's limit.
			incomingCut = q.fullIncoming
		}
		if deferred {
			q.scan(ctx, queue.Deferred, all, flushing)
		}
		q.mu.Lock()
		rescan := q.scanIncoming
		q.mu.Unlock()
		if !incomingCut && !rescan {
			// incoming/ was scanned to its end and no new scan is
			// wanted: Postfix's qmgr refills the tokens then.
			q.Flow.Idle()
		}
	}
}

// scan moves the ready files of incoming, or the due files of deferred
// (all of them with all set), into the active queue and starts them,
// stopping at qmgr_message_active_limit. The messages of a flush
// (flushing) are delivered even over defer_transports.
func (q *Manager) scan(ctx context.Context, from string, all, flushing bool) {
	now := q.now()
	err := q.Layout.Walk(from, func(e queue.Entry) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return q.take(ctx, e, all, flushing, now)
	})
	if from == queue.Incoming && errors.Is(err, errActiveFull) {
		// The files not looked at may have had their events already.
		q.fullIncoming = true
	}
	if err != nil && !errors.Is(err, errActiveFull) && !errors.Is(err, context.Canceled) {
		q.Log.Warning("%v", err)
	}
}

// scanIncomingQueue is scan of the incoming queue: of the files the watch
// saw change since the last scan, or of every file when there is no
// watch, it lost events, all is set (postqueue -f), or fullIncoming asks
// for it (the first scan, a scan that stopped at a full active queue,
// and one every queue_run_delay).
func (q *Manager) scanIncomingQueue(ctx context.Context, all, flushing bool) {
	var (
		names    []string
		complete bool
	)
	if q.watch != nil {
		names, complete = q.watch.changed()
	}
	if !complete || all || q.fullIncoming {
		q.fullIncoming = false
		q.scan(ctx, queue.Incoming, all, flushing)
		return
	}
	now := q.now()
	for _, name := range names {
		if !queue.ValidID(name) {
			continue
		}
		e := queue.Entry{Queue: queue.Incoming, ID: name, Path: q.Layout.Path(queue.Incoming, name)}
		if err := q.take(ctx, e, all, flushing, now); err != nil {
			if errors.Is(err, errActiveFull) {
				// The names left are not looked at now.
				q.fullIncoming = true
			}
			return
		}
	}
}

// take moves e, a file of the incoming or deferred queue, into the
// active queue and starts it, when it is ready or due at now (any
// deferred file with all set); flushing lifts defer_transports for it.
// It fails when the active queue is full, or ctx ended.
func (q *Manager) take(ctx context.Context, e queue.Entry, all, flushing bool, now time.Time) error {
	q.mu.Lock()
	if q.atLimit() {
		q.full = true
		q.mu.Unlock()
		return errActiveFull
	}
	_, ending := q.active[e.ID]
	if ending {
		// Its attempt moved it here and is not over yet: moved back to
		// active/, start would leave it to nobody. It is taken up once
		// the attempt is over.
		q.leaveLocked(e, all, flushing)
	}
	q.mu.Unlock()
	if ending {
		return nil
	}
	st, err := os.Stat(e.Path)
	if err != nil {
		return nil // gone meanwhile (postsuper, another scan)
	}
	if e.Queue == queue.Incoming && !queue.ModeReady(st.Mode()) {
		return nil // cleanup is still writing it
	}
	if e.Queue == queue.Deferred && !all && st.ModTime().After(now) {
		return nil
	}
	unthrottled := queue.ModeUnthrottled(st.Mode())
	if unthrottled {
		// postqueue -s: this attempt ignores defer_transports.
		if err := queue.SetUnthrottled(e.Path, false); err != nil {
			q.Log.Warning("%v", err)
		}
	}
	if err := q.Layout.ShiftEntry(e, queue.Active); err != nil {
		q.Log.Warning("%v", err)
		return nil
	}
	if e.Queue == queue.Incoming {
		q.Flow.Took()
	}
	return q.start(ctx, e.ID, flushing || unthrottled, e.Queue == queue.Incoming)
}

var errActiveFull = errors.New("active queue full")

// atLimit reports whether the active queue holds
// qmgr_message_active_limit messages, or its messages
// qmgr_message_recipient_limit recipients; q.mu is held.
func (q *Manager) atLimit() bool {
	s := q.Settings
	return s.ActiveLimit > 0 && len(q.active) >= s.ActiveLimit ||
		s.RecipientsInMemory > 0 && len(q.active) > 0 && q.recipientsInMemory >= s.RecipientsInMemory
}

// maxLoading is how many messages are loaded and routed at once. A scan
// waits for one of them to be done before it starts the next message, so
// that a scan of thousands of files does not make a goroutine (and its
// stack) for each.
const maxLoading = 8

// start has message id of the active queue processed by a worker, once
// fewer than maxLoading messages are being loaded; flushing lifts
// defer_transports for it; fresh says it came from incoming/ (see
// attempt.fresh). It fails only when ctx ends.
func (q *Manager) start(ctx context.Context, id string, flushing, fresh bool) error {
	q.mu.Lock()
	activated := q.activateLocked(id)
	q.mu.Unlock()
	if !activated {
		return nil
	}
	select {
	case q.loading <- struct{}{}:
	case <-ctx.Done():
		q.mu.Lock()
		q.deactivateLocked(id)
		q.mu.Unlock()
		return ctx.Err()
	}
	q.hand(ctx, task{id: id, flushing: flushing, fresh: fresh})
	return nil
}

// hand gives t to an idle worker, or to a new one.
func (q *Manager) hand(ctx context.Context, t task) {
	select {
	case q.tasks <- t:
	default:
		q.wg.Add(1)
		go q.worker(ctx, t)
	}
}

// task is work for a worker: a message of the active queue to load
// (id), or a delivery that holds its slot.
type task struct {
	id              string
	flushing, fresh bool
	delivery        *delivery
}

// workerIdle is how long a worker that finished a task waits for the
// next one before it ends. A reused goroutine keeps the stack that
// processing a message grew, which a new one grows again by copying,
// several times per message.
const workerIdle = 5 * time.Second

// worker does t, then the tasks hand gives it while it waits, until it
// has waited workerIdle or ctx ends.
func (q *Manager) worker(ctx context.Context, t task) {
	defer q.wg.Done()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		if t.delivery != nil {
			q.runDeliveries(ctx, t.delivery)
		} else {
			q.process(ctx, t.id, t.flushing, t.fresh)
		}
		idle.Reset(workerIdle)
		select {
		case t = <-q.tasks:
		case <-idle.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// messageDone takes a message off the active list; Run's loop looks
// again at the queues when a scan stopped at a limit of the active queue,
// and at a file a scan left because this message was still active.
func (q *Manager) messageDone(id string) {
	q.mu.Lock()
	lookAgain := q.deactivateLocked(id)
	if q.full {
		q.full, q.scanIncoming, q.scanDeferred = false, true, true
		lookAgain = true
	}
	q.mu.Unlock()
	if lookAgain {
		q.poke()
	}
}

// windowLocked returns the concurrency window of a destination for one
// job, which hands it back with releaseWindowLocked; q.mu is held.
func (q *Manager) windowLocked(transport, nexthop string) *Window {
	key := transport + ":" + nexthop
	w, ok := q.windows[key]
	if !ok {
		w = NewWindow(q.Settings.InitialConcurrency, q.Settings.ConcurrencyLimit(transport))
		q.windows[key] = w
	}
	w.users++
	return w
}

// releaseWindowLocked hands back a window got from windowLocked; q.mu
// is held. A window nobody uses that has nothing to remember (back at its
// initial width) is forgotten, so that the table does not grow with every
// destination seen.
func (q *Manager) releaseWindowLocked(transport, nexthop string, w *Window) {
	w.users--
	if w.users == 0 {
		w.caching = connCaching{}
		if w.Size() == w.initial {
			delete(q.windows, transport+":"+nexthop)
		}
	}
}

// agentSocket is the socket of a transport's delivery agent.
func (q *Manager) agentSocket(transport string) string {
	return filepath.Join(q.AgentDir, transport)
}

// ActiveCount returns how many messages are being worked on.
func (q *Manager) ActiveCount() int {
	q.init()
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.active)
}

// retryLog is the log of the retry service's lines (RetryLog, else
// ErrorLog).
func (q *Manager) retryLog() Logger {
	if q.RetryLog != nil {
		return q.RetryLog
	}
	return q.ErrorLog
}
