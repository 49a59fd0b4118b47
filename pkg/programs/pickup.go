// Wiring of the pickup daemon (its command is pickup/main.go, or the multi-call binary).

package programs

import (
	"context"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/pickup"
	"github.com/postern/postern/pkg/queue"
)

// Pickup is the pickup daemon's main function.
func Pickup() {
	var p *pickup.Pickup
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			layout, err := queueLayout(ctx.Config)
			if err != nil {
				return err
			}
			service, err := ctx.Config.Get("cleanup_service_name")
			if err != nil {
				return err
			}
			// Postfix's master.cf makes cleanup public (private = n).
			p = pickup.New(layout, ctx.Log, queue.PublicDir+"/"+service)
			var params struct {
				ContentFilter string   `param:"content_filter"`
				Override      []string `param:"receive_override_options"`
			}
			if err := ctx.Config.Fill(&params); err != nil {
				return err
			}
			p.ContentFilter = params.ContentFilter
			override, err := ipc.ParseReceiveOverride(params.Override)
			if err != nil {
				return err
			}
			p.Flags = override.CleanupFlags()
			return nil
		},
		AfterDrop: func(d *daemon.Context) error {
			go p.Run(d.Lifetime())
			return nil
		},
		Trigger: func(ctx context.Context, codes []ipc.TriggerCode) { p.Trigger(ctx, codes) },
	})
}
