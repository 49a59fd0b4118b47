// The per-recipient delivery log line in Postfix's form.

package agent

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// Delays are the times the delays= field breaks a delivery into.
type Delays struct {
	Arrival time.Time // the message arrived
	Active  time.Time // qmgr moved it to the active queue
	Started time.Time // the delivery agent received the request
	Done    time.Time // the verdict was reached
}

// RequestDelays are the Delays of a delivery of req that started and was
// done at the given times; a missing active time counts as the start, a
// missing arrival time as the active time.
func RequestDelays(req *ipc.DeliveryRequest, started, done time.Time) Delays {
	d := Delays{Arrival: req.ArrivalTime, Active: req.ActiveTime, Started: started, Done: done}
	if d.Active.IsZero() {
		d.Active = started
	}
	if d.Arrival.IsZero() {
		d.Arrival = d.Active
	}
	return d
}

// DeliveryLine formats "ID: to=<…>, [orig_to=<…>, ]relay=…, [conn_use=N, ]
// delay=T, delays=a/b/c/d, dsn=X.Y.Z, status=S (text)".
func DeliveryLine(queueID string, rcpt ipc.Recipient, r ipc.RecipientResult, d Delays) string {
	return deliveryLine(queueID, rcpt, r, d, r.Status.String())
}

// VerifyLine is DeliveryLine for an address verification probe, whose
// outcomes Postfix logs as status=deliverable and, bounced or deferred,
// status=undeliverable.
func VerifyLine(queueID string, rcpt ipc.Recipient, r ipc.RecipientResult, d Delays) string {
	return deliveryLine(queueID, rcpt, r, d, VerifyStatus(r.Status, false))
}

// VerifyStatus is the status= word of a probe's outcome: deliverable,
// undeliverable or, when failures are not cached,
// undeliverable-but-not-cached, as Postfix's verify_append logs them.
func VerifyStatus(s ipc.DeliveryStatus, notCached bool) string {
	switch {
	case s == ipc.StatusSent:
		return "deliverable"
	case notCached:
		return "undeliverable-but-not-cached"
	}
	return "undeliverable"
}

// LineFunc formats one recipient's log line.
type LineFunc func(queueID string, rcpt ipc.Recipient, r ipc.RecipientResult, d Delays) string

// LineFor is the log line of a request with flags: DeliveryLine, or for
// a probe VerifyLine (undeliverable-but-not-cached when the request says
// failures are not cached).
func LineFor(flags ipc.DeliveryFlags) LineFunc {
	switch {
	case flags&ipc.DeliveryFlagVerify == 0:
		return DeliveryLine
	case flags&ipc.DeliveryFlagVerifyNotCached != 0:
		return func(queueID string, rcpt ipc.Recipient, r ipc.RecipientResult, d Delays) string {
			return deliveryLine(queueID, rcpt, r, d, VerifyStatus(r.Status, true))
		}
	}
	return VerifyLine
}

func deliveryLine(queueID string, rcpt ipc.Recipient, r ipc.RecipientResult, d Delays, status string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: to=<%s>, ", queueID, rcpt.Address)
	if rcpt.OriginalRecipient != "" && rcpt.OriginalRecipient != rcpt.Address {
		fmt.Fprintf(&b, "orig_to=<%s>, ", rcpt.OriginalRecipient)
	}
	fmt.Fprintf(&b, "relay=%s, ", r.Relay)
	if r.ConnUse > 0 {
		// Postfix counts this use too: the second delivery shows 2.
		fmt.Fprintf(&b, "conn_use=%d, ", r.ConnUse+1)
	}
	fmt.Fprintf(&b, "delay=%s, delays=%s/%s/%s/%s, dsn=%s, status=%s (%s)",
		FormatDelay(d.Done.Sub(d.Arrival)),
		FormatDelay(d.Active.Sub(d.Arrival)), FormatDelay(d.Started.Sub(d.Active)),
		FormatDelay(r.ConnSetup), FormatDelay(r.Transmission),
		r.DSNCode, status, r.Reply)
	return b.String()
}

// FormatDelay writes a delay as Postfix does: whole seconds from 10s on,
// one decimal from 1s, two below, trailing zeros dropped ("12", "1.5",
// "0.09", "0").
func FormatDelay(d time.Duration) string {
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
