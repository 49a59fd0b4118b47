// Wiring of the spawn daemon (its command is spawn/main.go, or the multi-call binary).

package programs

import (
	"context"
	"net"
	"os"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/spawn"
)

// Spawn is the spawn daemon's main function.
func Spawn() {
	var server *spawn.Server
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			var err error
			if server, err = spawn.FromConfig(ctx.Config, ctx.Service, ctx.Args.Operands); err != nil {
				return err
			}
			server.Log = ctx.Log
			return nil
		},
		// Only root can run the command as user=; an unprivileged
		// instance runs it as its own user.
		AfterDrop: func(*daemon.Context) error {
			server.SwitchUser = os.Geteuid() == 0
			return nil
		},
		Serve: func(ctx context.Context, nc net.Conn) { server.Serve(ctx, nc) },
	})
}
