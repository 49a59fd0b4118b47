// postqueue -p and -j: the listing, read directly by a user who may read the queue, otherwise asked of the showq service.

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
	"github.com/postern/postern/pkg/showq"
)

// list writes the listing. Root and the owner of an unprivileged
// instance read the queue directories themselves (so the listing works
// while the mail system is down); everyone else asks the showq daemon,
// which reads them as mail_owner, as Postfix's postqueue does.
func list(tool *cli.Tool, out *bufio.Writer, asJSON bool) error {
	if mayReadQueue(tool.Layout) {
		emptyAddr, err := tool.Config.Get("empty_address_recipient")
		if err != nil {
			return err
		}
		l := &showq.Lister{Layout: tool.Layout, EmptyAddress: emptyAddr, Warn: tool.Log.Warning}
		return l.List(out, asJSON)
	}
	service, err := tool.Config.Get("showq_service_name")
	if err != nil {
		return err
	}
	mailName, err := tool.Config.Get("mail_name")
	if err != nil {
		return err
	}
	socket := filepath.Join(tool.Layout.Root, queue.PublicDir, service)
	err = showq.Request(context.Background(), socket, asJSON, out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM):
		return &exitError{status: cli.ExitSoftware, err: fmt.Errorf("Connect to the %s %s service: %s", mailName, service, cli.Strerror(err))}
	case errors.Is(err, showq.ErrNoService):
		return &exitError{status: cli.ExitUnavailable, err: fmt.Errorf("Queue report unavailable - mail system is down (Connect to the %s %s service: %s)", mailName, service, cli.Strerror(err))}
	}
	return err
}

// exitError is a fatal error with its own exit status.
type exitError struct {
	status int
	err    error
}

func (e *exitError) Error() string { return e.err.Error() }

// mayReadQueue reports whether the real user may read every queue
// directory the listing covers.
func mayReadQueue(layout *queue.Layout) bool {
	for _, dir := range []string{queue.Maildrop, queue.Active, queue.Incoming, queue.Deferred, queue.Hold, queue.Defer} {
		if unix.Access(filepath.Join(layout.Root, dir), unix.R_OK|unix.X_OK) != nil {
			return false
		}
	}
	return true
}
