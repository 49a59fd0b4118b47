// Tests that table updates are serialised.

package maps

import (
	"path/filepath"
	"testing"
	"time"
)

func TestLockForUpdateExcludes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.db")
	unlock, err := LockForUpdate(db)
	if err != nil {
		t.Fatal(err)
	}
	acquired := make(chan func(), 1)
	go func() {
		second, err := LockForUpdate(db)
		if err != nil {
			t.Error(err)
			close(acquired)
			return
		}
		acquired <- second
	}()
	select {
	case <-acquired:
		t.Fatal("second lock taken while the first is held")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case second, ok := <-acquired:
		if ok {
			second()
		}
	case <-time.After(30 * time.Second):
		t.Fatal("second lock not taken after release")
	}
	if _, err := LockForUpdate("/nonexistent/dir/t.db"); err == nil {
		t.Error("locking in a missing directory succeeded")
	}
}
