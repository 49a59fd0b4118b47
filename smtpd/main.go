// Command smtpd is Postern's SMTP server: it takes mail from the network and hands it to cleanup.
package main

import (
	"context"
	"net"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/smtpd"
)

func main() {
	var srv *smtpd.Server
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			var err error
			srv, _, err = smtpd.NewServer(ctx.Config, ctx.Log, smtpd.CleanupService)
			return err
		},
		Serve: func(ctx context.Context, conn net.Conn) {
			srv.Serve(ctx, conn)
		},
	})
}
