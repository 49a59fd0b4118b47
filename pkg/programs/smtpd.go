// Wiring of the smtpd daemon (its command is smtpd/main.go, or the multi-call binary).

package programs

import (
	"context"
	"net"

	"github.com/postern/postern/pkg/anvil"
	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/smtpd"
)

// Smtpd is the smtpd daemon's main function.
func Smtpd() {
	var srv *smtpd.Server
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			var err error
			srv, _, err = smtpd.NewServer(ctx.Config, ctx.Log, smtpd.CleanupService)
			if err != nil {
				return err
			}
			srv.Service = ctx.Service
			if !ctx.Args.StandAlone {
				// Relative to the queue directory, so found in the chroot.
				srv.Anvil = &anvil.Client{Path: anvil.ServicePath}
			}
			return nil
		},
		Serve: func(ctx context.Context, conn net.Conn) {
			srv.Serve(ctx, conn)
		},
	})
}
