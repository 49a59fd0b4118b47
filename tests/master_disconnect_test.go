// End-to-end test that no daemon outlives a master killed with SIGKILL.

package tests

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDaemonsExitWhenMasterDies kills master with SIGKILL, which it cannot
// catch, and checks that its daemons notice through the status pipe, exit,
// and release the listeners.
func TestDaemonsExitWhenMasterDies(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inet := busy.Addr().String()
	busy.Close()
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`%s inet n - n - - echod
echo unix - - n - - echod
wake unix - - n 1 1 echod
`, inet) + postlogServiceLine})
	in.start()
	// Clients make master start the daemons; wake starts at once.
	echoVia(t, "tcp", inet, "start")
	// A session in progress must not keep its daemon alive.
	session, err := net.Dial("unix", filepath.Join(in.queue, "private", "echo"))
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	if _, err := session.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 6)
	session.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := session.Read(reply); err != nil || string(reply) != "hello\n" {
		t.Fatalf("echo before the kill: %q, %v", reply, err)
	}
	daemons := map[string]int{}
	for _, service := range []string{inet, "echo", "wake"} {
		daemons[service] = in.childPID(service, 30*time.Second)
	}

	if err := syscall.Kill(in.masterPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !daemonGone(in.masterPID, 30*time.Second) {
		t.Fatalf("master %d survived SIGKILL", in.masterPID)
	}
	for service, pid := range daemons {
		if !daemonGone(pid, 30*time.Second) {
			t.Errorf("daemon %d of service %s still runs 30s after master was killed", pid, service)
		}
	}
	// postlogd, the last to hear of it, drains its socket before exiting.
	if left := processesLeft(in.etc, 30*time.Second); len(left) > 0 {
		t.Errorf("processes of the instance still running 30s after master was killed: %v", left)
	}
	session.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := session.Read(reply); err == nil {
		t.Errorf("session still open after its daemon exited: read %q", reply[:n])
	}
	ln, err := net.Listen("tcp4", inet)
	if err != nil {
		t.Errorf("inet port still held after master and its daemons are gone: %v", err)
	} else {
		ln.Close()
	}
}

// processesLeft waits up to timeout for every process of the instance
// configured in configDir to exit, and returns those still running.
func processesLeft(configDir string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		left := processesUsing(configDir)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processesUsing lists the live processes whose command line names
// configDir (daemons get "-c configDir").
func processesUsing(configDir string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "\x00"+configDir+"\x00") {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 0 && fields[0] == "Z" {
			continue
		}
		found = append(found, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return found
}
