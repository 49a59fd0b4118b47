// Scheduling jobs on their destinations' windows: a job waits in its
// destination's queue as a small entry, and only deliveries in flight
// have a goroutine.

package qmgr

import "context"

// delivery is one agent job of an attempt, waiting at its destination or
// in flight.
type delivery struct {
	a   *attempt
	job Job
	w   *Window // the destination's window, held from enqueue to the end
	// next is the delivery behind this one in its destination's queue.
	next *delivery
}

// deliveryQueue is a destination's jobs waiting for a slot, oldest
// first.
type deliveryQueue struct {
	first, last *delivery
}

func (l *deliveryQueue) push(d *delivery) {
	if l.last == nil {
		l.first = d
	} else {
		l.last.next = d
	}
	l.last = d
}

func (l *deliveryQueue) pop() *delivery {
	d := l.first
	if d == nil {
		return nil
	}
	l.first, d.next = d.next, nil
	if l.first == nil {
		l.last = nil
	}
	return d
}

// enqueue gives d its destination's window and takes a slot of it when
// one is free and no job waits before d; otherwise d joins the
// destination's queue. It reports whether d holds a slot.
func (q *Manager) enqueue(d *delivery) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	d.w = q.windowLocked(d.job.Transport, d.job.Nexthop)
	if d.w.waiting.first == nil && d.w.TryAcquire() {
		return true
	}
	d.w.waiting.push(d)
	return false
}

// takeStartable moves the jobs waiting at w that its free slots let
// start, oldest first, to started, holding a slot each; q.mu is held. The
// caller starts them once it has let go of q.mu.
func (q *Manager) takeStartable(w *Window, started *deliveryQueue) {
	for w.waiting.first != nil && w.TryAcquire() {
		started.push(w.waiting.pop())
	}
}

// handAll hands the deliveries of started, which hold their slots, to
// workers.
func (q *Manager) handAll(ctx context.Context, started *deliveryQueue) {
	for d := started.pop(); d != nil; d = started.pop() {
		q.hand(ctx, task{delivery: d})
	}
}

// startWaitingEverywhere starts the jobs waiting at every window that its
// free slots let start: after a flush opened the windows that failures
// had closed.
func (q *Manager) startWaitingEverywhere(ctx context.Context) {
	var started deliveryQueue
	q.mu.Lock()
	for _, w := range q.windows {
		q.takeStartable(w, &started)
	}
	q.mu.Unlock()
	q.handAll(ctx, &started)
}

// runDeliveries makes delivery d, which holds a slot, then those waiting
// at its destination that its freed slot lets start, until none is left;
// other workers get the ones beyond the first. The job that ends an
// attempt's last delivery finishes the attempt.
func (q *Manager) runDeliveries(ctx context.Context, d *delivery) {
	for d != nil {
		d.a.deliverHeld(ctx, d.job, d.w)
		var started deliveryQueue
		q.mu.Lock()
		if ctx.Err() == nil {
			q.takeStartable(d.w, &started)
		}
		q.releaseWindowLocked(d.job.Transport, d.job.Nexthop, d.w)
		q.mu.Unlock()
		next := started.pop()
		q.handAll(ctx, &started)
		d.a.jobDone(ctx)
		d = next
	}
}

// jobDone counts an agent job of the attempt over; after the last one
// the attempt is finished (unless ctx ended: the file then stays in the
// active queue) and ended.
func (a *attempt) jobDone(ctx context.Context) {
	a.mu.Lock()
	a.jobs--
	last := a.jobs == 0
	a.mu.Unlock()
	if !last {
		return
	}
	if ctx.Err() == nil {
		a.finish(ctx)
	}
	a.end()
}

// end takes the attempt's message off the active list.
func (a *attempt) end() {
	a.closeFile()
	if a.probeCounted {
		a.q.probes.Add(-1)
	}
	a.q.messageDone(a.msg.ID)
}

// dropWaiting forgets the jobs still waiting when Run stops: their files
// stay in the active queue for the next start.
func (q *Manager) dropWaiting() {
	var ended []*attempt
	q.mu.Lock()
	for _, w := range q.windows {
		for d := w.waiting.pop(); d != nil; d = w.waiting.pop() {
			d.a.mu.Lock()
			d.a.jobs--
			if d.a.jobs == 0 {
				ended = append(ended, d.a)
			}
			d.a.mu.Unlock()
			q.releaseWindowLocked(d.job.Transport, d.job.Nexthop, d.w)
		}
	}
	q.mu.Unlock()
	for _, a := range ended {
		a.end()
	}
}
