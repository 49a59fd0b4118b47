// Tests of the Logger with real files, processes and datagram sockets.

package maillog

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"golang.org/x/sys/unix"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, time.November, 28, 13, 1, 26, 0, time.Local)}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFileLogger(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "maillog")
	var stderr bytes.Buffer
	var exitCode []int
	var slept time.Duration
	l, err := New(Options{
		Program:      "/usr/libexec/postern/postmap",
		Hostname:     "mx.test.example",
		File:         path,
		FilePrefixes: dir,
		Stderr:       &stderr,
		Now:          newClock().Now,
		PID:          7751,
		Sleep:        func(d time.Duration) { slept += d },
		Exit:         func(code int) { exitCode = append(exitCode, code) },
	})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("%d entries", 3)
	l.Warning("hash:%s is older than source", "/etc/postfix/x")
	l.Error("e")
	l.Fatal("open %s: %s", "/nonexist", "No such file or directory")
	want := "Nov 28 13:01:26 mx postfix/postmap[7751]: 3 entries\n" +
		"Nov 28 13:01:26 mx postfix/postmap[7751]: warning: hash:/etc/postfix/x is older than source\n" +
		"Nov 28 13:01:26 mx postfix/postmap[7751]: error: e\n" +
		"Nov 28 13:01:26 mx postfix/postmap[7751]: fatal: open /nonexist: No such file or directory\n"
	if got := readFile(t, path); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	wantStderr := "postmap: 3 entries\n" +
		"postmap: warning: hash:/etc/postfix/x is older than source\n" +
		"postmap: error: e\n" +
		"postmap: fatal: open /nonexist: No such file or directory\n"
	if stderr.String() != wantStderr {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), wantStderr)
	}
	if len(exitCode) != 1 || exitCode[0] != 1 || slept != FatalPause {
		t.Errorf("Fatal exit codes %v after %v, want [1] after %v", exitCode, slept, FatalPause)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644&^currentUmask() {
		t.Errorf("file mode %v, %v", info.Mode(), err)
	}
}

func currentUmask() os.FileMode {
	old := unix.Umask(0)
	unix.Umask(old)
	return os.FileMode(old)
}

func TestTagOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Program: "smtpd"}, "postfix/smtpd"},
		{Options{Program: "smtpd", SyslogName: "postfix/submission"}, "postfix/submission/smtpd"},
		{Options{Program: "postlog", Tag: "mytest"}, "mytest"},
	}
	for i, tt := range tests {
		tt.opts.File = filepath.Join(dir, strconv.Itoa(i))
		tt.opts.FilePrefixes = dir
		tt.opts.Hostname = "mx"
		tt.opts.PID = 1
		tt.opts.Now = newClock().Now
		l, err := New(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		l.Info("x")
		l.Close()
		if got, want := readFile(t, tt.opts.File), "Nov 28 13:01:26 mx "+tt.want+"[1]: x\n"; got != want || l.Tag() != tt.want {
			t.Errorf("%+v: logged %q (tag %q), want %q", tt.opts, got, l.Tag(), want)
		}
	}
}

