// Wiring of the anvil daemon (its command is anvil/main.go, or the multi-call binary).

package programs

import (
	"context"
	"net"
	"time"

	"github.com/postern/postern/pkg/anvil"
	"github.com/postern/postern/pkg/daemon"
)

// anvilSettings are the parameters anvil reads.
type anvilSettings struct {
	RateTimeUnit     time.Duration `param:"anvil_rate_time_unit"`
	StatusUpdateTime time.Duration `param:"anvil_status_update_time"`
}

// Anvil is the anvil daemon's main function.
func Anvil() {
	var (
		table *anvil.Table
		s     anvilSettings
	)
	logStatistics := func(ctx *daemon.Context) {
		for _, line := range table.Statistics() {
			ctx.Log.Info("%s", line)
		}
	}
	daemon.Run(daemon.Spec{
		Solitary: true,
		Init: func(ctx *daemon.Context) error {
			if err := ctx.Config.Fill(&s); err != nil {
				return err
			}
			table = anvil.NewTable(s.RateTimeUnit)
			// One process holds the counts, so it never retires for
			// max_use; maxproc 1 means that one process, which serves
			// every smtpd session at once.
			ctx.MaxUse, ctx.MaxProc = 0, 0
			return nil
		},
		AfterDrop: func(ctx *daemon.Context) error {
			go func() {
				ticker := time.NewTicker(s.StatusUpdateTime)
				defer ticker.Stop()
				for {
					select {
					case <-ticker.C:
						logStatistics(ctx)
					case <-ctx.Done():
						return
					}
				}
			}()
			return nil
		},
		Serve: func(ctx context.Context, conn net.Conn) {
			table.Serve(ctx, conn)
		},
		Exit: logStatistics,
	})
}
