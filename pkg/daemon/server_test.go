// In-process tests of the serving loop.

package daemon

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/maillog"
)

func TestHandlerPanicEndsOnlyItsSession(t *testing.T) {
	dir := sockdir.New(t)
	logPath := filepath.Join(dir, "maillog")
	log, err := maillog.New(maillog.Options{Program: "smtpd", File: logPath, FilePrefixes: dir})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "smtpd")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemonState{Context: &Context{Log: log, ctx: ctx}, cancel: cancel}
	handle := func(ctx context.Context, conn net.Conn) {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		if line == "boom\n" {
			panic("boom")
		}
		conn.Write([]byte(line))
	}
	s := &server{d: d, ln: ln, handle: handle}
	signals := make(chan os.Signal, 1)
	status := make(chan int, 1)
	go func() { status <- s.run(signals) }()

	exchange := func(line string) (string, error) {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(patience))
		conn.Write([]byte(line + "\n"))
		return bufio.NewReader(conn).ReadString('\n')
	}
	if got, err := exchange("boom"); err != io.EOF {
		t.Errorf("panicking session gave %q, %v; want EOF", got, err)
	}
	if got, err := exchange("fine"); err != nil || got != "fine\n" {
		t.Errorf("next session gave %q, %v", got, err)
	}
	logged, _ := os.ReadFile(logPath)
	if !strings.Contains(string(logged), "smtpd["+strconv.Itoa(os.Getpid())+"]: error: panic while serving client: boom") {
		t.Errorf("log lacks the panic:\n%s", logged)
	}
	signals <- syscall.SIGTERM
	select {
	case code := <-status:
		if code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
	case <-time.After(patience):
		t.Fatal("server still running after SIGTERM")
	}
	if ctx.Err() == nil {
		t.Error("handlers' context not cancelled after SIGTERM")
	}
}

// containsLine reports whether some line of text ends with suffix.
func containsLine(text, suffix string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasSuffix(line, suffix) {
			return true
		}
	}
	return false
}
