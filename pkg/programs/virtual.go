// Wiring of the virtual daemon (its command is virtual/main.go, or the multi-call binary).

package programs

import (
	"os"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/virtual"
)

// Virtual is the virtual daemon's main function.
func Virtual() {
	agent := &virtual.Agent{}
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			settings, err := virtual.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			for _, w := range settings.Warnings() {
				ctx.Log.Warning("%s", w)
			}
			layout, err := queueLayout(ctx.Config)
			if err != nil {
				return err
			}
			agent.Settings, agent.Layout, agent.Log, agent.Watchdog = settings, layout, ctx.Log, ctx.DaemonTimeout
			return nil
		},
		// Only root can switch to the recipient's uid and gid; an
		// unprivileged instance (or one master.cf runs with unpriv=y)
		// writes every mailbox as its own user.
		AfterDrop: func(*daemon.Context) error {
			if os.Geteuid() == 0 {
				agent.SwitchUser = true
			}
			return nil
		},
		Serve: agent.Serve,
	})
}
