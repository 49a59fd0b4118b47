// End-to-end tests of master and the postfix command: real processes, a temporary instance, the echod test service.

package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// TestMasterLifecycle walks one instance through start, service checks,
// a killed daemon, a double start, a reload and a stop.
func TestMasterLifecycle(t *testing.T) {
	port := harness.FreePort(t)
	inet := fmt.Sprintf("127.0.0.1:%d", port)
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`# test services
%s inet n - n - - echod
echo unix - - n - - echod
pub unix n - n - - echod
wake unix - - n 1 1 echod
rewrite unix - - n - - trivial-rewrite
postlog unix-dgram n - n - 1 postlogd
`, inet)})

	if res := in.postfix("status"); res.ExitCode != 1 || !strings.Contains(res.Stderr, "postfix/postfix-script: the Postfix mail system is not running") {
		t.Errorf("status before start: %s", res)
	}
	in.start()
	log := in.waitLog("daemon started -- version ", 30*time.Second)
	if !strings.Contains(log, "configuration "+in.etc) {
		t.Errorf("start line does not name the configuration:\n%s", log)
	}
	if !regexp.MustCompile(`postfix/postfix-script\[\d+\]: starting the Postfix mail system`).MatchString(log) {
		t.Errorf("no start line from postfix-script:\n%s", log)
	}

	t.Run("status and pid file", func(t *testing.T) {
		res := in.postfix("status")
		want := fmt.Sprintf("the Postfix mail system is running: PID: %d", in.masterPID)
		if res.ExitCode != 0 || !strings.Contains(res.Stderr, want) {
			t.Errorf("status: %s\nwant %q", res, want)
		}
		data, err := os.ReadFile(filepath.Join(in.queue, "pid", "master.pid"))
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%32d\n", in.masterPID); string(data) != want {
			t.Errorf("master.pid = %q, want %q", data, want)
		}
	})

	t.Run("queue directories and sockets", func(t *testing.T) {
		modes := map[string]os.FileMode{
			"private":          os.ModeDir | 0o700,
			"public":           os.ModeDir | 0o710,
			"maildrop":         os.ModeDir | 0o730,
			"incoming":         os.ModeDir | 0o700,
			"pid":              os.ModeDir | 0o755,
			"private/echo":     os.ModeSocket | 0o666,
			"private/wake":     os.ModeSocket | 0o666,
			"public/pub":       os.ModeSocket | 0o666,
			"public/postlog":   os.ModeSocket | 0o666,
			"pid/master.pid":   0o600,
			"../etc/master.cf": 0o644,
		}
		for name, want := range modes {
			if got := modeOf(t, filepath.Join(in.queue, name)); got != want {
				t.Errorf("%s: mode %v, want %v", name, got, want)
			}
		}
		if _, err := os.Lstat(filepath.Join(in.queue, "private", "rewrite")); err == nil {
			t.Errorf("a socket was made for the built-in rewrite service")
		}
	})

	t.Run("daemons get their listeners", func(t *testing.T) {
		if got := echoVia(t, "tcp", inet, "hello inet"); got != "hello inet" {
			t.Errorf("inet echo = %q", got)
		}
		if got := echoVia(t, "unix", filepath.Join(in.queue, "private", "echo"), "hello unix"); got != "hello unix" {
			t.Errorf("unix echo = %q", got)
		}
		if got := echoVia(t, "unix", filepath.Join(in.queue, "public", "pub"), "hello public"); got != "hello public" {
			t.Errorf("public echo = %q", got)
		}
		pid := in.childPID(inet, 30*time.Second)
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		want := "echod\x00-c\x00" + in.etc + "\x00-n\x00" + inet + "\x00-t\x00inet\x00-u\x00-p\x00100\x00"
		if string(cmdline) != want {
			t.Errorf("daemon command line %q, want %q", cmdline, want)
		}
	})

	t.Run("built-in service reported once", func(t *testing.T) {
		line := "service rewrite: trivial-rewrite is built into cleanup and qmgr; not started"
		// Logged after "daemon started", when master starts the services.
		if n := strings.Count(in.waitLog(line, 30*time.Second), line); n != 1 {
			t.Errorf("%q logged %d times", line, n)
		}
	})

	t.Run("wakeup triggers the service", func(t *testing.T) {
		pid := in.childPID("wake", 30*time.Second)
		in.waitLog(fmt.Sprintf("echod[%d]: connect from local", pid), 30*time.Second)
	})

	t.Run("killed daemon is restarted", func(t *testing.T) {
		old := in.childPID("echo", 30*time.Second)
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		in.waitLog(fmt.Sprintf("warning: process %s/echod pid %d killed by signal 9", in.daemonDir, old), 30*time.Second)
		// The next client gets a new daemon.
		if got := echoVia(t, "unix", filepath.Join(in.queue, "private", "echo"), "again"); got != "again" {
			t.Errorf("echo after restart = %q", got)
		}
		if pid := in.childPID("echo", 30*time.Second); pid == old {
			t.Errorf("echo daemon %d not replaced", pid)
		}
	})

	t.Run("second start refused", func(t *testing.T) {
		res := in.postfix("start")
		if res.ExitCode != 1 || !strings.Contains(res.Stderr, "postfix/postfix-script: fatal: the Postfix mail system is already running") {
			t.Errorf("postfix start while running: %s", res)
		}
		res = in.master("-d")
		want := "fatal: open lock file " + in.queue + "/pid/master.pid: unable to set exclusive lock: Resource temporarily unavailable"
		if res.ExitCode != 1 || !strings.Contains(res.Stderr, want) {
			t.Errorf("second master: %s\nwant %q", res, want)
		}
		if res := in.master("-t"); res.ExitCode != 1 {
			t.Errorf("master -t while running: %s", res)
		}
	})

	t.Run("reload", func(t *testing.T) {
		oldPub := in.childPID("pub", 30*time.Second)
		oldEcho := in.childPID("echo", 30*time.Second)
		in.writeMasterCF(fmt.Sprintf(`%s inet n - n - - echod
echo unix - - n - - echod
added unix - - n - - echod
rewrite unix - - n - - trivial-rewrite
postlog unix-dgram n - n - 1 postlogd
`, inet))
		in.appendMainCF("inet_interfaces = 127.0.0.1, 127.0.0.2\ninet_protocols = all\n")
		res := in.postfix("reload")
		if res.ExitCode != 0 || !strings.Contains(res.Stderr, "refreshing the Postfix mail system") {
			t.Fatalf("reload: %s", res)
		}
		log := in.waitLog("to change inet_interfaces, stop and start Postfix", 30*time.Second)
		wantLines := []string{
			"reload -- version ",
			"configuration " + in.etc,
			"warning: service " + inet + ": ignoring inet_interfaces change",
			"warning: ignoring inet_protocols parameter value change",
			`warning: old value: "ipv4", new value: "all"`,
			"warning: to change inet_protocols, stop and start Postfix",
		}
		for _, want := range wantLines {
			if !strings.Contains(log, want) {
				t.Errorf("log lacks %q", want)
			}
		}
		waitForPath(t, filepath.Join(in.queue, "private", "added"), 30*time.Second)
		if got := echoVia(t, "unix", filepath.Join(in.queue, "private", "added"), "new service"); got != "new service" {
			t.Errorf("added service echo = %q", got)
		}
		if !daemonGone(oldPub, 30*time.Second) {
			t.Errorf("daemon %d of the removed service pub still runs", oldPub)
		}
		if _, err := os.Lstat(filepath.Join(in.queue, "public", "pub")); err == nil {
			t.Errorf("socket of the removed service pub is still there")
		}
		if !daemonGone(oldEcho, 30*time.Second) {
			t.Errorf("old echo daemon %d did not finish after reload", oldEcho)
		}
		if got := echoVia(t, "unix", filepath.Join(in.queue, "private", "echo"), "after reload"); got != "after reload" {
			t.Errorf("echo after reload = %q", got)
		}
		if n := strings.Count(in.log(), "trivial-rewrite is built into"); n != 1 {
			t.Errorf("built-in service reported %d times after reload", n)
		}
	})

	t.Run("logrotate", func(t *testing.T) {
		res := in.postfix("logrotate")
		if res.ExitCode != 0 || res.Stderr != "" {
			t.Fatalf("logrotate: %s", res)
		}
		rotated, _ := filepath.Glob(in.maillog + ".*.gz")
		if len(rotated) != 1 {
			t.Errorf("compressed old logs: %q, want one", rotated)
		}
		in.waitLog("reload -- version", 30*time.Second) // master reopened the new file
	})

	t.Run("stop", func(t *testing.T) {
		echoVia(t, "unix", filepath.Join(in.queue, "private", "echo"), "before stop")
		child := in.childPID("echo", 30*time.Second)
		res := in.postfix("stop")
		if res.ExitCode != 0 || !strings.Contains(res.Stderr, "stopping the Postfix mail system") {
			t.Errorf("stop: %s", res)
		}
		in.waitLog("terminating on signal 15", 30*time.Second)
		if !daemonGone(in.masterPID, 30*time.Second) || !daemonGone(child, 30*time.Second) {
			t.Errorf("master or its daemon still runs after stop")
		}
		if res := in.postfix("status"); res.ExitCode != 1 {
			t.Errorf("status after stop: %s", res)
		}
		res = in.postfix("stop")
		if res.ExitCode != 1 || !strings.Contains(res.Stderr, "fatal: the Postfix mail system is not running") {
			t.Errorf("second stop: %s", res)
		}
		if res := in.master("-t"); res.ExitCode != 0 {
			t.Errorf("master -t after stop: %s", res)
		}
	})
}

