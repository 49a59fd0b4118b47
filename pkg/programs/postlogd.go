// Wiring of the postlogd daemon (its command is postlogd/main.go, or the multi-call binary).

package programs

import (
	"context"
	"net"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/maillog"
)

// Postlogd is the postlogd daemon's main function.
func Postlogd() {
	var server *maillog.LogServer
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) (err error) {
			server, err = maillog.LogServerFromParams(ctx.Config.Get)
			return err
		},
		Datagram: func(_ context.Context, conn net.PacketConn) error {
			defer server.Close()
			return server.Serve(conn)
		},
	})
}
