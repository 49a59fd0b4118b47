// Fuzz tests of what comes from the auth server: the handshake and reply lines never panic, and value escaping round-trips.

package sasl

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzHandshake feeds arbitrary server output to the handshake and the
// reply dispatcher.
func FuzzHandshake(f *testing.F) {
	f.Add("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tX\tprivate\nDONE\nOK\t1\tuser=a\x01tb\nFAIL\t2\ttemp\nCONT\t3\t\n")
	f.Add("VERSION\t2\t0\nDONE\n")
	f.Add("MECH\nMECH\t\nDONE\nOK\nFAIL\tx\n" + strings.Repeat("z", 70000) + "\n")
	f.Fuzz(func(t *testing.T, input string) {
		server, client := net.Pipe()
		go func() {
			defer server.Close()
			go func() {
				buf := make([]byte, 512)
				for {
					if _, err := server.Read(buf); err != nil {
						return
					}
				}
			}()
			server.Write([]byte(input))
		}()
		client.SetDeadline(time.Now().Add(5 * time.Second))
		cn := &conn{nc: client, br: bufio.NewReaderSize(client, 4096), pending: map[uint32]chan reply{}, closed: make(chan struct{})}
		if err := cn.handshake(1); err != nil {
			client.Close()
			return
		}
		for _, m := range cn.mechs {
			if m.Name == "" || m.Properties&PropPrivate != 0 {
				t.Fatalf("bad mechanism %+v", m)
			}
		}
		ch := cn.register(1)
		cn.readLoop() // returns when the input ends
		select {
		case r := <-ch:
			if r.cmd != "OK" && r.cmd != "CONT" && r.cmd != "FAIL" {
				t.Fatalf("dispatched %q", r.cmd)
			}
		default:
		}
		if !cn.isClosed() {
			t.Fatal("connection not closed after the input ended")
		}
	})
}

func FuzzEscape(f *testing.F) {
	f.Add("plain")
	f.Add("a\tb\x01c\r\nd\x01")
	f.Fuzz(func(t *testing.T, v string) {
		e := escape(v)
		if strings.ContainsAny(e, "\t\r\n") {
			t.Fatalf("escape(%q) = %q keeps a separator", v, e)
		}
		if got := unescape(e); got != v {
			t.Fatalf("unescape(escape(%q)) = %q", v, got)
		}
	})
}
