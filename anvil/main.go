// Command anvil is Postern's anvil(8): per-client connection counts and event rates shared by every smtpd process of a service.
package main

import (
	"context"
	"net"
	"time"

	"github.com/postern/postern/pkg/anvil"
	"github.com/postern/postern/pkg/daemon"
)

// settings are the parameters anvil reads.
type settings struct {
	RateTimeUnit time.Duration `param:"anvil_rate_time_unit"`
}

func main() {
	var table *anvil.Table
	daemon.Run(daemon.Spec{
		Solitary: true,
		Init: func(ctx *daemon.Context) error {
			var s settings
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
		Serve: func(ctx context.Context, conn net.Conn) {
			table.Serve(ctx, conn)
		},
	})
}
