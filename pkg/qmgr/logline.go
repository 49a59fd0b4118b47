// The delivery log lines the queue manager writes for recipients it decides itself.

package qmgr

import (
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/agent"
)

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
		agent.FormatDelay(now.Sub(arrival)), agent.FormatDelay(active.Sub(arrival)), agent.FormatDelay(now.Sub(active)),
		dsnCode, status, text)
	return b.String()
}
