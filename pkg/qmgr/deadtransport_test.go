// Tests of transport_retry_time: a transport whose agent cannot be
// reached is not tried again until the time has passed or a flush.

package qmgr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

func TestDeadTransportIsNotTried(t *testing.T) {
	h := newHarness(t, "transport_retry_time = 1h\n", nil)
	h.place(queue.Incoming, "E1B2C3D4E5", "alice@test.example", time.Now(), "w@nosock.example")
	h.run()
	h.waitFor("the first deferred file", func() bool { return h.exists(queue.Deferred, "E1B2C3D4E5") })
	warning := "warning: connect to transport " + h.mgr.AgentDir + "/nosuch: No such file or directory"
	h.place(queue.Incoming, "E2B2C3D4E5", "alice@test.example", time.Now(), "v@nosock.example")
	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerScanIncoming})
	h.waitFor("the second deferred file", func() bool { return h.exists(queue.Deferred, "E2B2C3D4E5") })
	log := h.log.Text()
	if n := strings.Count(log, warning); n != 1 {
		t.Errorf("%d connection attempts to the dead transport, want 1:\n%s", n, log)
	}
	if !strings.Contains(log, "E2B2C3D4E5: to=<v@nosock.example>, relay=none, delay=") ||
		strings.Count(log, ", dsn=4.3.0, status=deferred (mail transport unavailable)") != 2 {
		t.Errorf("log lacks the dead transport's deferral:\n%s", log)
	}
	// postqueue -f tries the transport again.
	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerFlushDead, ipc.TriggerScanAll, ipc.TriggerScanDeferred, ipc.TriggerScanIncoming})
	h.waitFor("a new attempt", func() bool { return strings.Count(h.log.Text(), warning) >= 2 })
	h.stop()
}
