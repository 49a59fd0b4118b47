// Wiring of the smtp daemon (its command is smtp/main.go, or the multi-call binary).

package programs

import (
	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/smtpclient"
)

// Smtp is the smtp daemon's main function.
func Smtp() {
	agent := &smtpclient.Agent{}
	daemon.Run(daemon.Spec{
		// Init runs before the chroot: resolv.conf, the CA files and the
		// password maps are read there.
		Init: func(ctx *daemon.Context) error {
			// The password tables stay open for the life of the process.
			cfg, _, err := smtpclient.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			cfg.Log = ctx.Log
			layout, err := queue.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			// The working directory is queue_directory, inside the chroot
			// or not.
			layout.Root = "."
			agent.Client, agent.Layout, agent.Log, agent.Watchdog = smtpclient.New(cfg), layout, ctx.Log, ctx.DaemonTimeout
			return nil
		},
		Serve: agent.Serve,
	})
}