// postlogServiceLine is the postlog line that `postfix check` requires when
// maillog_file is set.
const postlogServiceLine = "postlog unix-dgram n - n - 1 postlogd\n"

func TestMasterRefusesBrokenMasterCF(t *testing.T) {
	in := newMasterRun(t, masterRunOptions{masterCF: "echo unix - - n - - echod\nbroken unix x - n - - echod\n"})
	want := in.etc + `/master.cf: line 2: field "private": bad value: "x"`
	res := in.postfix("start")
	if res.ExitCode != 1 || !strings.Contains(res.Stderr, "fatal: "+want) {
		t.Errorf("postfix start: %s\nwant %q", res, want)
	}
	res = in.master("-d")
	if res.ExitCode != 1 || !strings.Contains(res.Stderr, "postfix/master: fatal: "+want) {
		t.Errorf("master -d: %s\nwant %q", res, want)
	}
	if res := in.postfix("status"); res.ExitCode != 1 {
		t.Errorf("status: %s", res)
	}
	if _, err := os.Lstat(filepath.Join(in.queue, "private", "echo")); err == nil {
		t.Errorf("master created sockets despite the broken master.cf")
	}
}

func TestMasterThrottlesMissingDaemon(t *testing.T) {
	in := newMasterRun(t, masterRunOptions{masterCF: "echo unix - - n - - echod\nbogus unix - - n - - nosuchdaemon\n" + postlogServiceLine})
	in.start()
	// A waiting client makes master start the service, and start it
	// again after each throttle period. The clock starts before the
	// client, so before the first attempt: however late the test sees
	// the lines, three attempts cannot show up sooner than two throttle
	// periods after it.
	start := time.Now()
	waiting, err := net.Dial("unix", filepath.Join(in.queue, "private", "bogus"))
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	throttle := fmt.Sprintf("warning: %s/nosuchdaemon: bad command startup -- throttling", in.daemonDir)
	in.waitLogCount(throttle, 3, 30*time.Second)
	// service_throttle_time = 1s: the third attempt comes 2s after the first.
	if elapsed := time.Since(start); elapsed < 1500*time.Millisecond {
		t.Errorf("3 attempts within %v: not throttled", elapsed)
	}
	spawnFailure := fmt.Sprintf("master_spawn: exec %s/nosuchdaemon: No such file or directory", in.daemonDir)
	if !strings.Contains(in.log(), spawnFailure) {
		t.Errorf("log lacks %q", spawnFailure)
	}
	if res := in.postfix("status"); res.ExitCode != 0 {
		t.Errorf("master did not survive: %s", res)
	}
	if got := echoVia(t, "unix", filepath.Join(in.queue, "private", "echo"), "still here"); got != "still here" {
		t.Errorf("echo = %q", got)
	}
}

