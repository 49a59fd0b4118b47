// Tests of the on-demand connection caching decisions.

package qmgr

import (
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

func TestConnCachingFlags(t *testing.T) {
	const both = ipc.DeliveryFlagConnLoad | ipc.DeliveryFlagConnStore
	t0 := time.Unix(1000, 0)
	var c connCaching
	// A burst of concurrent deliveries to a fresh destination: no caching.
	if f := c.selectFlags(t0, 1); f != 0 {
		t.Fatalf("first delivery: flags %v", f)
	}
	if f := c.selectFlags(t0, 2); f != 0 {
		t.Fatalf("concurrent delivery: flags %v", f)
	}
	c.done(t0)
	// The next delivery right after one ended: back to back, cache.
	if f := c.selectFlags(t0.Add(1500*time.Millisecond), 1); f != both {
		t.Fatalf("back-to-back delivery: flags %v", f)
	}
	// Still busy elsewhere: keep caching.
	if f := c.selectFlags(t0.Add(5*time.Second), 2); f != both {
		t.Fatalf("concurrent delivery while caching: flags %v", f)
	}
	// Out of steam: stop storing, keep loading what is cached.
	if f := c.selectFlags(t0.Add(5*time.Second), 1); f != ipc.DeliveryFlagConnLoad {
		t.Fatalf("delivery after the backlog: flags %v", f)
	}
	c.done(t0.Add(6 * time.Second))
	if f := c.selectFlags(t0.Add(7*time.Second), 1); f != both {
		t.Fatalf("back-to-back again: flags %v", f)
	}
}
