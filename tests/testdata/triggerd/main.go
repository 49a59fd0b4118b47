// Command triggerd is a tiny trigger service on pkg/daemon for tests: it
// logs "trigger: CODES" for every trigger it receives, from master's wakeup
// or from ipc.SendTrigger. With the operand "timer=DURATION" it also wakes
// itself up at that interval. Like qmgr it needs a process limit of 1.
// Build it with
// `go build -o DIR/triggerd ./tests/testdata/triggerd`.
package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/ipc"
)

func main() {
	var d *daemon.Context
	daemon.Run(daemon.Spec{
		Init: func(ctx *daemon.Context) error {
			d = ctx
			for _, operand := range ctx.Args.Operands {
				value, ok := strings.CutPrefix(operand, "timer=")
				if !ok {
					return fmt.Errorf("unknown argument: %s", operand)
				}
				interval, err := time.ParseDuration(value)
				if err != nil {
					return fmt.Errorf("bad timer value: %s", value)
				}
				ctx.WakeupInterval = interval
			}
			return nil
		},
		Trigger: func(ctx context.Context, codes []ipc.TriggerCode) {
			var b strings.Builder
			for _, c := range codes {
				b.WriteByte(byte(c))
			}
			d.Log.Info("trigger: %s", b.String())
		},
		Solitary: true, // like qmgr: master.cf must say maxproc 1
	})
}
