// Helpers for the master and postfix command tests: a throw-away Postern instance run by `postfix start`.

package tests

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// masterEchodOnce builds the test service tests/testdata/echod into the
// harness's binary directory, once per test binary run, unless that
// directory (POSTERN_BIN) already has one.
var (
	masterEchodOnce sync.Once
	masterEchodErr  error
)

func masterEchodBinary(t *testing.T) string {
	t.Helper()
	dir := harness.BinDir(t)
	masterEchodOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "echod")); err == nil {
			return
		}
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		out, err := exec.Command(goTool, "build", "-o", filepath.Join(dir, "echod"), "./testdata/echod").CombinedOutput()
		if err != nil {
			masterEchodErr = fmt.Errorf("build echod: %v\n%s", err, out)
		}
	})
	if masterEchodErr != nil {
		t.Fatal(masterEchodErr)
	}
	return filepath.Join(dir, "echod")
}

// masterRun is one Postern installation in a temporary directory: config
// in etc/, queue in spool/, daemons (links to the built binaries) in
// daemons/, log in maillog.
type masterRun struct {
	t         *testing.T
	base      string
	etc       string
	queue     string
	daemonDir string
	maillog   string
	asUser    string // who runs postfix and master ("" = the test's user)
	masterPID int
}

// masterRunOptions shape newMasterRun.
type masterRunOptions struct {
	masterCF string
	mainCF   string // extra main.cf lines
	// daemons lists daemon_directory names that are links to echod.
	daemons []string
	// asRoot keeps master running as root even when the test is root;
	// otherwise a root test runs it as harness.UnprivilegedUser.
	asRoot bool
}

