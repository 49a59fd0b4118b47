package command

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/command/commandtest"
)

// TestRunExitStatus: the exit status and the output come back.
func TestRunExitStatus(t *testing.T) {
	out := &Output{Max: 100}
	res := Run(context.Background(), Spec{Argv: []string{"/bin/sh", "-c", "echo  hello   world; exit 3"}, Stdout: out})
	if res.Err != nil || res.TimedOut || res.Normal() || res.Status.ExitStatus() != 3 {
		t.Fatalf("result %+v, want exit status 3", res)
	}
	if got := out.Text(); got != "hello world" {
		t.Errorf("output %q", got)
	}
	if got := res.Describe(); got != "exit status 3" {
		t.Errorf("Describe() = %q", got)
	}
	if res := Run(context.Background(), Spec{Argv: []string{"/bin/true"}}); !res.Normal() {
		t.Errorf("/bin/true: %+v", res)
	}
	if res := Run(context.Background(), Spec{Argv: []string{"/nonexistent/program"}}); res.Err == nil || res.PID != 0 {
		t.Errorf("missing program: %+v", res)
	}
}

// TestRunTimeLimitKillsGroup: at the time limit the whole process group
// dies, a background child included.
func TestRunTimeLimitKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	pid := commandtest.PIDBeforeLimit(t, pidFile, 300*time.Millisecond, func(limit time.Duration) {
		res := Run(context.Background(), Spec{
			Argv:      []string{"/bin/sh", "-c", "sleep 300 & echo $! > " + pidFile + "; wait"},
			TimeLimit: limit,
		})
		if !res.TimedOut || res.Describe() != "killed by signal 9" {
			t.Fatalf("result %+v (%s), want killed at the time limit", res, res.Describe())
		}
	})
	if !commandtest.Gone(pid, 30*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("background child %d outlived the time limit", pid)
	}
}

// TestRunOnConnection: a connection handed over as an *os.File is the
// command's stdin and stdout, as spawn(8) uses it.
func TestRunOnConnection(t *testing.T) {
	a, b, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f, err := a.(*net.UnixConn).File()
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Result, 1)
	go func() {
		done <- Run(context.Background(), Spec{Argv: []string{"/bin/sh", "-c", "read line; echo got $line"}, Stdin: f, Stdout: f, Stderr: f, TimeLimit: 10 * time.Second})
		f.Close()
	}()
	b.SetDeadline(time.Now().Add(10 * time.Second))
	b.Write([]byte("ping\n"))
	buf := make([]byte, 100)
	n, _ := b.Read(buf)
	if got := string(buf[:n]); got != "got ping\n" {
		t.Errorf("reply %q", got)
	}
	if res := <-done; !res.Normal() {
		t.Errorf("result %+v", res)
	}
}

// TestOutputBounded: only the first Max bytes are kept, every write
// reported complete.
func TestOutputBounded(t *testing.T) {
	o := &Output{Max: 5}
	for _, s := range []string{"abc", "defgh", "ij"} {
		if n, err := o.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := o.Text(); got != "abcde" {
		t.Errorf("kept %q", got)
	}
}

func socketPair() (net.Conn, net.Conn, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, err
	}
	fa, fb := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer fa.Close()
	defer fb.Close()
	a, err := net.FileConn(fa)
	if err != nil {
		return nil, nil, err
	}
	b, err := net.FileConn(fb)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}
