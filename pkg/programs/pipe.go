// Wiring of the pipe daemon (its command is pipe/main.go, or the multi-call binary).

package programs

import (
	"context"
	"net"
	"os"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/pipe"
)

// Pipe is the pipe daemon's main function.
func Pipe() {
	var agent *pipe.Agent
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			var err error
			if agent, err = pipe.FromConfig(ctx.Config, ctx.Service, ctx.Args.Operands); err != nil {
				return err
			}
			layout, err := queueLayout(ctx.Config)
			if err != nil {
				return err
			}
			agent.Layout, agent.Log, agent.Watchdog = layout, ctx.Log, ctx.DaemonTimeout
			return nil
		},
		// Only root can run the command as user=; an unprivileged
		// instance runs it as its own user.
		AfterDrop: func(*daemon.Context) error {
			agent.SwitchUser = os.Geteuid() == 0
			return nil
		},
		Serve: func(ctx context.Context, nc net.Conn) { agent.Serve(ctx, nc) },
	})
}