func TestPostfixCommandErrors(t *testing.T) {
	in := newMasterRun(t, masterRunOptions{masterCF: "echo unix - - n - - echod\n" + postlogServiceLine})
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"bogus"}, 1, "postfix/postfix-script: fatal: unknown command: 'bogus'. Usage: postfix start (or stop, reload, abort, flush, check, status, set-permissions, upgrade-configuration, logrotate)\n"},
		{[]string{"-x", "status"}, 1, "postfix: invalid option -- 'x'\npostfix: fatal: usage: postfix [-c config_dir] [-Dv] command\n"},
		{[]string{"reload"}, 1, "postfix/postfix-script: fatal: the Postfix mail system is not running\n"},
		{[]string{"abort"}, 1, "postfix/postfix-script: fatal: the Postfix mail system is not running\n"},
		{[]string{"check"}, 0, ""},
		{[]string{"flush"}, 69, "postqueue: warning: unable to look up public/qmgr: No such file or directory\npostqueue: fatal: Cannot flush mail queue - mail system is down\n"},
	}
	for _, tt := range tests {
		res := in.postfix(tt.args...)
		if res.ExitCode != tt.code || res.Stderr != tt.stderr {
			t.Errorf("postfix %s: %s\nwant exit %d, stderr %q", strings.Join(tt.args, " "), res, tt.code, tt.stderr)
		}
	}
	res := harness.Invocation{Path: harness.Bin(t, "postfix"), ConfigDir: filepath.Join(in.base, "nonexistent"), Args: []string{"status"}}.Run(t)
	if want := "postfix: fatal: open " + in.base + "/nonexistent/main.cf: No such file or directory\n"; res.ExitCode != 1 || res.Stderr != want {
		t.Errorf("missing main.cf: %s\nwant %q", res, want)
	}
}

