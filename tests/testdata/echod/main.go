// Command echod is a tiny stream service on pkg/daemon for tests: it logs
// "connect from", echoes every line it reads back, and logs "disconnect
// from" when the client goes away. Build it with
// `go build -o DIR/echod ./tests/testdata/echod` and list it in a test's
// master.cf like any daemon.
package main

import (
	"bufio"
	"context"
	"net"

	"github.com/postern/postern/pkg/daemon"
)

func main() {
	var d *daemon.Context
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			d = ctx
			return nil
		},
		Serve: func(ctx context.Context, conn net.Conn) {
			client := clientName(conn)
			d.Log.Info("connect from %s", client)
			defer d.Log.Info("disconnect from %s", client)
			lines := bufio.NewScanner(conn)
			for lines.Scan() {
				if _, err := conn.Write(append(lines.Bytes(), '\n')); err != nil {
					return
				}
			}
		},
	})
}

// clientName names the peer as Postfix does when it does not look names up:
// "unknown[127.0.0.1]" over TCP, "local" over a Unix socket.
func clientName(conn net.Conn) string {
	if tcp, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return "unknown[" + tcp.IP.String() + "]"
	}
	return "local"
}
