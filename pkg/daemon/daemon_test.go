// End-to-end tests: echod and triggerd started the way master starts them.

package daemon

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/internal/testaccount"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/privs"
)

func TestReadyAndEcho(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			td := startDaemon(t, daemonSetup{program: "echod", network: network, args: []string{"-o", "syslog_name=postfix/test"}})
			td.waitReady()
			c := td.dial()
			c.mustEcho("hello")
			c.mustEcho("again")
			want := map[string]string{"unix": "connect from local", "tcp": "connect from unknown[127.0.0.1]"}[network]
			td.waitLog(fmt.Sprintf("postfix/test/echod[%d]: %s", td.cmd.Process.Pid, want))
		})
	}
}

func TestConcurrencyLimit(t *testing.T) {
	td := startDaemon(t, daemonSetup{program: "echod", args: []string{"-p", "2"}})
	td.waitReady()
	first, second := td.dial(), td.dial()
	first.mustEcho("one")
	second.mustEcho("two")
	third := td.dial()
	third.mustNotEcho("three")
	first.conn.Close()
	// The queued line is answered once a slot is free.
	if got, err := third.readLine(patience); err != nil || got != "three" {
		t.Fatalf("third client got %q, %v after a slot was freed", got, err)
	}
	third.mustEcho("four")
	second.mustEcho("still here")
}

func TestUnlimitedConcurrency(t *testing.T) {
	td := startDaemon(t, daemonSetup{program: "echod", args: []string{"-p", "0"}})
	td.waitReady()
	var clients []*echoClient
	for i := range 20 {
		c := td.dial()
		c.mustEcho(strconv.Itoa(i))
		clients = append(clients, c)
	}
	for i, c := range clients {
		c.mustEcho("again " + strconv.Itoa(i))
	}
}

func TestSIGHUPFinishesSessions(t *testing.T) {
	td := startDaemon(t, daemonSetup{program: "echod", args: []string{"-p", "0"}})
	td.waitReady()
	session := td.dial()
	session.mustEcho("before")
	td.signal(syscall.SIGHUP)
	// "retiring" tells master the daemon has closed its listener.
	td.waitStatus("retiring\n")
	// No new session is accepted; the one in progress goes on.
	late := td.dial()
	late.mustNotEcho("late")
	session.mustEcho("during")
	if !td.running() {
		t.Fatal("daemon ended before its session did")
	}
	session.conn.Close()
	if status := td.waitExit(patience); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
}

// SIGTERM, and SIGINT (Ctrl-C reaching the process group of "postfix
// start-fg"), stop a daemon at once with exit status 0.
func TestStopSignalsStopAtOnce(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			td := startDaemon(t, daemonSetup{program: "echod"})
			td.waitReady()
			session := td.dial()
			session.mustEcho("before")
			td.signal(sig)
			if status := td.waitExit(patience); status != 0 {
				t.Errorf("exit status %d, want 0", status)
			}
			if _, err := session.readLine(patience); err != io.EOF {
				t.Errorf("session read after %v: %v, want EOF", sig, err)
			}
		})
	}
}

func TestMaxUse(t *testing.T) {
	td := startDaemon(t, daemonSetup{program: "echod", args: []string{"-p", "5", "-o", "max_use=2"}})
	td.waitReady()
	first := td.dial()
	first.mustEcho("one")
	second := td.dial()
	second.mustEcho("two")
	// The third waits for the next daemon.
	third := td.dial()
	third.mustNotEcho("three")
	first.conn.Close()
	second.mustEcho("still served")
	if !td.running() {
		t.Fatal("daemon ended with a session in progress")
	}
	second.conn.Close()
	if status := td.waitExit(patience); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
}

