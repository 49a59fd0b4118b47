package supervisor

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"golang.org/x/sys/unix"
)

func TestEndpointOpenModesAndWakeup(t *testing.T) {
	dir := sockdir.New(t)
	tests := []struct {
		network string
		mode    fs.FileMode
	}{
		{"unix", fs.ModeSocket | socketMode},
		{"unixgram", fs.ModeSocket | socketMode},
		{"fifo", fs.ModeNamedPipe | fifoMode},
	}
	for _, tt := range tests {
		ep := endpoint{network: tt.network, address: filepath.Join(dir, tt.network)}
		// A stale file of the same name is replaced.
		if err := os.WriteFile(ep.address, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := ep.open(currentUser())
		if err != nil {
			t.Fatalf("%s: %v", tt.network, err)
		}
		defer f.Close()
		fi, err := os.Lstat(ep.address)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (fs.ModeType | fs.ModePerm); got != tt.mode {
			t.Errorf("%s: mode %v, want %v", tt.network, got, tt.mode)
		}
		got := make(chan []byte, 1)
		go func() { got <- readOne(t, tt.network, f) }()
		if err := ep.wakeup(); err != nil {
			t.Fatalf("%s wakeup: %v", tt.network, err)
		}
		select {
		case b := <-got:
			if string(b) != "W" {
				t.Errorf("%s: trigger %q, want \"W\"", tt.network, b)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no trigger arrived", tt.network)
		}
	}
}

func TestEndpointOpenTCP(t *testing.T) {
	ep := endpoint{network: "tcp4", address: "127.0.0.1:0"}
	f, err := ep.open(currentUser())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil || flags&unix.O_NONBLOCK != 0 {
		t.Errorf("listener file flags %#x, %v: want a blocking descriptor that os/exec passes unchanged", flags, err)
	}
	l, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := endpoint{network: "tcp4", address: l.Addr().String()}
	_, err = busy.open(currentUser())
	_, port, _ := net.SplitHostPort(l.Addr().String())
	if want := "bind 127.0.0.1 port " + port + ": Address already in use"; err == nil || err.Error() != want {
		t.Errorf("second bind: %v, want %q", err, want)
	}
}

// readOne reads one byte from the endpoint file f as its daemon would.
func readOne(t *testing.T, network string, f *os.File) []byte {
	buf := make([]byte, 8)
	switch network {
	case "unix":
		l, err := net.FileListener(f)
		if err != nil {
			t.Error(err)
			return nil
		}
		defer l.Close()
		conn, err := l.Accept()
		if err != nil {
			t.Error(err)
			return nil
		}
		defer conn.Close()
		n, _ := conn.Read(buf)
		return buf[:n]
	case "unixgram":
		pc, err := net.FilePacketConn(f)
		if err != nil {
			t.Error(err)
			return nil
		}
		defer pc.Close()
		n, _, _ := pc.ReadFrom(buf)
		return buf[:n]
	default:
		n, _ := f.Read(buf)
		return buf[:n]
	}
}
