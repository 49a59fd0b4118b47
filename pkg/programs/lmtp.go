// Wiring of the lmtp daemon (its command is lmtp/main.go, or the multi-call binary).

package programs

import (
	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/smtpclient"
)

// Lmtp is the lmtp daemon's main function.
func Lmtp() {
	agent := &smtpclient.Agent{}
	daemon.Run(daemon.Spec{
		// Init runs before the chroot: resolv.conf, the CA files and the
		// password maps are read there.
		Init: func(ctx *daemon.Context) error {
			cfg, _, err := smtpclient.LMTPFromConfig(ctx.Config)
			if err != nil {
				return err
			}
			cfg.Log = ctx.Log
			layout, err := queue.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			// The working directory is queue_directory, inside the chroot
			// or not; "unix:private/dovecot-lmtp" is relative to it.
			layout.Root = "."
			agent.Client, agent.Layout, agent.Log, agent.Watchdog = smtpclient.New(cfg), layout, ctx.Log, ctx.DaemonTimeout
			return nil
		},
		Serve: agent.Serve,
	})
}
