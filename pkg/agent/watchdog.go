// Postfix's watchdog for a delivery agent: a delivery stuck past daemon_timeout ends the process.

package agent

import (
	"time"

	"github.com/postern/postern/pkg/maillog"
)

// armWatchdog starts the watchdog for one delivery request and returns
// the function that disarms it. A delivery stuck in the kernel (a mailbox
// on a file system that stopped answering) cannot be cancelled, so, as
// Postfix's watchdog does, the process then logs "fatal: watchdog timeout"
// and exits: master starts another, and qmgr defers the recipients the
// lost connection left unanswered. A timeout of 0 arms nothing.
func armWatchdog(timeout time.Duration, log *maillog.Logger) (disarm func() bool) {
	if timeout <= 0 {
		return func() bool { return false }
	}
	return time.AfterFunc(timeout, func() { log.Fatal("watchdog timeout") }).Stop
}
