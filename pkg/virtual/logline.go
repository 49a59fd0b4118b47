// The per-recipient delivery log line in Postfix's form, relay=virtual.
package virtual

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// deliveryTimes are the moments the delay= and delays= fields measure.
type deliveryTimes struct {
	arrival, active, started, done time.Time
}

// deliveryLine formats "ID: to=<…>, [orig_to=<…>, ]relay=virtual,
// delay=T, delays=a/b/0/d, dsn=X.Y.Z, status=S (text)".
func deliveryLine(queueID string, rcpt ipc.Recipient, r ipc.RecipientResult, status string, t deliveryTimes) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: to=<%s>, ", queueID, rcpt.Address)
	if rcpt.OriginalRecipient != "" && rcpt.OriginalRecipient != rcpt.Address {
		fmt.Fprintf(&b, "orig_to=<%s>, ", rcpt.OriginalRecipient)
	}
	fmt.Fprintf(&b, "relay=%s, delay=%s, delays=%s/%s/0/%s, dsn=%s, status=%s (%s)",
		r.Relay, formatDelay(t.done.Sub(t.arrival)),
		formatDelay(t.active.Sub(t.arrival)), formatDelay(t.started.Sub(t.active)),
		formatDelay(r.Transmission), r.DSNCode, status, r.Reply)
	return b.String()
}

// formatDelay writes a delay as Postfix does: whole seconds from 10s on,
// one decimal from 1s, two below, trailing zeros dropped.
func formatDelay(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	var text string
	switch s := d.Seconds(); {
	case s >= 10:
		return strconv.FormatInt(int64(s), 10)
	case s >= 1:
		text = strconv.FormatFloat(float64(int64(s*10))/10, 'f', 1, 64)
	default:
		text = strconv.FormatFloat(float64(int64(s*100))/100, 'f', 2, 64)
	}
	text = strings.TrimRight(text, "0")
	return strings.TrimSuffix(text, ".")
}
