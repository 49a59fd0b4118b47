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
	"fmt"
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
	peaks     peaks
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
		t.peaks.cacheSize.update(len(t.clients), "", now)
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
	k := key(service, addr)
	t.peaks.connectionRate.update(c.connections, k, t.now())
	t.peaks.connectionCount.update(c.count, k, t.now())
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
	t.peaks.events[ev].update(c.events[ev], key(service, addr), t.now())
	return c.events[ev]
}

// Rate returns ev's rate without counting an event (Postfix's
// anvil_clnt_newtls_stat).
func (t *Table) Rate(ev Event, service, addr string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lookup(key(service, addr)).events[ev]
}

// peak is the highest value of one statistic since it was last logged,
// with its client and time.
type peak struct {
	value int
	ident string
	when  time.Time
}

func (p *peak) update(value int, ident string, when time.Time) {
	if value > p.value {
		*p = peak{value: value, ident: ident, when: when}
	}
}

// peaks are the statistics anvil logs, as Postfix's does.
type peaks struct {
	connectionRate, connectionCount peak
	events                          [numEvents]peak
	cacheSize                       peak
}

// eventNames name the event rates in the statistics lines.
var eventNames = [numEvents]string{"message", "recipient", "newtls", "auth"}

// Statistics returns Postfix's "statistics: max ..." lines for the peaks
// since the last call (none for a peak of zero) and starts afresh.
func (t *Table) Statistics() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	unit := int(t.unit / time.Second)
	var lines []string
	rate := func(p peak, name string) {
		if p.value > 0 {
			lines = append(lines, fmt.Sprintf("statistics: max %s rate %d/%ds for (%s) at %s", name, p.value, unit, p.ident, stamp(p.when)))
		}
	}
	rate(t.peaks.connectionRate, "connection")
	if p := t.peaks.connectionCount; p.value > 0 {
		lines = append(lines, fmt.Sprintf("statistics: max connection count %d for (%s) at %s", p.value, p.ident, stamp(p.when)))
	}
	for ev, name := range eventNames {
		rate(t.peaks.events[ev], name)
	}
	if p := t.peaks.cacheSize; p.value > 0 {
		lines = append(lines, fmt.Sprintf("statistics: max cache size %d at %s", p.value, stamp(p.when)))
	}
	t.peaks = peaks{}
	return lines
}

// stamp is the time as Postfix's statistics show it (ctime without the
// weekday and year: "Dec  7 06:00:00").
func stamp(t time.Time) string { return t.Format("Jan _2 15:04:05") }