// TestPostfixCheckParameterValues: postfix check refuses a malformed or
// out-of-range parameter value with Postfix's fatal message.
func TestPostfixCheckParameterValues(t *testing.T) {
	for setting, want := range map[string]string{
		"message_size_limit = 10x":   "postfix: fatal: bad numerical configuration: message_size_limit = 10x\n",
		"hash_queue_depth = 0":       "postfix: fatal: invalid hash_queue_depth parameter value 0 < 1\n",
		"smtpd_timeout = 5x":         "postfix: fatal: parameter smtpd_timeout: bad time value or unit: 5x\n",
		"disable_vrfy_command = yep": "postfix: fatal: bad boolean configuration: disable_vrfy_command = yep\n",
	} {
		in := newMasterRun(t, masterRunOptions{masterCF: postlogServiceLine, mainCF: setting + "\n"})
		if res := in.postfix("check"); res.ExitCode != 1 || res.Stderr != want {
			t.Errorf("%s: %s\nwant exit 1, stderr %q", setting, res, want)
		}
	}
}

// TestMasterDebianMasterCF starts Debian's stock master.cf unchanged:
// Postern's own daemons are played by echod except virtual, which is the
// real one and, with no virtual configuration, would fail at start-up
// ("do not specify relative pathname: virtual_mailbox_base ="). The
// services Postern does elsewhere are reported once, services nobody
// uses never start, and nothing restarts in a loop. The stock smtp
// service binds port 25, so this needs root.
func TestMasterDebianMasterCF(t *testing.T) {
	if !canBindPort25() {
		t.Skip("the stock master.cf binds port 25: needs root or a low net.ipv4.ip_unprivileged_port_start")
	}
	stock, err := os.ReadFile("testdata/master/debian-master.cf")
	if err != nil {
		t.Fatal(err)
	}
	// A loopback address of its own, so port 25 is free whatever else runs.
	address := fmt.Sprintf("127.0.%d.%d", os.Getpid()%250+1, time.Now().Nanosecond()%250+2)
	in := newMasterRun(t, masterRunOptions{
		masterCF: string(stock),
		mainCF:   "inet_interfaces = " + address + "\n",
		daemons:  []string{"smtpd", "pickup", "cleanup", "qmgr", "showq", "smtp", "local"},
		asRoot:   true,
	})
	if err := os.Symlink(harness.Bin(t, "virtual"), filepath.Join(in.daemonDir, "virtual")); err != nil {
		t.Fatal(err)
	}
	in.start()
	in.waitLog("daemon started", 30*time.Second)
	if got := echoVia(t, "tcp", address+":25", "stock smtp"); got != "stock smtp" {
		t.Errorf("smtp echo = %q", got)
	}
	time.Sleep(2500 * time.Millisecond) // two throttle periods
	if res := in.postfix("reload"); res.ExitCode != 0 {
		t.Fatalf("reload: %s", res)
	}
	in.waitLog("reload -- version", 30*time.Second)
	time.Sleep(1500 * time.Millisecond)
	log := in.log()
	for _, bad := range []string{"throttling", "exit status", "killed by signal", "fatal:"} {
		if strings.Contains(log, bad) {
			t.Errorf("log has %q:\n%s", bad, log)
		}
	}
	notStarted := []string{
		"service tlsmgr: tlsmgr is built into smtpd and smtp; not started",
		"service rewrite: trivial-rewrite is built into cleanup and qmgr; not started",
		"service bounce: bounce is built into qmgr; not started",
		"service defer: bounce is built into qmgr; not started",
		"service trace: bounce is built into qmgr; not started",
		"service flush: flush is built into qmgr; not started",
		"service proxymap: proxymap is built into every program that reads tables; not started",
		"service proxywrite: proxymap is built into every program that reads tables; not started",
		"service scache: scache is built into smtp; not started",
		"service error: error is built into qmgr; not started",
		"service retry: error is built into qmgr; not started",
		"service discard: discard is built into qmgr; not started",
	}
	for _, line := range notStarted {
		if n := strings.Count(log, line); n != 1 {
			t.Errorf("%q logged %d times, want once", line, n)
		}
	}
	// Postern's own verify, lmtp and pipe are started on demand like any
	// daemon (nobody used them here), so nothing is logged about them.
	for _, service := range []string{"verify", "lmtp", "maildrop"} {
		if strings.Contains(log, "service "+service+":") {
			t.Errorf("log mentions service %s:\n%s", service, log)
		}
	}
	// Started at once: the services with a wakeup time. Nobody used the
	// others since the reload, so they never started (smtp's daemon
	// retired at the reload): with no virtual configuration, virtual(8)
	// would fail at start-up.
	for _, service := range []string{"pickup", "qmgr"} {
		in.childPID(service, 30*time.Second)
	}
	for _, service := range []string{"cleanup", "relay", "local", "virtual", "showq", "anvil"} {
		if pid := findDaemonOf(in.masterPID, service); pid != 0 {
			t.Errorf("daemon %d runs for service %s, which nobody used", pid, service)
		}
	}
}