// TestMaxUseLeavesTheRestQueued checks that a daemon at max_use accepts
// no connection it will not serve: with three clients already waiting, the
// third stays in the listen queue for the next process instead of being
// accepted and closed unanswered.
func TestMaxUseLeavesTheRestQueued(t *testing.T) {
	td := startDaemon(t, daemonSetup{program: "echod", args: []string{"-p", "5", "-o", "max_use=2"}})
	clients := []*echoClient{td.dial(), td.dial(), td.dial()}
	td.waitReady()
	clients[0].mustEcho("one")
	clients[1].mustEcho("two")
	clients[2].mustNotEcho("three")
	clients[0].conn.Close()
	clients[1].conn.Close()
	if status := td.waitExit(patience); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
	// Still queued, not closed: the next daemon on this listener serves it.
	clients[2].mustNotEcho("three again")
}

func TestMaxIdle(t *testing.T) {
	td := startDaemon(t, daemonSetup{program: "echod", args: []string{"-v", "-o", "max_idle=1s"}})
	td.waitReady()
	c := td.dial()
	c.mustEcho("busy")
	time.Sleep(1500 * time.Millisecond)
	// An open session is not idleness.
	c.mustEcho("still busy")
	c.conn.Close()
	start := time.Now()
	if status := td.waitExit(patience); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
	if waited := time.Since(start); waited < 800*time.Millisecond {
		t.Errorf("exited %v after the last session, want about max_idle", waited)
	}
	td.waitLog("idle timeout -- exiting")
}

func TestTriggerServer(t *testing.T) {
	td := startDaemon(t, daemonSetup{program: "triggerd", args: []string{"-p", "1"}})
	td.waitReady()
	raw, err := net.Dial("unix", td.sock)
	if err != nil {
		t.Fatal(err)
	}
	raw.Write([]byte("W"))
	raw.Close()
	td.waitLog("triggerd[" + strconv.Itoa(td.cmd.Process.Pid) + "]: trigger: W")
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := ipc.SendTrigger(ctx, td.sock, ipc.TriggerFlushDead, ipc.TriggerScanAll, ipc.TriggerScanDeferred, ipc.TriggerScanIncoming); err != nil {
		t.Fatal(err)
	}
	td.waitLog("trigger: FADI")
}

func TestTriggerServerTimer(t *testing.T) {
	const interval = 200 * time.Millisecond
	start := time.Now() // before the daemon exists, so before its timer
	td := startDaemon(t, daemonSetup{program: "triggerd", args: []string{"-p", "1", "timer=" + interval.String()}})
	td.waitReady()
	// The wakeups keep coming...
	deadline := time.Now().Add(patience)
	for strings.Count(td.log(), "trigger: W") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 3 timer wakeups within %v with a %v timer:\n%s", patience, interval, td.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// ... and no more often than the timer says: however slow the
	// machine, by now there cannot be more than one per interval since
	// start.
	log := td.log()
	elapsed := time.Since(start)
	if n := strings.Count(log, "trigger: W"); n > int(elapsed/interval) {
		t.Errorf("%d timer wakeups in %v with a %v timer:\n%s", n, elapsed, interval, log)
	}
	td.signal(syscall.SIGHUP)
	if status := td.waitExit(patience); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
}