func newMasterRun(t *testing.T, opts masterRunOptions) *masterRun {
	t.Helper()
	// Reachable by the unprivileged user and by mail_owner after chroot.
	base := harness.SharedTempDir(t)
	in := &masterRun{
		t:         t,
		base:      base,
		etc:       filepath.Join(base, "etc"),
		queue:     filepath.Join(base, "spool"),
		daemonDir: filepath.Join(base, "daemons"),
		maillog:   filepath.Join(base, "maillog"),
	}
	echod := masterEchodBinary(t)
	if err := os.MkdirAll(in.daemonDir, 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{"master": harness.Bin(t, "master"), "postlogd": harness.Bin(t, "postlogd")}
	for _, name := range append([]string{"echod"}, opts.daemons...) {
		links[name] = echod
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(in.daemonDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	harness.WriteFile(t, filepath.Join(in.etc, "main.cf"), fmt.Sprintf(`queue_directory = %s
data_directory = %s/data
daemon_directory = %s
command_directory = %s
maillog_file = %s
maillog_file_prefixes = %s
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
service_throttle_time = 1s
%s%s`, in.queue, base, in.daemonDir, in.daemonDir, in.maillog, base, noQmgrFlow(opts.masterCF), opts.mainCF))
	in.writeMasterCF(opts.masterCF)
	if !opts.asRoot {
		in.asUser = harness.Unprivileged(t, base)
	}
	t.Cleanup(in.kill)
	return in
}

// noQmgrFlow turns the input flow control off (in_flow_delay = 0) in an
// instance whose master.cf has no qmgr: nobody puts tokens in there, so
// cleanup would pause a second for every message, as Postfix's does.
// A later main.cf setting wins (TestInFlowDelayPausesWithoutQmgr).
func noQmgrFlow(masterCF string) string {
	if strings.Contains(masterCF, " qmgr") {
		return ""
	}
	return "in_flow_delay = 0\n"
}

// linkDaemons puts links to the Postern programs names (harness.Bin)
// into the daemon directory.
func (in *masterRun) linkDaemons(names ...string) {
	in.t.Helper()
	for _, name := range names {
		if err := os.Symlink(harness.Bin(in.t, name), filepath.Join(in.daemonDir, name)); err != nil {
			in.t.Fatal(err)
		}
	}
}

// writeMasterCF replaces master.cf.
func (in *masterRun) writeMasterCF(content string) {
	in.t.Helper()
	harness.WriteFile(in.t, filepath.Join(in.etc, "master.cf"), content)
	in.giveAway(filepath.Join(in.etc, "master.cf"))
}

// appendMainCF appends lines to main.cf (a later setting wins).
func (in *masterRun) appendMainCF(lines string) {
	in.t.Helper()
	path := filepath.Join(in.etc, "main.cf")
	data, err := os.ReadFile(path)
	if err != nil {
		in.t.Fatal(err)
	}
	harness.WriteFile(in.t, path, string(data)+lines)
	in.giveAway(path)
}

func (in *masterRun) giveAway(path string) {
	if in.asUser != "" {
		harness.Unprivileged(in.t, path)
	}
}

// postfix runs the postfix command with args.
func (in *masterRun) postfix(args ...string) harness.Result {
	in.t.Helper()
	return harness.Invocation{Path: harness.Bin(in.t, "postfix"), ConfigDir: in.etc, Args: args, AsUser: in.asUser}.Run(in.t)
}

// master runs the master binary itself with args (it must exit by itself).
func (in *masterRun) master(args ...string) harness.Result {
	in.t.Helper()
	return harness.Invocation{Path: harness.Bin(in.t, "master"), ConfigDir: in.etc, Args: args, AsUser: in.asUser, Timeout: 30 * time.Second}.Run(in.t)
}

// start runs `postfix start`, requires success and notes master's pid.
func (in *masterRun) start() {
	in.t.Helper()
	res := in.postfix("start")
	if res.ExitCode != 0 {
		in.t.Fatalf("postfix start: %s\nlog:\n%s", res, in.log())
	}
	pid, err := readMasterPID(filepath.Join(in.queue, "pid", "master.pid"))
	if err != nil {
		in.t.Fatal(err)
	}
	in.masterPID = pid
}

// kill ends master's process group (master and every daemon) at once,
// and waits until they are gone: a kill is asynchronous, and a daemon
// still creating a file while the test's directory is removed would fail
// the test.
func (in *masterRun) kill() {
	if in.masterPID > 0 {
		syscall.Kill(-in.masterPID, syscall.SIGKILL)
		daemonGone(in.masterPID, 30*time.Second)
		processesLeft(in.etc, 30*time.Second)
	}
}

func readMasterPID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// log returns the maillog so far.
func (in *masterRun) log() string {
	data, _ := os.ReadFile(in.maillog)
	return string(data)
}

// waitLog waits until the log contains text and returns the log.
func (in *masterRun) waitLog(text string, timeout time.Duration) string {
	in.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		log := in.log()
		if strings.Contains(log, text) {
			return log
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("log lacks %q after %v:\n%s", text, timeout, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLogCount waits until text occurs at least n times in the log.
func (in *masterRun) waitLogCount(text string, n int, timeout time.Duration) string {
	in.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		log := in.log()
		if strings.Count(log, text) >= n {
			return log
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("log has %q %d times after %v, want %d:\n%s", text, strings.Count(log, text), timeout, n, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// childPID waits for master's daemon for service (argv "-n service") and
// returns its pid.
func (in *masterRun) childPID(service string, timeout time.Duration) int {
	in.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if pid := findDaemonOf(in.masterPID, service); pid != 0 {
			return pid
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("no daemon for service %s under master %d after %v", service, in.masterPID, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// findDaemonOf scans /proc for a child of parent started with "-n service".
func findDaemonOf(parent int, service string) int {
	if pids := findDaemonsOf(parent, service); len(pids) > 0 {
		return pids[0]
	}
	return 0
}

// findDaemonsOf returns the PIDs of every child of parent started for
// service (argument "-n service").
func findDaemonsOf(parent int, service string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(string(cmdline), "\x00")
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-n" && args[i+1] == service {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// daemonGone waits until pid no longer exists (or is a zombie).
func daemonGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 0 && fields[0] == "Z" {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// echoVia sends a line to a stream service and returns what came back.
func echoVia(t *testing.T, network, address, line string) string {
	t.Helper()
	// A socket master has just made may not listen yet: its file appears
	// at bind, before listen, and connecting in between is refused.
	deadline := time.Now().Add(30 * time.Second)
	conn, err := net.DialTimeout(network, address, 30*time.Second)
	for err != nil && errors.Is(err, syscall.ECONNREFUSED) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		conn, err = net.DialTimeout(network, address, 30*time.Second)
	}
	if err != nil {
		t.Fatalf("connect to %s %s: %v", network, address, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(conn, "%s\n", line); err != nil {
		t.Fatalf("write to %s: %v", address, err)
	}
	buf := make([]byte, len(line)+1)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read from %s: %v", address, err)
	}
	return strings.TrimSuffix(string(buf[:n]), "\n")
}

// modeOf returns path's type and permission bits.
func modeOf(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return fi.Mode() & (os.ModeType | os.ModePerm)
}

// waitForPath waits until path exists.
func waitForPath(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Lstat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not exist after %v", path, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
