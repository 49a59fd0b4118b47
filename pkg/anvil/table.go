// Package anvil counts, per client of a service, the connections in
// progress and the rate of connections, messages, recipients, new TLS
// sessions and AUTH commands, as Postfix's anvil(8) does for every smtpd
// process of a service. The anvil daemon holds one Table and serves it
// over a Unix socket (Server); smtpd asks through a Client, one
// connection per SMTP session, so a session that ends, however it ends,
// is no longer counted.
//
// Rates are counted in windows of anvil_rate_time_unit: a window starts
// with a client's first event and all its rates restart at zero with the
// first event after the window has passed, as in Postfix.
package anvil

import (
	"sync"
	"time"
)

// Event is a counted client event other than a connection.
type Event int

// The counted events and their protocol verbs.
const (
	EventMail   Event = iota // MAIL FROM
	EventRcpt                // RCPT TO
	EventNewTLS              // a new (not resumed) TLS session
	EventAuth                // AUTH
	numEvents
)

var eventVerbs = [numEvents]string{"mail", "rcpt", "newtls", "auth"}

// clientState is what the table knows about one service:address.
type clientState struct {
	count       int       // connections in progress
	windowStart time.Time // start of the rate window
	connections int       // connection rate in the window
	events      [numEvents]int
}

// Table is the shared state. Its methods are safe for concurrent use.
type Table struct {
	unit time.Duration
	now  func() time.Time

	mu        sync.Mutex
	clients   map[string]*clientState
	lastSweep time.Time
}

// NewTable returns an empty table counting rates per unit
// (anvil_rate_time_unit).
func NewTable(unit time.Duration) *Table {
	return &Table{unit: unit, now: time.Now, clients: map[string]*clientState{}}
}

// key names a client of a service.
func key(service, addr string) string { return service + ":" + addr }

// lookup returns the client's state, with its rate window restarted when
// it has passed. The caller holds mu.
func (t *Table) lookup(k string) *clientState {
	now := t.now()
	t.sweep(now)
	c := t.clients[k]
	if c == nil {
		c = &clientState{windowStart: now}
		t.clients[k] = c
	}
	if now.Sub(c.windowStart) > t.unit {
		*c = clientState{count: c.count, windowStart: now}
	}
	return c
}

// sweep forgets, at most once per unit, the clients with no connection
// whose rate window has passed. The caller holds mu.
func (t *Table) sweep(now time.Time) {
	if now.Sub(t.lastSweep) < t.unit {
		return
	}
	t.lastSweep = now
	for k, c := range t.clients {
		if c.count == 0 && now.Sub(c.windowStart) > t.unit {
			delete(t.clients, k)
		}
	}
}

// Connect counts a new connection and returns the connections in
// progress and the connection rate, both including this one.
func (t *Table) Connect(service, addr string) (count, rate int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.lookup(key(service, addr))
	c.count++
	c.connections++
	return c.count, c.connections
}

// Disconnect ends a connection that Connect counted.
func (t *Table) Disconnect(service, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.clients[key(service, addr)]; c != nil && c.count > 0 {
		c.count--
	}
}

// Count counts ev and returns its rate, including this one.
func (t *Table) Count(ev Event, service, addr string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.lookup(key(service, addr))
	c.events[ev]++
	return c.events[ev]
}

// Rate returns ev's rate without counting an event (Postfix's
// anvil_clnt_newtls_stat).
func (t *Table) Rate(ev Event, service, addr string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lookup(key(service, addr)).events[ev]
}