// canBindPort25 reports whether this process may listen on port 25.
func canBindPort25() bool {
	if os.Geteuid() == 0 {
		return true
	}
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	if err != nil {
		return false
	}
	start, err := strconv.Atoi(strings.TrimSpace(string(data)))
	return err == nil && start <= 25
}

// TestMasterChrootedService checks, as root, that a chroot=y unpriv=y
// service runs inside queue_directory as mail_owner with no capabilities.
func TestMasterChrootedService(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot and privilege drop need root")
	}
	in := newMasterRun(t, masterRunOptions{masterCF: "jail unix - - y - - echod\n" + postlogServiceLine, asRoot: true})
	in.start()
	// An answer means the daemon finished its start-up (chroot, setuid).
	if got := echoVia(t, "unix", filepath.Join(in.queue, "private", "jail"), "jailed"); got != "jailed" {
		t.Errorf("echo = %q", got)
	}
	pid := in.childPID("jail", 30*time.Second)
	root, err := os.Readlink(fmt.Sprintf("/proc/%d/root", pid))
	if err != nil {
		t.Fatal(err)
	}
	if root != in.queue {
		t.Errorf("/proc/%d/root = %s, want %s", pid, root, in.queue)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	uid := uidOf(t, "postfix")
	fields := map[string]*regexp.Regexp{
		"Uid":    regexp.MustCompile(`(?m)^Uid:\s+` + uid + `\s+` + uid + `\s+` + uid + `\s+` + uid + `$`),
		"CapEff": regexp.MustCompile(`(?m)^CapEff:\s+0+$`),
		"CapPrm": regexp.MustCompile(`(?m)^CapPrm:\s+0+$`),
	}
	for name, re := range fields {
		if !re.Match(status) {
			t.Errorf("/proc/%d/status %s is not as expected:\n%s", pid, name, status)
		}
	}
}