// TestForProgram: the Logger ForProgram returns writes to the same file
// with the same syslog_name and PID, under the other program's name, and
// keeps working after the file was reopened through the first Logger.
func TestForProgram(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "maillog")
	l, err := New(Options{
		Program: "/usr/lib/postfix/sbin/qmgr", SyslogName: "postfix/out", Hostname: "mx.test.example",
		File: path, FilePrefixes: dir, Now: newClock().Now, PID: 412,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	bounce := l.ForProgram("bounce")
	l.Info("4B0C1985303: from=<a@example.org>, size=310, nrcpt=1 (queue active)")
	bounce.Info("4B0C1985303: sender non-delivery notification: 5D2A1985305")
	if err := os.Rename(path, path+".0"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	bounce.Warning("after reopen")
	want := "Nov 28 13:01:26 mx postfix/out/qmgr[412]: 4B0C1985303: from=<a@example.org>, size=310, nrcpt=1 (queue active)\n" +
		"Nov 28 13:01:26 mx postfix/out/bounce[412]: 4B0C1985303: sender non-delivery notification: 5D2A1985305\n"
	if got := readFile(t, path+".0"); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if got, want := readFile(t, path), "Nov 28 13:01:26 mx postfix/out/bounce[412]: warning: after reopen\n"; got != want {
		t.Errorf("reopened file: %q, want %q", got, want)
	}
	if bounce.Tag() != "postfix/out/bounce" {
		t.Errorf("tag %q", bounce.Tag())
	}
}

func TestNewRejects(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"file outside prefixes", Options{File: "/tmp/x", FilePrefixes: DefaultFilePrefixes},
			"maillog_file value '/tmp/x' does not match any prefix in maillog_file_prefixes"},
		{"unwritable file", Options{File: filepath.Join(dir, "no/such/dir/log"), FilePrefixes: dir},
			"open " + filepath.Join(dir, "no/such/dir/log") + ": no such file or directory"},
		{"facility", Options{SyslogFacility: "bogus", SyslogSocket: filepath.Join(dir, "log")},
			"parameter syslog_facility: unrecognized value: bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.opts)
			if err == nil {
				l.Close()
				t.Fatal("New succeeded")
			}
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "maillog")
	clock := newClock()
	l, err := New(Options{Program: "qmgr", Hostname: "mx", File: path, FilePrefixes: dir, Now: clock.Now, PID: 9})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	l.Info("one")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.Info("two") // within the recheck interval: still the renamed file
	clock.Advance(fileRecheckInterval)
	l.Info("three") // noticed the rename
	if err := os.Rename(path, path+".2"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil { // postfix logrotate
		t.Fatal(err)
	}
	l.Info("four")

	line := func(text string) string { return "Nov 28 13:01:26 mx postfix/qmgr[9]: " + text + "\n" }
	later := func(text string) string { return "Nov 28 13:01:27 mx postfix/qmgr[9]: " + text + "\n" }
	for file, want := range map[string]string{
		path + ".1": line("one") + line("two"),
		path + ".2": later("three"),
		path:        later("four"),
	} {
		if got := readFile(t, file); got != want {
			t.Errorf("%s:\n%s\nwant:\n%s", filepath.Base(file), got, want)
		}
	}
}

// linePattern matches a line written by appendLines.
var linePattern = regexp.MustCompile(`^Nov 28 13:01:26 mx postfix/test\[(\d+)\]: writer (\d+) line (\d+) x+$`)

// padding makes lines long enough that a torn write would show.
var padding = strings.Repeat("x", 300)

func appendLines(l *Logger, writer, lines int) {
	for i := 0; i < lines; i++ {
		l.Info("writer %d line %d %s", writer, i, padding)
	}
}

// checkLines verifies that path holds exactly lines lines from each
// (pid, writer) pair, each whole and in order.
func checkLines(t *testing.T, path string, writers map[string]int, lines int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	next := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := linePattern.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("malformed line %q", sc.Text())
		}
		key := m[1] + "/" + m[2]
		if n, _ := strconv.Atoi(m[3]); n != next[key] {
			t.Fatalf("writer %s: line %d after %d", key, n, next[key]-1)
		}
		next[key]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for key := range writers {
		if next[key] != lines {
			t.Errorf("writer %s: %d lines, want %d", key, next[key], lines)
		}
	}
	if len(next) != len(writers) {
		t.Errorf("%d writers in the file, want %d", len(next), len(writers))
	}
}

func testLogger(t *testing.T, path string, pid int) *Logger {
	t.Helper()
	l, err := New(Options{Program: "test", Hostname: "mx", File: path, FilePrefixes: filepath.Dir(path), Now: newClock().Now, PID: pid})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestConcurrentGoroutines(t *testing.T) {
	const goroutines, lines = 20, 200
	path := filepath.Join(t.TempDir(), "maillog")
	l := testLogger(t, path, 1)
	var wg sync.WaitGroup
	writers := map[string]int{}
	for g := 0; g < goroutines; g++ {
		writers[fmt.Sprintf("1/%d", g)] = g
		wg.Add(1)
		go func() {
			defer wg.Done()
			appendLines(l, g, lines)
		}()
	}
	wg.Wait()
	l.Close()
	checkLines(t, path, writers, lines)
}

// childEnv names the file a child process appends to.
const childEnv = "MAILLOG_TEST_CHILD_FILE"

// TestAppendChild is the body of the child processes started by
// TestConcurrentProcesses; run directly, it does nothing.
func TestAppendChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("only runs as a child of TestConcurrentProcesses")
	}
	l := testLogger(t, path, os.Getpid())
	defer l.Close()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			appendLines(l, g, 500)
		}()
	}
	wg.Wait()
}

