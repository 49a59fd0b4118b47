// Package local is the local(8) delivery agent: aliases, .forward files,
// commands, files and the user's mailbox (mbox or Maildir), each written
// with the owner's privileges: commands in a child process, mailboxes and
// files by the delivering thread with its effective IDs switched to the
// owner's (privs.AsUser), as Postfix's local does with set_eugid.
package local

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/postern/postern/pkg/agent"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
)

// Submitter hands a forwarded message to cleanup and returns its queue ID.
type Submitter func(ctx context.Context, sender string, recipients []string, content io.Reader) (string, error)

// Agent serves qmgr's delivery requests for the local domains.
type Agent struct {
	// Watchdog is daemon_timeout: a delivery request that takes longer
	// ends the process, as Postfix's watchdog does. 0: no limit.
	Watchdog time.Duration
	Settings *Settings
	Layout   *queue.Layout
	Log      *maillog.Logger
	// Privileged: running as root, so every delivery switches to its
	// owner's uid, gid and groups. Otherwise only the agent's own user
	// can be delivered to, and commands and files from aliases run as
	// that user too.
	Privileged bool
	LookupUser UserLookup
	LookupUID  UserLookupByID
	Submit     Submitter
}

// Serve answers delivery requests on one connection from qmgr until it
// closes.
func (a *Agent) Serve(ctx context.Context, nc net.Conn) {
	agent.Serve(ctx, nc, a.Log, a.Watchdog, a.Deliver)
}

// Deliver carries out one request, reading the content from the queue
// file, and logs every delivery it makes.
func (a *Agent) Deliver(ctx context.Context, req *ipc.DeliveryRequest) *ipc.DeliveryResult {
	path := a.Layout.Path(req.Queue, req.QueueID)
	return a.DeliverContent(ctx, req, func() (io.ReadCloser, error) {
		return queue.OpenContent(path, req.DataOffset)
	})
}

// DeliverContent is Deliver with the message content from open, called
// once per write.
func (a *Agent) DeliverContent(ctx context.Context, req *ipc.DeliveryRequest, open func() (io.ReadCloser, error)) *ipc.DeliveryResult {
	started := time.Now()
	result := &ipc.DeliveryResult{}
	deliveredTo, err := readDeliveredTo(open)
	done := map[string]bool{}
	for _, rcpt := range req.Recipients {
		var outcomes []outcome
		if err != nil {
			a.Log.Warning("%s: read message content: %v", req.QueueID, err)
			outcomes = []outcome{{to: rcpt.Address, res: deferred("4.3.0", "error reading message content")}}
		} else {
			d := &delivery{agent: a, ctx: ctx, req: req, rcpt: rcpt, open: open, deliveredTo: deliveredTo,
				done: done, verify: req.Flags&ipc.DeliveryFlagVerify != 0}
			d.recipient(rcpt.Address, req.Sender, 0, visited{})
			outcomes = d.outcomes
		}
		orig := rcpt.OriginalRecipient
		if orig == "" {
			orig = rcpt.Address
		}
		line := agent.LineFor(req.Flags)
		for _, o := range outcomes {
			if o.passed {
				continue
			}
			o.res.Relay = "local"
			logged := ipc.Recipient{Address: o.to, OriginalRecipient: orig}
			if o.to == rcpt.Address {
				logged.OriginalRecipient = rcpt.OriginalRecipient
			}
			a.Log.Info("%s", line(req.QueueID, logged, o.res, agent.RequestDelays(req, started, time.Now())))
		}
		res := combine(outcomes)
		res.Offset, res.Address, res.Relay = rcpt.Offset, rcpt.Address, "local"
		result.Recipients = append(result.Recipients, res)
	}
	return result
}

// combine reduces the outcomes of one recipient's deliveries to the one
// result qmgr records: deferred if any was deferred (qmgr retries the
// whole recipient), else bounced if any bounced, else sent (also when
// nothing was left to deliver).
func combine(outcomes []outcome) ipc.RecipientResult {
	for _, want := range []ipc.DeliveryStatus{ipc.StatusDeferred, ipc.StatusBounced} {
		for _, o := range outcomes {
			if o.res.Status == want {
				return o.res
			}
		}
	}
	if len(outcomes) == 0 {
		// Everything was a duplicate, or an empty :include: file.
		return sent("delivered")
	}
	return outcomes[0].res
}
