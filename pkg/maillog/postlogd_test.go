// Tests of logging to maillog_file through a postlogd LogServer.

package maillog

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
)

// startLogServer runs a LogServer for file on a datagram socket in dir and
// returns the socket path; the server stops when the test ends.
func startLogServer(t *testing.T, dir, file string) (string, *LogServer) {
	t.Helper()
	socket := filepath.Join(dir, "postlog")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	server, err := NewLogServer(file, dir)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.Serve(conn) }()
	t.Cleanup(func() {
		conn.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		server.Close()
	})
	return socket, server
}

// waitForLines waits until path holds n lines and returns its content.
func waitForLines(t *testing.T, path string, n int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if strings.Count(string(b), "\n") >= n || time.Now().After(deadline) {
			return string(b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLoggerThroughPostlogd(t *testing.T) {
	dir := sockdir.New(t)
	path := filepath.Join(dir, "maillog")
	socket, _ := startLogServer(t, dir, path)
	l, err := New(Options{Program: "smtpd", Hostname: "mx.test.example", File: path, FilePrefixes: dir,
		PostlogSocket: socket, Now: newClock().Now, PID: 7751})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("connect from localhost[127.0.0.1]")
	l.Warning("w")

	// A hostile local client cannot split or forge lines.
	client, err := net.Dial("unixgram", socket)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(client, "x\nNov 28 13:01:26 mx postfix/master[1]: forged")
	client.Close()

	want := "Nov 28 13:01:26 mx postfix/smtpd[7751]: connect from localhost[127.0.0.1]\n" +
		"Nov 28 13:01:26 mx postfix/smtpd[7751]: warning: w\n" +
		"x?Nov 28 13:01:26 mx postfix/master[1]: forged\n"
	if got := waitForLines(t, path, 3); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
}

func TestPostlogdConcurrentClients(t *testing.T) {
	dir := sockdir.New(t)
	path := filepath.Join(dir, "maillog")
	socket, _ := startLogServer(t, dir, path)
	const goroutines, lines = 8, 200
	writers := map[string]int{}
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		writers[fmt.Sprintf("1/%d", g)] = g
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One Logger per goroutine, as separate daemons would have.
			l, err := New(Options{Program: "test", Hostname: "mx", File: path, FilePrefixes: dir, PostlogSocket: socket, Now: newClock().Now, PID: 1})
			if err != nil {
				t.Error(err)
				return
			}
			defer l.Close()
			appendLines(l, g, lines)
		}()
	}
	wg.Wait()
	waitForLines(t, path, goroutines*lines)
	checkLines(t, path, writers, lines)
}

func TestPostlogdAbsentAppendsDirectly(t *testing.T) {
	dir := sockdir.New(t)
	path := filepath.Join(dir, "maillog")
	l, err := New(Options{Program: "postfix-script", Hostname: "mx", File: path, FilePrefixes: dir,
		PostlogSocket: filepath.Join(dir, "absent"), Now: newClock().Now, PID: 6863})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("the file was opened before it was needed")
	}
	l.Info("starting the Postfix mail system")
	l.Close()
	if got, want := readFile(t, path), "Nov 28 13:01:26 mx postfix/postfix-script[6863]: starting the Postfix mail system\n"; got != want {
		t.Errorf("file %q, want %q", got, want)
	}
}

func TestNewLogServerRejects(t *testing.T) {
	if _, err := NewLogServer("", DefaultFilePrefixes); err == nil || err.Error() != "postlogd: maillog_file is empty" {
		t.Errorf("empty file: %v", err)
	}
	if _, err := NewLogServer("/tmp/x", DefaultFilePrefixes); err == nil || !strings.Contains(err.Error(), "does not match any prefix") {
		t.Errorf("bad prefix: %v", err)
	}
}

// Datagrams that wait on the socket are appended together: every one a
// whole line, in the order sent, long ones cut at maxPostlogLine.
func TestPostlogdBurst(t *testing.T) {
	dir := sockdir.New(t)
	path := filepath.Join(dir, "maillog")
	socket, _ := startLogServer(t, dir, path)
	client, err := net.Dial("unixgram", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var want strings.Builder
	const lines = 2000
	for i := range lines {
		text := fmt.Sprintf("line %d", i)
		if i%500 == 7 {
			text += strings.Repeat("x", 2*maxPostlogLine)
		}
		if _, err := client.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		if len(text) > maxPostlogLine {
			text = text[:maxPostlogLine]
		}
		want.WriteString(text + "\n")
	}
	if got := waitForLines(t, path, lines); got != want.String() {
		t.Errorf("file has %d lines, %d bytes; want %d lines, %d bytes", strings.Count(got, "\n"), len(got), lines, want.Len())
	}
}

// Goroutines of one process share its Logger: the lines that wait while
// postlogd's queue is full leave together in one datagram, each ended by
// a newline, and postlogd appends each as a line of its own. No line is
// lost or reordered, and a line that waits for nothing leaves alone,
// without a newline, as Postfix's clients send it.
func TestLoggerBatchesLinesWhilePostlogdIsBehind(t *testing.T) {
	dir := sockdir.New(t)
	path := filepath.Join(dir, "maillog")
	socket := filepath.Join(dir, "postlog")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	l, err := New(Options{Program: "test", Hostname: "mx", File: path, FilePrefixes: dir, PostlogSocket: socket, Now: newClock().Now, PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	l.Info("alone")
	buf := make([]byte, maxPostlogDatagram)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(buf[:n]), "Nov 28 13:01:26 mx postfix/test[1]: alone"; got != want {
		t.Fatalf("lone line sent as %q, want %q", got, want)
	}

	// Nobody reads the socket while the writers start: its queue fills
	// and the rest of the lines wait, batched.
	const goroutines, lines = 16, 100
	writers := map[string]int{}
	var wg sync.WaitGroup
	for g := range goroutines {
		writers[fmt.Sprintf("1/%d", g)] = g
		wg.Add(1)
		go func() {
			defer wg.Done()
			appendLines(l, g, lines)
		}()
	}
	// Once lines wait together, postlogd's server takes the rest: the
	// batch leaves as one datagram, which it must split into lines.
	for deadline := time.Now().Add(30 * time.Second); !waitingTogether(l.postlog); {
		if time.Now().After(deadline) {
			t.Fatal("no two lines waited together for the full socket")
		}
		time.Sleep(time.Millisecond)
	}
	server, err := NewLogServer(path, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	done := make(chan error, 1)
	go func() { done <- server.Serve(conn) }()
	wg.Wait()
	waitForLines(t, path, goroutines*lines)
	conn.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	checkLines(t, path, writers, lines)
}

// waitingTogether reports whether two or more lines wait in one batch.
func waitingTogether(s *datagramSink) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.waiting {
		if b.count > 1 {
			return true
		}
	}
	return false
}
