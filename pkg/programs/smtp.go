// Wiring of the smtp daemon (its command is smtp/main.go, or the multi-call binary).

package programs

import (
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/smtpclient"
)

// Smtp is the smtp daemon's main function.
func Smtp() { runClientAgent(smtpclient.FromConfig) }

// runClientAgent runs the smtp or lmtp delivery agent, whose settings
// fromConfig reads.
func runClientAgent(fromConfig func(*config.Config) (smtpclient.Config, func(), error)) {
	agent := &smtpclient.Agent{}
	daemon.Run(daemon.Spec{
		// Init runs before the chroot: resolv.conf, the CA files and the
		// password maps are read there.
		Init: func(ctx *daemon.Context) error {
			// The password tables stay open for the life of the process.
			cfg, _, err := fromConfig(ctx.Config)
			if err != nil {
				return err
			}
			cfg.Log = ctx.Log
			layout, err := queueLayout(ctx.Config)
			if err != nil {
				return err
			}
			agent.Client, agent.Layout, agent.Log, agent.Watchdog = smtpclient.New(cfg), layout, ctx.Log, ctx.DaemonTimeout
			return nil
		},
		Serve: agent.Serve,
	})
}
