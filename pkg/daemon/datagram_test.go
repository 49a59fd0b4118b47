// Tests for datagram services (unix-dgram, as postlogd's).

package daemon

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/maillog"
)

func TestServeDatagrams(t *testing.T) {
	tests := []struct {
		name       string
		signal     syscall.Signal
		masterGone bool // master's status pipe reads end of file
		cancelled  bool // the handler's context is cancelled when the socket closes
		failServe  bool
		wantStatus int
	}{
		{name: "SIGHUP closes the socket", signal: syscall.SIGHUP, wantStatus: 0},
		{name: "SIGTERM cancels and closes", signal: syscall.SIGTERM, cancelled: true, wantStatus: 0},
		{name: "master gone cancels and closes", masterGone: true, cancelled: true, wantStatus: 0},
		{name: "handler failure is fatal", failServe: true, wantStatus: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := sockdir.New(t)
			logPath := filepath.Join(dir, "maillog")
			log, err := maillog.New(maillog.Options{Program: "postlogd", File: logPath, FilePrefixes: dir})
			if err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(dir, "postlog")
			ep, err := bindStandAlone("unix-dgram:"+sock, true)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			masterGone := make(chan struct{})
			d := &daemonState{Context: &Context{Log: log, ctx: ctx}, cancel: cancel, masterGone: masterGone}
			received := make(chan string, 1)
			cancelledAtClose := make(chan bool, 1)
			serve := func(ctx context.Context, conn net.PacketConn) error {
				buf := make([]byte, 100)
				for {
					n, _, err := conn.ReadFrom(buf)
					if errors.Is(err, net.ErrClosed) {
						cancelledAtClose <- ctx.Err() != nil
						return nil
					}
					if err != nil {
						return err
					}
					received <- string(buf[:n])
					if tt.failServe {
						return errors.New("write /var/log/maillog: No space left on device")
					}
				}
			}
			signals := make(chan os.Signal, 1)
			status := make(chan int, 1)
			go func() { status <- serveDatagrams(d, serve, ep.packet, signals) }()
			client, err := net.Dial("unixgram", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			client.Write([]byte("a log line"))
			if got := <-received; got != "a log line" {
				t.Errorf("received %q", got)
			}
			if tt.signal != 0 {
				signals <- tt.signal
			}
			if tt.masterGone {
				close(masterGone)
			}
			select {
			case got := <-status:
				if got != tt.wantStatus {
					t.Errorf("status %d, want %d", got, tt.wantStatus)
				}
			case <-time.After(patience):
				t.Fatal("datagram server did not stop")
			}
			if tt.signal != 0 || tt.masterGone {
				if got := <-cancelledAtClose; got != tt.cancelled {
					t.Errorf("handler context cancelled when the socket closed: %v, want %v", got, tt.cancelled)
				}
			}
			if logged, _ := os.ReadFile(logPath); tt.failServe && !containsLine(string(logged), "fatal: write /var/log/maillog: No space left on device") {
				t.Errorf("log lacks the fatal line:\n%s", logged)
			}
		})
	}
}

func TestBindStandAloneErrors(t *testing.T) {
	tests := []struct {
		spec     string
		datagram bool
		want     string
	}{
		{"tcp:127.0.0.1:25", false, `stand-alone mode needs -L unix:PATH or -L inet:HOST:PORT, not "tcp:127.0.0.1:25"`},
		{"", false, `stand-alone mode needs -L unix:PATH or -L inet:HOST:PORT, not ""`},
		{"unix:/tmp/x", true, `stand-alone mode needs -L unix-dgram:PATH, not "unix:/tmp/x"`},
		{"unix:/nonexistent-dir/sock", false, "bind /nonexistent-dir/sock: No such file or directory"},
	}
	for _, tt := range tests {
		_, err := bindStandAlone(tt.spec, tt.datagram)
		if err == nil || err.Error() != tt.want {
			t.Errorf("bindStandAlone(%q, %v) error = %v, want %q", tt.spec, tt.datagram, err, tt.want)
		}
	}
}
