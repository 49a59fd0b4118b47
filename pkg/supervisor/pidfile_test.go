package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPIDFile(t *testing.T) {
	queue := t.TempDir()
	if err := os.Mkdir(filepath.Join(queue, "pid"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, running, err := RunningPID(queue); err != nil || running {
		t.Fatalf("before any master: running=%v err=%v", running, err)
	}
	pf, err := LockPIDFile(queue)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(queue, PIDFileName))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%32d\n", os.Getpid()); string(data) != want {
		t.Errorf("pid file = %q, want %q (33 bytes, right-aligned)", data, want)
	}
	pid, running, err := RunningPID(queue)
	if err != nil || !running || pid != os.Getpid() {
		t.Errorf("RunningPID = %d, %v, %v; want %d, true, nil", pid, running, err, os.Getpid())
	}
	_, err = LockPIDFile(queue)
	wantErr := "open lock file " + queue + "/pid/master.pid: unable to set exclusive lock: Resource temporarily unavailable"
	if err == nil || err.Error() != wantErr {
		t.Errorf("second lock: %v, want %q", err, wantErr)
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	if _, running, err := RunningPID(queue); err != nil || running {
		t.Errorf("after Close: running=%v err=%v", running, err)
	}
}

func TestLockPIDFileMissingDirectory(t *testing.T) {
	queue := t.TempDir()
	_, err := LockPIDFile(queue)
	if err == nil || !strings.HasSuffix(err.Error(), "/pid/master.pid: No such file or directory") {
		t.Errorf("error = %v, want a Postfix-worded open failure", err)
	}
}
