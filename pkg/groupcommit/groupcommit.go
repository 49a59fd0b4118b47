// Package groupcommit shares one durability operation (an fsync, a sync
// of a file system) among the callers that need it at the same time.
//
// A caller asks Do with a key (a directory, a file system) once its own
// writes are done, and returns once an operation on that key that started
// after its call has finished. While one operation of a key runs, the
// callers that arrive for it join one round, whose single operation,
// started when the running one ends, covers them all: with N concurrent
// callers the operation runs far fewer than N times, with the same
// durability for each. Callers of different keys never wait for each
// other.
package groupcommit

import "sync"

// Group is the rounds of every key. The zero Group is ready to use.
type Group[K comparable] struct {
	mu   sync.Mutex
	keys map[K]*rounds
}

// rounds are one key's rounds: the one whose operation runs, and the one
// that callers arriving now join (its leader waits for the running one).
type rounds struct {
	running, open *Round
}

// Round is one operation for every caller that joined it.
type Round struct {
	joiners int // callers besides the leader, counted until it starts
	done    chan struct{}
	err     error
}

// Wait returns the round's result once its operation has finished.
func (r *Round) Wait() error {
	<-r.done
	return r.err
}

// Do returns once an operation on key that started after the call has
// finished, with that operation's error. When the caller leads a round
// (no round of key was waiting to start), Do runs lead in the caller's
// goroutine, after the running round, with the number of callers that
// joined; lead must cover the writes of the caller and of every joiner
// (a caller joins only once its own writes are done). When the caller
// joins a round, its lead is not called.
func (g *Group[K]) Do(key K, lead func(joiners int) error) error {
	r, leads := g.enqueue(key)
	if !leads {
		return r.Wait()
	}
	g.run(key, r, lead)
	return r.err
}

// Start is Do that returns at once: the round's Wait returns its result.
// A round it leads runs in a goroutine of its own. A writer starts the
// operation as soon as its writes that need it are done and waits only
// when it must, so that the operation runs while it does other work.
func (g *Group[K]) Start(key K, lead func(joiners int) error) *Round {
	r, leads := g.enqueue(key)
	if leads {
		go g.run(key, r, lead)
	}
	return r
}

// Waiting returns how many callers wait for the round of key that has not
// started yet, its leader included (0: none). Tests use it to know when
// the callers they started have joined.
func (g *Group[K]) Waiting(key K) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if k := g.keys[key]; k != nil && k.open != nil {
		return k.open.joiners + 1
	}
	return 0
}

// enqueue returns the round of key that a caller arriving now is part
// of, and whether it leads it.
func (g *Group[K]) enqueue(key K) (r *Round, leads bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.keys == nil {
		g.keys = make(map[K]*rounds)
	}
	k := g.keys[key]
	if k == nil {
		k = &rounds{}
		g.keys[key] = k
	}
	if k.open != nil {
		// Its operation has not started: it covers this caller's writes.
		k.open.joiners++
		return k.open, false
	}
	k.open = &Round{done: make(chan struct{})}
	return k.open, true
}

// run waits for the running round of key, then runs r, which callers no
// longer join once it starts.
func (g *Group[K]) run(key K, r *Round, lead func(joiners int) error) {
	g.mu.Lock()
	k := g.keys[key]
	prev := k.running
	g.mu.Unlock()
	if prev != nil {
		<-prev.done
	}
	g.mu.Lock()
	k.open, k.running = nil, r
	joiners := r.joiners
	g.mu.Unlock()
	r.err = lead(joiners)
	close(r.done)
	g.mu.Lock()
	if k.running == r {
		k.running = nil
		if k.open == nil {
			delete(g.keys, key)
		}
	}
	g.mu.Unlock()
}
