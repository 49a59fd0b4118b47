// Finds free TCP ports on 127.0.0.1 for servers that tests start.

package harness

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// portFloor is the lowest port FreeAddr hands out: above the ports
// system services commonly listen on.
const portFloor = 20000

// handedOut holds the ports FreeAddr gave in this process, never given
// twice: two servers of one test must not get the same port.
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// FreeAddr returns a "127.0.0.1:PORT" nobody listens on at the time of the
// call. The port is below the kernel's ephemeral range (where listen on
// port 0 and every outgoing connection take theirs), so that between
// this call and the daemon's bind it does not become the local port of
// a connection the test makes meanwhile, nor another test's listener.
// Another process may still take it before the caller binds it, so a
// test that binds late should retry on "address already in use".
func FreeAddr(t testing.TB) string {
	t.Helper()
	if top := ephemeralLow(); top > portFloor+1000 {
		for try := 0; try < 100; try++ {
			if addr, ok := claim(portFloor + rand.IntN(top-portFloor)); ok {
				return addr
			}
		}
	}
	for try := 0; try < 100; try++ {
		if addr, ok := claim(0); ok {
			return addr
		}
	}
	t.Fatal("find a free port on 127.0.0.1: none after 200 tries")
	return ""
}

// claim listens on port (0: any) of 127.0.0.1 and, when that works
// and the port was never handed out, releases it and returns the address.
func claim(port int) (string, bool) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return "", false
	}
	defer l.Close()
	got := l.Addr().(*net.TCPAddr).Port
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports[got] {
		return "", false
	}
	handedOut.ports[got] = true
	return l.Addr().String(), true
}

// ephemeralLow is the first port of the kernel's ephemeral range, 32768
// (Linux's default) when it cannot be read.
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 32768
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return 32768
	}
	return low
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
