package harness

import (
	"errors"
	"net"
	"testing"
	"time"
)

// A server that accepts and never answers makes SendMail fail with a
// timeout at its deadline, not wait for ever.
func TestSendMailEndsAtItsDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	// Long enough for the connection to be made on a loaded machine: it
	// is the greeting that never comes.
	err = sendMail(ln.Addr().String(), "a@example.test", []string{"b@example.test"}, []byte("\r\n"), time.Now().Add(2*time.Second))
	var netErr net.Error
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		t.Errorf("SendMail to a silent server: %v, want an i/o timeout", err)
	}
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(10 * time.Second):
		t.Error("the server never saw the connection")
	}
}
