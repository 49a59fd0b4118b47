// Test harness: builds echod and triggerd and starts them with fds 3, 4 and 5 as master does.

package daemon

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/privs"
)

// testBinDir holds the test daemons built by TestMain.
var testBinDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "postern-daemon-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The binaries must be reachable by mail_owner after the drop.
	os.Chmod(dir, 0o755)
	build := exec.Command("go", "build", "-o", dir+"/",
		"github.com/postern/postern/tests/testdata/echod",
		"github.com/postern/postern/tests/testdata/triggerd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test daemons: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	testBinDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testDaemon is a started test daemon.
type testDaemon struct {
	t       *testing.T
	cmd     *exec.Cmd
	dir     string // config dir, queue dir and sockets live under it
	queue   string
	logPath string
	sock    string // the listener's address (unix path or host:port)
	network string
	ready   *bufio.Reader
	exited  chan error
	// masterEnd is the write end of the status pipe the daemon has as fd 5:
	// closing it is what master's death looks like to the daemon.
	masterEnd *os.File
}

// daemonSetup says how to start a test daemon.
type daemonSetup struct {
	program  string      // "echod" or "triggerd"
	network  string      // "unix" (default) or "tcp"
	args     []string    // after -c, -n and -t
	mainCF   string      // extra main.cf lines
	noMaster bool        // leave POSTERN_MASTER unset
	noStatus bool        // give no master status pipe as fd 5
	runAs    *privs.User // start as this user (the test runs as root)
}

// newTestDir returns a temporary directory that mail_owner can enter,
// short enough for the daemon's sockets.
func newTestDir(t *testing.T) string {
	dir := sockdir.New(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startDaemon writes main.cf, creates the listener and execs the daemon.
func startDaemon(t *testing.T, s daemonSetup) *testDaemon {
	t.Helper()
	dir := newTestDir(t)
	td := &testDaemon{t: t, dir: dir, queue: filepath.Join(dir, "spool"), logPath: filepath.Join(dir, "maillog"), network: s.network, exited: make(chan error, 1)}
	if td.network == "" {
		td.network = "unix"
	}
	if err := os.Mkdir(td.queue, 0o755); err != nil {
		t.Fatal(err)
	}
	mainCF := fmt.Sprintf("queue_directory = %s\nmaillog_file = %s\nmaillog_file_prefixes = %s\n%s", td.queue, td.logPath, dir, s.mainCF)
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	var lnFile *os.File
	transport := "unix"
	if td.network == "tcp" {
		transport = "inet"
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		td.sock = ln.Addr().String()
		lnFile, _ = ln.File()
		ln.Close()
	} else {
		td.sock = filepath.Join(dir, s.program+".sock")
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: td.sock, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false)
		lnFile, _ = ln.File()
		ln.Close()
	}
	// The test keeps its copy of the listener open, as master does.
	t.Cleanup(func() { lnFile.Close() })
	readyR, readyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-c", dir, "-n", s.program, "-t", transport}, s.args...)
	td.cmd = exec.Command(filepath.Join(testBinDir, s.program), args...)
	td.cmd.ExtraFiles = []*os.File{lnFile, readyW}
	if !s.noStatus {
		statusR, statusW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		td.masterEnd = statusW
		t.Cleanup(func() { statusW.Close() })
		defer statusR.Close() // only the daemon keeps the read end
		td.cmd.ExtraFiles = append(td.cmd.ExtraFiles, statusR)
	}
	td.cmd.Env = append(os.Environ(), "MAIL_CONFIG="+dir)
	if !s.noMaster {
		td.cmd.Env = append(td.cmd.Env, MasterEnv+"=1")
	}
	if s.runAs != nil {
		for _, p := range []string{dir, td.queue} {
			if err := os.Chown(p, s.runAs.UID, s.runAs.GID); err != nil {
				t.Fatal(err)
			}
		}
		td.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(s.runAs.UID), Gid: uint32(s.runAs.GID)}}
	}
	var stderr strings.Builder
	td.cmd.Stderr = &stderr
	if err := td.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	readyW.Close()
	td.ready = bufio.NewReader(readyR)
	go func() { td.exited <- td.cmd.Wait(); readyR.Close() }()
	t.Cleanup(func() {
		td.cmd.Process.Kill()
		<-td.exited
		if t.Failed() {
			t.Logf("daemon stderr:\n%s\nmaillog:\n%s", stderr.String(), td.log())
		}
	})
	return td
}

