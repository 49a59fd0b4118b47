// The delivery log lines the queue manager writes for recipients it decides itself.
package qmgr

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// formatDelay renders seconds as Postfix's delay fields do: whole seconds
// from 10 s up, otherwise at most two decimals without trailing zeros,
// and "0" below 0.01 s.
func formatDelay(d time.Duration) string {
	secs := d.Seconds()
	if secs < 0 {
		secs = 0
	}
	if secs >= 10 {
		return strconv.FormatInt(int64(secs), 10)
	}
	s := strconv.FormatFloat(secs, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" {
		return "0"
	}
	return s
}

// deliveryLine is "to=<…>, [orig_to=<…>, ]relay=none, delay=T,
// delays=a/b/0/0, dsn=X.Y.Z, status=S (text)" for a recipient that reached
// no delivery agent; arrival, active and now give the delays.
func deliveryLine(to, origTo string, arrival, active, now time.Time, dsnCode, status, text string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "to=<%s>, ", to)
	if origTo != "" && origTo != to {
		fmt.Fprintf(&b, "orig_to=<%s>, ", origTo)
	}
	fmt.Fprintf(&b, "relay=none, delay=%s, delays=%s/%s/0/0, dsn=%s, status=%s (%s)",
		formatDelay(now.Sub(arrival)), formatDelay(active.Sub(arrival)), formatDelay(now.Sub(active)),
		dsnCode, status, text)
	return b.String()
}
