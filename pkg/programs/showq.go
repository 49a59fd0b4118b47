// Wiring of the showq daemon (its command is showq/main.go, or the multi-call binary).

package programs

import (
	"context"
	"net"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/showq"
)

// Showq is the showq daemon's main function.
func Showq() {
	var lister *showq.Lister
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			layout, err := queueLayout(ctx.Config)
			if err != nil {
				return err
			}
			emptyAddr, err := ctx.Config.Get("empty_address_recipient")
			if err != nil {
				return err
			}
			lister = &showq.Lister{Layout: layout, EmptyAddress: emptyAddr, Warn: ctx.Log.Warning}
			return nil
		},
		Serve: func(ctx context.Context, conn net.Conn) {
			if err := lister.Serve(ctx, conn); err != nil {
				lister.Warn("%v", err)
			}
		},
	})
}