// waitReady waits for the "ready" line on the status pipe.
func (td *testDaemon) waitReady() {
	td.t.Helper()
	td.waitStatus("ready\n")
}

// waitStatus waits for the next line the daemon writes to master's status
// pipe and checks that it is want.
func (td *testDaemon) waitStatus(want string) {
	td.t.Helper()
	line := make(chan string, 1)
	go func() {
		s, _ := td.ready.ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if s != want {
			td.t.Fatalf("status pipe gave %q, want %q", s, want)
		}
	case <-time.After(patience):
		td.t.Fatalf("no %q on the status pipe within %v", want, patience)
	}
}

// patience bounds every wait for something the daemon does on its own
// time: generous, for a slow and loaded machine.
const patience = 30 * time.Second

// waitExit waits for the daemon to end and returns its exit status.
func (td *testDaemon) waitExit(within time.Duration) int {
	td.t.Helper()
	select {
	case err := <-td.exited:
		td.exited <- err // for the cleanup
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		td.t.Fatalf("wait: %v", err)
	case <-time.After(within):
		td.t.Fatalf("daemon still running after %v", within)
	}
	return -1
}

// running reports whether the daemon has not exited yet.
func (td *testDaemon) running() bool {
	select {
	case err := <-td.exited:
		td.exited <- err
		return false
	default:
		return true
	}
}

func (td *testDaemon) signal(sig syscall.Signal) {
	td.t.Helper()
	if err := td.cmd.Process.Signal(sig); err != nil {
		td.t.Fatal(err)
	}
}

func (td *testDaemon) log() string {
	data, _ := os.ReadFile(td.logPath)
	return string(data)
}

// waitLog waits until the log contains text.
func (td *testDaemon) waitLog(text string) {
	td.t.Helper()
	deadline := time.Now().Add(patience)
	for !strings.Contains(td.log(), text) {
		if time.Now().After(deadline) {
			td.t.Fatalf("log lacks %q:\n%s", text, td.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echoClient is one connection to echod.
type echoClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func (td *testDaemon) dial() *echoClient {
	td.t.Helper()
	conn, err := net.Dial(td.network, td.sock)
	if err != nil {
		td.t.Fatal(err)
	}
	td.t.Cleanup(func() { conn.Close() })
	return &echoClient{t: td.t, conn: conn, r: bufio.NewReader(conn)}
}

// echo sends line and returns what came back within wait ("" on timeout),
// and the read error.
func (c *echoClient) echo(line string, wait time.Duration) (string, error) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(line + "\n")); err != nil {
		return "", err
	}
	return c.readLine(wait)
}

func (c *echoClient) readLine(wait time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	s, err := c.r.ReadString('\n')
	return strings.TrimSuffix(s, "\n"), err
}

// mustEcho checks that line comes back.
func (c *echoClient) mustEcho(line string) {
	c.t.Helper()
	got, err := c.echo(line, patience)
	if err != nil || got != line {
		c.t.Fatalf("echo of %q gave %q, %v", line, got, err)
	}
}

// mustNotEcho checks that nothing comes back for a while: the connection
// waits in the listen queue.
func (c *echoClient) mustNotEcho(line string) {
	c.t.Helper()
	if got, err := c.echo(line, 300*time.Millisecond); !isTimeout(err) {
		c.t.Fatalf("echo of %q gave %q, %v; want no answer yet", line, got, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// newCommand is exec.Command with the test's environment minus
// POSTERN_MASTER, for stand-alone runs.
func newCommand(path string, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, MasterEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}
