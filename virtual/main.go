// Command virtual is the virtual(8) delivery agent: it serves qmgr's delivery requests for virtual mailbox domains (see pkg/virtual).
package main

import (
	"fmt"
	"os"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/virtual"
)

func main() {
	// A delivery as the recipient's uid and gid re-runs this binary.
	if mailbox.IsHelper(os.Args) {
		os.Exit(mailbox.HelperMain(os.Stdin, os.Stdout))
	}
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
			layout, err := queue.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			// The working directory is queue_directory.
			layout.Root = "."
			agent.Settings, agent.Layout, agent.Log = settings, layout, ctx.Log
			// The helper's path is found before a chroot hides /proc.
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find own executable for mailbox deliveries: %w", err)
			}
			agent.Helpers = &mailbox.Helpers{Exe: exe}
			return nil
		},
		// Only root can switch to the recipient's uid and gid; an
		// unprivileged instance (or one master.cf runs with unpriv=y)
		// writes every mailbox as its own user.
		AfterDrop: func(*daemon.Context) error {
			if os.Geteuid() != 0 {
				agent.Helpers = nil
			}
			return nil
		},
		Serve: agent.Serve,
	})
}
