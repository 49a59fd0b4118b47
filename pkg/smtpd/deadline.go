// I/O time limits: smtpd_timeout for each read and write, or with smtpd_per_request_deadline for a whole request, growing with data at smtpd_min_data_rate.

package smtpd

import (
	"context"
	"net"
	"time"
)

// Deadlines are the parameters that turn smtpd_timeout into a deadline.
type Deadlines struct {
	PerRequest  bool `param:"smtpd_per_request_deadline"`
	MinDataRate int  `param:"smtpd_min_data_rate"`
}

// ioBudget is the time a session may spend on I/O. Without a per-request
// deadline every read and write gets smtpd_timeout afresh, so a client
// sending one byte every smtpd_timeout-1 seconds is never cut off. With
// one, reading a command and writing its reply share smtpd_timeout (the
// budget is recharged at each command), and message content adds one
// second for every smtpd_min_data_rate bytes, up to smtpd_timeout, as
// Postfix's smtp_stream deadlines do. Only the session's goroutine uses it.
type ioBudget struct {
	timeout  time.Duration
	deadline bool
	minRate  int // bytes per second that earn a second; 0 = none
	left     time.Duration
}

// recharge starts a new request with the whole budget; minRate > 0 lets
// transferred data add time (DATA and BDAT).
func (b *ioBudget) recharge(minRate int) {
	b.left, b.minRate = b.timeout, minRate
}

// limit is the deadline for the next read or write.
func (b *ioBudget) limit() time.Time {
	if !b.deadline {
		return time.Now().Add(b.timeout)
	}
	return time.Now().Add(b.left)
}

// spend charges one read or write that started at start and moved n bytes.
func (b *ioBudget) spend(start time.Time, n int) {
	if !b.deadline {
		return
	}
	b.left -= time.Since(start)
	if b.minRate > 0 && n > 0 {
		b.left += time.Duration(n) * time.Second / time.Duration(b.minRate)
		if b.left > b.timeout {
			b.left = b.timeout
		}
	}
}

// timedReader reads within the session's budget, and fails once the
// session's context is done.
type timedReader struct {
	ctx    context.Context
	c      net.Conn
	budget *ioBudget
}

func (r timedReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if r.budget.timeout > 0 {
		r.c.SetReadDeadline(r.budget.limit())
	}
	start := time.Now()
	n, err := r.c.Read(p)
	r.budget.spend(start, n)
	return n, err
}

// timedWriter writes within the session's budget.
type timedWriter struct {
	ctx    context.Context
	c      net.Conn
	budget *ioBudget
}

func (w timedWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if w.budget.timeout > 0 {
		w.c.SetWriteDeadline(w.budget.limit())
	}
	start := time.Now()
	n, err := w.c.Write(p)
	w.budget.spend(start, n)
	return n, err
}
