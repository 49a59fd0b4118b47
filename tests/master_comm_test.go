package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDaemonProcessNames: each daemon's kernel process name (ps -o comm,
// pgrep, pidof, journald's _COMM) is its program's name, as Postfix's are,
// whether it keeps root (unpriv n) or runs with no_new_privs.
func TestDaemonProcessNames(t *testing.T) {
	in := newMasterRun(t, masterRunOptions{
		masterCF: `smtpd unix - - n - - smtpd
qmgr unix - - n 1 1 qmgr
cleanup unix - - n - - cleanup
keeproot unix - n n - - local
postlog unix-dgram n - n - 1 postlogd
`,
		daemons: []string{"smtpd", "qmgr", "cleanup", "local"},
	})
	in.start()
	in.waitLog("daemon started", 30*time.Second)
	// Services without a wakeup time start on the first connection.
	for _, service := range []string{"smtpd", "cleanup", "keeproot"} {
		if got := echoVia(t, "unix", filepath.Join(in.queue, "private", service), "hello"); got != "hello" {
			t.Errorf("service %s: echo = %q", service, got)
		}
	}
	for service, program := range map[string]string{
		"smtpd": "smtpd", "qmgr": "qmgr", "cleanup": "cleanup", "keeproot": "local", "postlog": "postlogd",
	} {
		pid := in.childPID(service, 30*time.Second)
		deadline := time.Now().Add(30 * time.Second)
		var comm string
		for {
			data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
			if err != nil {
				t.Fatal(err)
			}
			comm = strings.TrimSpace(string(data))
			if comm == program || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if comm != program {
			t.Errorf("service %s: /proc/%d/comm = %q, want %q", service, pid, comm, program)
		}
	}
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(in.masterPID), "comm"))
	if err != nil {
		t.Fatal(err)
	}
	if comm := strings.TrimSpace(string(data)); comm != "master" {
		t.Errorf("master: comm = %q", comm)
	}
}

// TestServiceNameInLogTag: Debian's stock relay entry
// (-o syslog_name=postfix/$service_name) logs as postfix/relay/smtp[PID].
func TestServiceNameInLogTag(t *testing.T) {
	in := newMasterRun(t, masterRunOptions{
		masterCF: `relay unix - - n - - smtp
  -o syslog_name=postfix/$service_name
postlog unix-dgram n - n - 1 postlogd
`,
		daemons: []string{"smtp"},
	})
	in.start()
	in.waitLog("daemon started", 30*time.Second)
	if got := echoVia(t, "unix", filepath.Join(in.queue, "private", "relay"), "hello"); got != "hello" {
		t.Errorf("echo = %q", got)
	}
	pid := in.childPID("relay", 30*time.Second)
	in.waitLog(" postfix/relay/smtp["+strconv.Itoa(pid)+"]: connect from local", 30*time.Second)
}