func TestFatalStartUp(t *testing.T) {
	tests := []struct {
		name  string
		setup daemonSetup
		want  string
	}{
		{"invalid option", daemonSetup{args: []string{"-x"}}, "fatal: invalid option: x"},
		{"override without =", daemonSetup{args: []string{"-o", "foo"}}, `fatal: invalid "-o foo" option value: missing '=' after attribute name`},
		{"bad max_idle", daemonSetup{args: []string{"-o", "max_idle=abc"}}, "fatal: parameter max_idle: bad time value or unit: abc"},
		{"bad max_use", daemonSetup{mainCF: "max_use = lots\n"}, "fatal: bad numerical configuration: max_use = lots"},
		{"missing queue directory", daemonSetup{args: []string{"-o", "queue_directory=/nonexistent/spool"}}, `fatal: chdir("/nonexistent/spool"): No such file or directory`},
		{"unsupported transport", daemonSetup{args: []string{"-t", "fifo"}}, "fatal: unsupported transport type: fifo"},
		{"solitary service with maxproc 3", daemonSetup{program: "triggerd", args: []string{"-p", "3"}}, "fatal: service triggerd requires a process limit of 1"},
		{"init error", daemonSetup{program: "triggerd", args: []string{"-p", "1", "bogus"}}, "fatal: unknown argument: bogus"},
		{"no master status pipe", daemonSetup{noStatus: true}, "fatal: master status pipe (fd 5): "},
	}
	if privs.IsRoot() {
		tests = append(tests, struct {
			name  string
			setup daemonSetup
			want  string
		}{"mail_owner root", daemonSetup{args: []string{"-u"}, mainCF: "mail_owner = root\n"}, "parameter mail_owner: user root has privileged user ID"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.setup.program == "" {
				tt.setup.program = "echod"
			}
			td := startDaemon(t, tt.setup)
			if status := td.waitExit(patience); status != 1 {
				t.Errorf("exit status %d, want 1", status)
			}
			td.waitLog(tt.want)
		})
	}
}

func TestNotStartedByMaster(t *testing.T) {
	td := startDaemon(t, daemonSetup{program: "echod", noMaster: true})
	if status := td.waitExit(patience); status != 1 {
		t.Errorf("exit status %d, want 1", status)
	}
	if stderr := td.cmd.Stderr.(*strings.Builder).String(); !strings.Contains(stderr, "echod: fatal: do not run this command by hand") {
		t.Errorf("stderr %q lacks the refusal", stderr)
	}
}

func TestStandAlone(t *testing.T) {
	dir := newTestDir(t)
	os.Mkdir(dir+"/spool", 0o755)
	os.WriteFile(dir+"/main.cf", []byte("queue_directory = "+dir+"/spool\nmaillog_file = "+dir+"/maillog\nmaillog_file_prefixes = "+dir+"\n"), 0o644)
	sock := dir + "/standalone.sock"
	td := &testDaemon{t: t, network: "unix", sock: sock, logPath: dir + "/maillog", exited: make(chan error, 1)}
	td.cmd = newCommand(testBinDir+"/echod", "-c", dir, "-S", "-L", "unix:"+sock)
	if err := td.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { td.exited <- td.cmd.Wait() }()
	t.Cleanup(func() { td.cmd.Process.Kill(); <-td.exited })
	// The socket's file is there from bind, before listen: until then a
	// connection is refused, so the wait is for one that is taken.
	var conn net.Conn
	for deadline := time.Now().Add(patience); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stand-alone echod does not listen on its socket: %v", err)
		}
	}
	t.Cleanup(func() { conn.Close() })
	client := &echoClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	client.mustEcho("alone")
	td.signal(syscall.SIGTERM)
	if status := td.waitExit(patience); status != 0 {
		t.Errorf("exit status %d, want 0", status)
	}
}

