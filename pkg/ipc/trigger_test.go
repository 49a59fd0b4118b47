// Tests for the raw trigger sender: what each kind of trigger server receives.

package ipc

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
)

// TestSendRawTrigger sends two codes to a server of each kind and reads
// what arrived.
func TestSendRawTrigger(t *testing.T) {
	for _, network := range []string{"unix", "unixgram", "fifo", "tcp4"} {
		t.Run(network, func(t *testing.T) {
			address, receive := triggerServer(t, network)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := SendRawTrigger(ctx, network, address, TriggerScanIncoming, TriggerScanDeferred); err != nil {
				t.Fatal(err)
			}
			if got := receive(); got != "ID" {
				t.Errorf("server received %q, want \"ID\"", got)
			}
		})
	}
}

// triggerServer listens on network and returns its address and a
// function that reads what one client sent.
func triggerServer(t *testing.T, network string) (string, func() string) {
	t.Helper()
	path := filepath.Join(sockdir.New(t), "trigger")
	readAll := func(r io.Reader) string {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Error(err)
		}
		return string(b)
	}
	switch network {
	case "fifo":
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		// Read and write ends, so that the sender's open finds a reader
		// and the read ends at the first byte.
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return path, func() string {
			buf := make([]byte, 16)
			n, err := f.Read(buf)
			if err != nil {
				t.Error(err)
			}
			return string(buf[:n])
		}
	case "unixgram":
		pc, err := net.ListenPacket(network, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		return path, func() string {
			buf := make([]byte, 16)
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				t.Error(err)
			}
			return string(buf[:n])
		}
	}
	address := path
	if network == "tcp4" {
		address = "127.0.0.1:0"
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func() string {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return readAll(c)
	}
}

// TestSendRawTriggerFifoWithoutReader: as with Postfix's fifo trigger,
// a fifo nobody reads refuses the trigger at once instead of blocking.
func TestSendRawTriggerFifoWithoutReader(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	err := SendRawTrigger(context.Background(), "fifo", path, TriggerWakeup)
	if !errors.Is(err, syscall.ENXIO) {
		t.Errorf("got %v, want ENXIO (no reader)", err)
	}
	if want := "open " + path + ": no such device or address"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

// BenchmarkSendRawTrigger measures cleanup's wake-up of qmgr: connect to
// a Unix socket, write one code, hang up. Run it under `strace -f -c` to
// count the system calls of a trigger.
func BenchmarkSendRawTrigger(b *testing.B) {
	path := filepath.Join(sockdir.New(b), "qmgr")
	ln, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	// The server takes each trigger before the next is sent, so that the
	// sender never finds the listen queue full.
	served := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(io.Discard, c)
			c.Close()
			served <- struct{}{}
		}
	}()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := SendRawTrigger(ctx, "unix", path, TriggerScanIncoming); err != nil {
			b.Fatal(err)
		}
		<-served
	}
}
