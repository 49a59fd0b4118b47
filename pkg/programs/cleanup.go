// Wiring of the cleanup daemon (its command is cleanup/main.go, or the multi-call binary).

package programs

import (
	"github.com/postern/postern/pkg/cleanup"
	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/queue"
)

// Cleanup is the cleanup daemon's main function.
func Cleanup() {
	server := &cleanup.Server{}
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			settings, _, err := cleanup.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			layout, err := queueLayout(ctx.Config)
			if err != nil {
				return err
			}
			// Reserved queue files (queue/pool.go) while mail flows;
			// given back at Exit.
			layout.EnablePool()
			server.Settings, server.Layout, server.Log = settings, layout, ctx.Log
			if server.Flow, err = mailflow.GateFromConfig(ctx.Config, ctx.Flow); err != nil {
				return err
			}
			server.Verbose = ctx.Verbose > 0
			return nil
		},
		AfterDrop: func(ctx *daemon.Context) error {
			// A cleanup killed mid-message leaves its file in incoming/,
			// never committed; remove those whose writer is gone.
			removed, err := server.Layout.PurgeAbandoned(queue.Incoming)
			for _, id := range removed {
				ctx.Log.Warning("%s: removed incomplete queue file of an interrupted submission", id)
			}
			return err
		},
		Serve: server.Serve,
		Exit: func(*daemon.Context) {
			if server.Layout != nil {
				server.Layout.ClosePool()
			}
		},
	})
}
