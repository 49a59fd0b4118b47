package smtpd

import (
	"testing"
	"time"
)

func TestIOBudget(t *testing.T) {
	b := ioBudget{timeout: 10 * time.Second, deadline: true}
	b.recharge(0)
	b.spend(time.Now().Add(-4*time.Second), 100)
	if b.left > 6*time.Second || b.left < 5*time.Second {
		t.Errorf("after 4s of a command: %v left, want about 6s", b.left)
	}
	// Message content earns a second per smtpd_min_data_rate bytes.
	b.recharge(500)
	b.spend(time.Now().Add(-4*time.Second), 1000)
	if b.left > 8*time.Second || b.left < 7*time.Second {
		t.Errorf("4s for 1000 bytes at 500 B/s: %v left, want about 8s", b.left)
	}
	// never beyond smtpd_timeout
	b.spend(time.Now(), 1_000_000)
	if b.left != 10*time.Second {
		t.Errorf("after a fast burst: %v left, want the 10s cap", b.left)
	}
	// Without a per-request deadline every read gets smtpd_timeout afresh.
	plain := ioBudget{timeout: 10 * time.Second}
	plain.recharge(0)
	plain.spend(time.Now().Add(-9*time.Second), 1)
	if until := time.Until(plain.limit()); until < 9*time.Second {
		t.Errorf("per-read timeout shrank to %v", until)
	}
}
