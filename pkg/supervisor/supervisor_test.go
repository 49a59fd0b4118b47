package supervisor

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/maillog"
)

// testDaemonVariable makes the test binary act as a daemon started by
// master: "echo" serves its listener, "fail" exits before reporting ready.
const testDaemonVariable = "SUPERVISOR_TEST_DAEMON"

func TestMain(m *testing.M) {
	if os.Getenv(testDaemonVariable) != "" {
		os.Exit(runTestDaemon(filepath.Base(os.Args[0])))
	}
	os.Exit(m.Run())
}

// runTestDaemon follows the daemon side of the contract: listener on fd
// 3, "ready" on fd 4, echo lines until SIGTERM or SIGHUP. "retire" serves
// one client only: it says "retiring" once it has it, and exits when that
// session ends.
func runTestDaemon(name string) int {
	if name == "fail" {
		return 1
	}
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		return 1
	}
	status := os.NewFile(4, "status")
	status.WriteString(readyLine)
	if name == "retire" {
		conn, err := l.Accept()
		if err != nil {
			return 1
		}
		l.Close()
		status.WriteString(retiringLine)
		echo(conn)
		return 0
	}
	status.Close()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-stop
		os.Exit(0)
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			return 1
		}
		go echo(conn)
	}
}

// echo sends back each line read from conn until the client hangs up.
func echo(conn net.Conn) {
	defer conn.Close()
	lines := bufio.NewScanner(conn)
	for lines.Scan() {
		fmt.Fprintf(conn, "%s\n", lines.Text())
	}
}

// testSupervisor starts a Supervisor on masterCF with the test binary as
// its daemons, and returns it with its queue directory and log file.
func testSupervisor(t *testing.T, masterCF string) (s *Supervisor, queue, logFile string, done chan struct{}) {
	t.Helper()
	t.Setenv(testDaemonVariable, "1")
	base := sockdir.New(t)
	etc, daemons := filepath.Join(base, "etc"), filepath.Join(base, "daemons")
	queue, logFile = filepath.Join(base, "spool"), filepath.Join(base, "maillog")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{etc, daemons} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"echo", "fail", "retire"} {
		if err := os.Symlink(self, filepath.Join(daemons, name)); err != nil {
			t.Fatal(err)
		}
	}
	// As root, master gives what it creates to mail_owner.
	mainCF := fmt.Sprintf("queue_directory = %s\ndaemon_directory = %s\nservice_throttle_time = 1s\nmail_owner = nobody\nsetgid_group = root\n",
		queue, daemons)
	write(t, filepath.Join(etc, "main.cf"), mainCF)
	write(t, filepath.Join(etc, "master.cf"), masterCF)
	log, err := maillog.New(maillog.Options{Program: "master", File: logFile, FilePrefixes: base})
	if err != nil {
		t.Fatal(err)
	}
	s, err = New(etc, log)
	if err != nil {
		t.Fatal(err)
	}
	done = make(chan struct{})
	go func() {
		s.Run()
		close(done)
	}()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			<-done
		}
	})
	return s, queue, logFile, done
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func logHas(logFile, text string) func() bool {
	return func() bool {
		data, _ := os.ReadFile(logFile)
		return strings.Contains(string(data), text)
	}
}

func echoLine(t *testing.T, path, line string) string {
	t.Helper()
	conn, err := net.DialTimeout("unix", path, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "%s\n", line)
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(reply, "\n")
}

func TestSupervisorRestartsAndThrottles(t *testing.T) {
	_, queue, logFile, done := testSupervisor(t, "svc unix - n n - - echo\nbroken unix - n n - - fail\n")
	socket := filepath.Join(queue, "private", "svc")
	if got := echoLine(t, socket, "one"); got != "one" {
		t.Fatalf("echo = %q", got)
	}
	// A client waiting on the broken service makes master start it.
	waiting, err := net.Dial("unix", filepath.Join(queue, "private", "broken"))
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	waitFor(t, "throttling of the failing daemon", logHas(logFile, "/fail: bad command startup -- throttling"))
	waitFor(t, "its exit status", logHas(logFile, "/fail pid "))

	pid := findTestChild(t, "svc")
	time.Sleep(crashWindow) // so the kill is not taken for a start-up crash
	syscall.Kill(pid, syscall.SIGKILL)
	waitFor(t, "the kill warning", logHas(logFile, fmt.Sprintf("pid %d killed by signal 9", pid)))
	if got := echoLine(t, socket, "two"); got != "two" {
		t.Errorf("echo after restart = %q", got)
	}
	restarted := findTestChild(t, "svc")
	if restarted == pid {
		t.Fatalf("daemon %d was not replaced", pid)
	}
	data, _ := os.ReadFile(logFile)
	if strings.Contains(string(data), "/echo: bad command startup") {
		t.Errorf("a daemon killed after it started was throttled:\n%s", data)
	}

	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after SIGTERM")
	}
	waitFor(t, "the terminating line", logHas(logFile, "terminating on signal 15"))
	// Run waits stopGrace for its daemons to exit, then kills those left
	// without waiting for them to die.
	waitFor(t, fmt.Sprintf("daemon %d to end after SIGTERM to master", restarted), func() bool { return !processExists(restarted) })
}