func TestConcurrentProcesses(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("running as a child")
	}
	path := filepath.Join(t.TempDir(), "maillog")
	const children = 3
	var cmds []*exec.Cmd
	writers := map[string]int{}
	for i := 0; i < children; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAppendChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+path)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		for g := 0; g < 4; g++ {
			writers[fmt.Sprintf("%d/%d", cmd.Process.Pid, g)] = g
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v", cmd.Process.Pid, err)
		}
	}
	checkLines(t, path, writers, 500)
}

// fakeSyslog listens on a datagram socket in a temporary directory.
func fakeSyslog(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("fake syslog: %v", err)
	}
	return string(buf[:n])
}

func TestSyslog(t *testing.T) {
	socket := filepath.Join(sockdir.New(t), "log")
	server := fakeSyslog(t, socket)
	l, err := New(Options{Program: "smtpd", SyslogFacility: "local0", SyslogSocket: socket, Now: newClock().Now, PID: 7751})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	l.Info("connect from localhost[127.0.0.1]")
	if got, want := receive(t, server), "<134>Nov 28 13:01:26 postfix/smtpd[7751]: connect from localhost[127.0.0.1]"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	l.Warning("w")
	if got, want := receive(t, server), "<132>Nov 28 13:01:26 postfix/smtpd[7751]: warning: w"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	// The system logger restarts: the next line reaches the new socket.
	server.Close()
	os.Remove(socket)
	server = fakeSyslog(t, socket)
	l.Info("after restart")
	if got, want := receive(t, server), "<134>Nov 28 13:01:26 postfix/smtpd[7751]: after restart"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSyslogAbsentFallsBackToStderr(t *testing.T) {
	got := captureStderr(t, func() {
		l, err := New(Options{Program: "pickup", Hostname: "mx.test.example", SyslogSocket: filepath.Join(t.TempDir(), "absent"), Now: newClock().Now, PID: 5})
		if err != nil {
			t.Fatal(err)
		}
		l.Info("uid=0 from=<a@b>")
		l.Close()
	})
	if want := "Nov 28 13:01:26 mx postfix/pickup[5]: uid=0 from=<a@b>\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}

// captureStderr runs fn with os.Stderr redirected to a pipe and returns
// what was written.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	defer func() { os.Stderr = saved }()
	fn()
	w.Close()
	got, _ := bufio.NewReader(r).ReadString(0)
	r.Close()
	return got
}

func TestFileWriteErrorFallsBackToStderr(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	got := captureStderr(t, func() {
		l, err := New(Options{Program: "cleanup", Hostname: "mx", File: "/dev/full", FilePrefixes: "/dev/full", Now: newClock().Now, PID: 3})
		if err != nil {
			t.Fatal(err)
		}
		l.Warning("disk full")
		l.Close()
	})
	if want := "Nov 28 13:01:26 mx postfix/cleanup[3]: warning: disk full\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}
