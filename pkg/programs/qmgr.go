// Wiring of the qmgr daemon (its command is qmgr/main.go, or the multi-call binary).

package programs

import (
	"context"
	"path/filepath"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/qmgr"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/resolve"
	"github.com/postern/postern/pkg/verify"
)

// Qmgr is the qmgr daemon's main function.
func Qmgr() {
	m := &qmgr.Manager{}
	daemon.Run(daemon.Spec{
		Solitary: true,
		Init: func(ctx *daemon.Context) error {
			settings, err := qmgr.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			layout, err := queueLayout(ctx.Config)
			if err != nil {
				return err
			}
			locals, err := ctx.Config.LocalAddresses()
			if err != nil {
				return err
			}
			resolver, err := resolve.FromConfig(ctx.Config, locals, nil)
			if err != nil {
				return err
			}
			cleanupService, err := ctx.Config.Get("cleanup_service_name")
			if err != nil {
				return err
			}
			probeConfig, err := verify.ProbeConfig(ctx.Config)
			if err != nil {
				return err
			}
			probeResolver, err := resolve.FromConfig(probeConfig, locals, nil)
			if err != nil {
				return err
			}
			verifyService, err := ctx.Config.Get("address_verify_service_name")
			if err != nil {
				return err
			}
			m.ProbeResolver = probeResolver
			verifySettings, err := verify.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			m.Verify = &verify.Client{Path: filepath.Join(verify.ServiceDir, verifyService), NoNegativeCache: !verifySettings.NegativeCache}
			m.Settings, m.Layout, m.Resolver, m.Log = settings, layout, resolver, ctx.Log
			// Postern has no bounce, error, discard or trivial-rewrite
			// processes: qmgr logs their lines under their names, with
			// its own PID.
			// Each under the syslog_name of its master.cf service.
			logAs := func(service, program string) *maillog.Logger {
				return ctx.Log.ForService(daemon.ServiceSyslogName(ctx.Config, service), program)
			}
			m.BounceLog, m.ErrorLog, m.RetryLog, m.DiscardLog = logAs("bounce", "bounce"), logAs("error", "error"), logAs("retry", "error"), logAs("discard", "discard")
			m.RewriteLog = ctx.Log.ForProgram("trivial-rewrite")
			m.CleanupSocket = filepath.Join(queue.PublicDir, cleanupService)
			if m.Flow, err = mailflow.ProducerFromConfig(ctx.Config, ctx.Flow); err != nil {
				return err
			}
			m.AgentDir = queue.PrivateDir
			// The queue manager lives as long as master: no recycling.
			ctx.MaxIdle, ctx.MaxUse = 0, 0
			return nil
		},
		AfterDrop: func(d *daemon.Context) error {
			go func() {
				if err := m.Run(d.Lifetime()); err != nil {
					d.Log.Fatal("%v", err)
				}
			}()
			return nil
		},
		Trigger: func(_ context.Context, codes []ipc.TriggerCode) { m.Trigger(codes) },
	})
}