func TestSupervisorReload(t *testing.T) {
	_, queue, logFile, _ := testSupervisor(t, "svc unix - n n - - echo\ngone unix n n n - - echo\nsingle unix - n n - 1 echo\n")
	echoLine(t, filepath.Join(queue, "private", "svc"), "start")
	echoLine(t, filepath.Join(queue, "public", "gone"), "start")
	echoLine(t, filepath.Join(queue, "private", "single"), "start")
	old := findTestChild(t, "svc")
	gone := findTestChild(t, "gone")
	oldSingle := findTestChild(t, "single")
	write(t, filepath.Join(filepath.Dir(queue), "etc", "master.cf"), "svc unix - n n - - echo\nadded unix - n n - - echo\nsingle unix - n n - 1 echo\n")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitFor(t, "the reload line", logHas(logFile, "reload -- version "))
	added := filepath.Join(queue, "private", "added")
	// The socket file appears at bind, a moment before listen.
	waitFor(t, "the added socket", func() bool {
		c, err := net.Dial("unix", added)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if got := echoLine(t, added, "new"); got != "new" {
		t.Errorf("echo on added service = %q", got)
	}
	waitFor(t, "the removed service's daemon to end", func() bool { return !processExists(gone) })
	waitFor(t, "the old daemon to finish", func() bool { return !processExists(old) })
	if _, err := os.Lstat(filepath.Join(queue, "public", "gone")); err == nil {
		t.Errorf("socket of the removed service remains")
	}
	if got := echoLine(t, filepath.Join(queue, "private", "svc"), "kept"); got != "kept" {
		t.Errorf("echo on kept service = %q", got)
	}
	waitFor(t, "the single-process service's old daemon to end", func() bool { return !processExists(oldSingle) })
	if got := echoLine(t, filepath.Join(queue, "private", "single"), "one at a time"); got != "one at a time" {
		t.Errorf("echo on single-process service = %q", got)
	}
	if pid := findTestChild(t, "single"); pid == oldSingle {
		t.Errorf("single-process service not replaced")
	}
}

// findTestChild waits for this process's daemon for service and returns
// its pid.
func findTestChild(t *testing.T, service string) int {
	t.Helper()
	var pid int
	waitFor(t, "the daemon of "+service, func() bool {
		pid = testChild(service)
		return pid != 0
	})
	return pid
}

// testChild returns the pid of this process's daemon for service, or 0.
func testChild(service string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "\x00-n\x00"+service+"\x00") {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 && fields[1] == fmt.Sprint(os.Getpid()) && fields[0] != "Z" {
			var pid int
			fmt.Sscan(e.Name(), &pid)
			return pid
		}
	}
	return 0
}

// processExists reports whether pid runs (and is not a zombie).
func processExists(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// TestSupervisorStartsOnDemand checks that a service's daemon starts only
// when its listener has a client, and that a service with a wakeup time
// starts at once.
func TestSupervisorStartsOnDemand(t *testing.T) {
	_, queue, _, _ := testSupervisor(t, "idle unix - n n - - echo\nused unix - n n - - echo\nwoken unix - n n 3600 1 echo\n")
	findTestChild(t, "woken")
	if got := echoLine(t, filepath.Join(queue, "private", "used"), "hello"); got != "hello" {
		t.Errorf("echo = %q", got)
	}
	findTestChild(t, "used")
	if pid := testChild("idle"); pid != 0 {
		t.Errorf("daemon %d runs for a service nobody used", pid)
	}
}

// TestSupervisorSuccessorWhileDraining checks that once the accepting
// daemon says it is retiring, master starts a successor for the next
// client while the old one still serves its session.
func TestSupervisorSuccessorWhileDraining(t *testing.T) {
	_, queue, _, _ := testSupervisor(t, "svc unix - n n - - retire\n")
	socket := filepath.Join(queue, "private", "svc")
	var clients []net.Conn
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i := 0; i < 3; i++ {
		conn, err := net.DialTimeout("unix", socket, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, conn)
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		line := fmt.Sprintf("client %d", i)
		fmt.Fprintf(conn, "%s\n", line)
		reply, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || reply != line+"\n" {
			t.Fatalf("%s: got %q, %v while the earlier sessions are open", line, reply, err)
		}
	}
}
