// Tests for running a function on a connection's descriptor.

package rawconn

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

func TestControlRunsOnTheSocket(t *testing.T) {
	a, b, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	if _, err := a.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	queued := -1
	if !Control(b, func(fd int) { queued, _ = unix.IoctlGetInt(fd, unix.SIOCINQ) }) {
		t.Fatal("Control did not run on a Unix socket")
	}
	if queued != 5 {
		t.Errorf("SIOCINQ on the descriptor: %d bytes queued, want 5", queued)
	}
}

func TestControlWithoutDescriptor(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if Control(a, func(int) { t.Error("ran on a connection without a descriptor") }) {
		t.Error("Control reported running on net.Pipe")
	}
	closed, peer, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	closed.Close()
	if Control(closed, func(int) { t.Error("ran on a closed connection") }) {
		t.Error("Control reported running on a closed connection")
	}
}

// socketPair returns the two ends of a connected Unix stream socket.
func socketPair() (net.Conn, net.Conn, error) {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: "", Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	defer ln.Close()
	a, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		return nil, nil, err
	}
	b, err := ln.Accept()
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}
