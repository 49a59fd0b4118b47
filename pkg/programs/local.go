// Wiring of the local daemon (its command is local/main.go, or the multi-call binary).

package programs

import (
	"os"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/local"
)

// Local is the local daemon's main function.
func Local() {
	agent := &local.Agent{LookupUser: local.SystemUser, LookupUID: local.SystemUserByID}
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			settings, err := local.FromConfig(ctx.Config, func(w string) { ctx.Log.Warning("%s", w) })
			if err != nil {
				return err
			}
			layout, err := queueLayout(ctx.Config)
			if err != nil {
				return err
			}
			agent.Settings, agent.Layout, agent.Log, agent.Watchdog = settings, layout, ctx.Log, ctx.DaemonTimeout
			agent.Submit = local.CleanupSubmitter("public/cleanup")
			return nil
		},
		// Only root can deliver as each recipient; an unprivileged
		// instance delivers to its own user only.
		AfterDrop: func(*daemon.Context) error {
			agent.Privileged = os.Geteuid() == 0
			return nil
		},
		Serve: agent.Serve,
	})
}