func TestPrivilegeDrop(t *testing.T) {
	if !privs.IsRoot() {
		t.Skip("the chroot and privilege drop need root (runs in CI as root)")
	}
	owner, err := user.Lookup("postfix")
	if err != nil {
		t.Skipf("no postfix user on this machine (useradd --system postfix): %v", err)
	}
	tests := []struct {
		name       string
		args       []string
		wantUID    string
		wantChroot bool
		wantNNP    bool
	}{
		{"unpriv and chroot", []string{"-u", "-r"}, owner.Uid, true, true},
		{"unpriv only", []string{"-u"}, owner.Uid, false, true},
		{"root, as local runs", nil, "0", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := startDaemon(t, daemonSetup{program: "echod", args: tt.args})
			td.waitReady()
			td.dial().mustEcho("privileges")
			pid := td.cmd.Process.Pid
			st, err := privs.ReadStatus(pid)
			if err != nil {
				t.Fatal(err)
			}
			wantGID := map[bool]string{true: owner.Gid, false: "0"}[tt.wantUID != "0"]
			for i := range 4 {
				if strconv.Itoa(st.UID[i]) != tt.wantUID || strconv.Itoa(st.GID[i]) != wantGID {
					t.Fatalf("daemon runs as uid %v gid %v, want %s/%s", st.UID, st.GID, tt.wantUID, wantGID)
				}
			}
			if tt.wantUID != "0" && st.CapEff != 0 {
				t.Errorf("CapEff %#x, want 0", st.CapEff)
			}
			if st.NoNewPrivs != tt.wantNNP {
				t.Errorf("NoNewPrivs %v, want %v", st.NoNewPrivs, tt.wantNNP)
			}
			root, err := os.Readlink(fmt.Sprintf("/proc/%d/root", pid))
			if err != nil {
				t.Fatal(err)
			}
			wantRoot := map[bool]string{true: td.queue, false: "/"}[tt.wantChroot]
			if root != wantRoot {
				t.Errorf("/proc/%d/root = %q, want %q", pid, root, wantRoot)
			}
			cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
			if err != nil || cwd != td.queue {
				t.Errorf("/proc/%d/cwd = %q, %v, want %q", pid, cwd, err, td.queue)
			}
		})
	}
}

// TestUnprivilegedStart is the development set-up (make run): started by an
// ordinary user, the daemon ignores -u and -r and still serves.
func TestUnprivilegedStart(t *testing.T) {
	setup := daemonSetup{program: "echod", args: []string{"-u", "-r"}}
	if privs.IsRoot() {
		owner, err := privs.LookupMailOwner("main.cf", "postfix")
		if err != nil {
			t.Skipf("no postfix user to run as: %v", err)
		}
		setup.runAs = owner
	}
	td := startDaemon(t, setup)
	td.waitReady()
	td.dial().mustEcho("unprivileged")
	td.waitLog("connect from local")
	st, err := privs.ReadStatus(td.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !st.NoNewPrivs {
		t.Error("NoNewPrivs not set in an unprivileged daemon")
	}
	if root, _ := os.Readlink(fmt.Sprintf("/proc/%d/root", td.cmd.Process.Pid)); root != "/" {
		t.Errorf("unprivileged daemon chrooted into %q", root)
	}
}

// TestPrivilegeDropLeavesOnlyPrimaryGroup: a mail_owner that belongs to
// other groups (here a new one, as an administrator might add it to
// postdrop) runs, once dropped, with its primary group as its only
// supplementary group, as Postfix's set_ugid leaves it.
func TestPrivilegeDropLeavesOnlyPrimaryGroup(t *testing.T) {
	if !privs.IsRoot() {
		t.Skip("the privilege drop needs root (runs in CI as root)")
	}
	for _, tool := range []string{"useradd", "groupadd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	random := make([]byte, 3)
	rand.Read(random)
	name := "pd" + hex.EncodeToString(random)
	extra := name + "x"
	testaccount.AddGroup(t, extra)
	testaccount.AddUser(t, name, "-M", "-U", "-G", extra, "-d", "/nonexistent", "-s", "/usr/sbin/nologin")
	owner, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := owner.GroupIds(); err != nil || len(ids) < 2 {
		t.Fatalf("%s's groups %v (%v): want its own and %s", name, ids, err, extra)
	}
	td := startDaemon(t, daemonSetup{program: "echod", args: []string{"-u", "-r"}, mainCF: "mail_owner = " + name + "\n"})
	td.waitReady()
	td.dial().mustEcho("groups")
	st, err := privs.ReadStatus(td.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if strconv.Itoa(st.UID[0]) != owner.Uid || strconv.Itoa(st.GID[0]) != owner.Gid {
		t.Fatalf("daemon runs as uid %v gid %v, want %s/%s", st.UID, st.GID, owner.Uid, owner.Gid)
	}
	if fmt.Sprint(st.Groups) != "["+owner.Gid+"]" {
		t.Errorf("daemon's supplementary groups %v, want only the primary group [%s]", st.Groups, owner.Gid)
	}
}
