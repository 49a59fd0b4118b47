// Package ipctest stands in for Postern daemons in tests: a cleanup
// service and a delivery agent speaking pkg/ipc on Unix sockets, and a
// logger that records what a daemon logs.
package ipctest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
)

// waitLimit bounds every wait for something a daemon does in the
// background.
const waitLimit = 30 * time.Second

// SocketDir returns a new directory for test sockets, removed when the
// test ends (sockdir.New: short whatever TMPDIR is).
func SocketDir(t testing.TB) string {
	t.Helper()
	return sockdir.New(t)
}

// Log records log lines as "info: ..." and "warning: ...". It has the
// Info and Warning methods of the daemons' logger interfaces.
type Log struct {
	mu    sync.Mutex
	lines []string
}

// Info records an informational line.
func (l *Log) Info(format string, args ...any) {
	l.add("info: " + fmt.Sprintf(format, args...))
}

// Warning records a warning.
func (l *Log) Warning(format string, args ...any) {
	l.add("warning: " + fmt.Sprintf(format, args...))
}

func (l *Log) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

// Text returns the lines so far, one per line.
func (l *Log) Text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// Wait waits until the log holds want, and fails the test if it does not
// come.
func (l *Log) Wait(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(l.Text(), want) {
		if time.Now().After(deadline) {
			t.Errorf("log lacks %q:\n%s", want, l.Text())
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Listen listens on the Unix socket path, serving each connection with
// serve until the test ends; the cleanup waits for every connection.
func Listen(t testing.TB, path string, serve func(context.Context, net.Conn)) {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				serve(ctx, nc)
			}()
		}
	}()
}
