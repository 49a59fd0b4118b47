// The two users of the token pipe: cleanup's gate and qmgr's producer.

package mailflow

import (
	"context"
	"time"
)

// Gate is where a receiving daemon (cleanup) asks for a token before each
// new message. A nil Gate, or one without a pipe or with Delay 0
// (in_flow_delay = 0), lets every message through at once.
type Gate struct {
	Pipe  *Pipe
	Delay time.Duration // in_flow_delay
}

// Admission is what Enter did.
type Admission int

const (
	Off    Admission = iota // flow control is off: nothing was asked
	Token                   // a token was taken
	Paused                  // there was none: paused Delay, then went on
)

// Enter takes a token, or, when there is none, pauses Delay (less when
// ctx ends) and lets the message through anyway, as Postfix's cleanup
// does: the pause is not cut short when a token arrives meanwhile.
func (g *Gate) Enter(ctx context.Context) Admission {
	if !g.on() {
		return Off
	}
	if g.Pipe.Get(1) == 1 {
		return Token
	}
	t := time.NewTimer(g.Delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return Paused
}

// GiveBack puts back the token of a message that went to the hold queue
// instead of incoming, from where the queue manager would have made up
// for it, as Postfix's cleanup does.
func (g *Gate) GiveBack() {
	if g.on() {
		g.Pipe.Put(1)
	}
}

func (g *Gate) on() bool {
	return g != nil && g.Pipe != nil && g.Delay > 0
}

// Producer is the queue manager's side: it keeps at most Limit tokens
// (default_process_limit) in the pipe. A nil Producer, or one without a
// pipe, does nothing (in_flow_delay = 0, or no master).
type Producer struct {
	Pipe  *Pipe
	Limit int
}

// Took is called for each message taken from the incoming queue: it adds
// a token while the pipe holds fewer than Limit, and takes out those over
// Limit.
func (p *Producer) Took() {
	p.balance(1)
}

// Idle is called when the incoming queue has been scanned to its end and
// no new scan is wanted: it fills the pipe up to Limit tokens, or takes
// out those over Limit.
func (p *Producer) Idle() {
	p.balance(-1)
}

// balance adds add tokens (up to Limit when add < 0) while the pipe holds
// fewer than Limit, and takes out those over Limit.
func (p *Producer) balance(add int) {
	if p == nil || p.Pipe == nil {
		return
	}
	n := p.Pipe.Count()
	switch {
	case n < 0:
	case n < p.Limit:
		if add < 0 {
			add = p.Limit - n
		}
		p.Pipe.Put(add)
	case n > p.Limit:
		p.Pipe.Get(n - p.Limit)
	}
}
