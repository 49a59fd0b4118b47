// Finds free TCP ports on 127.0.0.1 for servers that tests start.

package harness

import (
	"net"
	"strconv"
	"testing"
)

// FreeAddr returns a "127.0.0.1:PORT" nobody listens on at the time of the
// call. Another process may take it before the caller binds it, so a test
// that binds late should retry on "address already in use".
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port on 127.0.0.1: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("release %s: %v", addr, err)
	}
	return addr
}

// FreePort is FreeAddr's port number.
func FreePort(t testing.TB) int {
	t.Helper()
	_, port, err := net.SplitHostPort(FreeAddr(t))
	if err != nil {
		t.Fatalf("split address: %v", err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("port %q: %v", port, err)
	}
	return n
}