func uidOf(t *testing.T, name string) string {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Skipf("no user %s: %v", name, err)
	}
	return u.Uid
}

func TestMasterStartupFailure(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	in := newMasterRun(t, masterRunOptions{masterCF: busy.Addr().String() + " inet n - n - - echod\n" + postlogServiceLine})
	res := in.postfix("start")
	if res.ExitCode != 1 || !strings.Contains(res.Stderr, "postfix/postfix-script: fatal: mail system startup failed") {
		t.Errorf("postfix start: %s", res)
	}
	_, port, _ := net.SplitHostPort(busy.Addr().String())
	reason := "fatal: bind 127.0.0.1 port " + port + ": Address already in use"
	if !strings.Contains(res.Stderr, "postfix/master: "+reason) {
		t.Errorf("postfix start does not show why: %s", res)
	}
	want := regexp.MustCompile(`postfix/master\[\d+\]: ` + regexp.QuoteMeta(reason))
	if !want.MatchString(in.log()) {
		t.Errorf("log lacks %v:\n%s", want, in.log())
	}
	if res := in.postfix("status"); res.ExitCode != 1 {
		t.Errorf("status: %s", res)
	}
}

// TestPostfixStartForeground runs `postfix start-fg`, which becomes
// master in the foreground, and ends it with `postfix abort`.
func TestPostfixStartForeground(t *testing.T) {
	in := newMasterRun(t, masterRunOptions{masterCF: "echo unix - n n - - echod\n" + postlogServiceLine, asRoot: true})
	cmd := exec.Command(harness.Bin(t, "postfix"), "-c", in.etc, "start-fg")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in.masterPID = cmd.Process.Pid // cleaned up with its group
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	in.waitLog("daemon started", 30*time.Second)
	if res := in.postfix("status"); res.ExitCode != 0 || !strings.Contains(res.Stderr, fmt.Sprintf("PID: %d", cmd.Process.Pid)) {
		t.Errorf("status: %s (want the start-fg process %d as master)", res, cmd.Process.Pid)
	}
	if got := echoVia(t, "unix", filepath.Join(in.queue, "private", "echo"), "fg"); got != "fg" {
		t.Errorf("echo = %q", got)
	}
	if res := in.postfix("abort"); res.ExitCode != 0 || !strings.Contains(res.Stderr, "aborting the Postfix mail system") {
		t.Errorf("abort: %s", res)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("start-fg ended with %v, want exit 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("start-fg still runs after abort")
	}
}

// TestPostlogdDaemon: master starts postlogd for the postlog service like
// any other daemon; it opens maillog_file as root, then runs as mail_owner,
// and after `postfix logrotate` the daemons' lines go to the new file.
func TestPostlogdDaemon(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the privilege drop needs root")
	}
	in := newMasterRun(t, masterRunOptions{masterCF: "echo unix - - n - - echod\n" + postlogServiceLine, asRoot: true})
	in.start()
	sock := filepath.Join(in.queue, "private", "echo")
	echoVia(t, "unix", sock, "first")
	in.waitLog("connect from", 30*time.Second) // echod's line, through postlogd
	pid := in.childPID("postlog", 30*time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	uid := uidOf(t, "postfix")
	if !regexp.MustCompile(`(?m)^Uid:\s+` + uid + `\s+` + uid + `\s+` + uid + `\s+` + uid + `$`).Match(status) {
		t.Errorf("postlogd %d does not run as mail_owner:\n%s", pid, status)
	}
	if info, err := os.Stat(in.maillog); err != nil || info.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("maillog_file is not root's: %v", err)
	}

	if res := in.postfix("logrotate"); res.ExitCode != 0 || res.Stderr != "" {
		t.Fatalf("logrotate: %s", res)
	}
	in.waitLog("reload -- version", 30*time.Second)
	echoVia(t, "unix", sock, "second")
	log := in.waitLog("connect from", 30*time.Second)
	if strings.Contains(log, "daemon started") {
		t.Errorf("the new file has lines of the old one:\n%s", log)
	}
}
