// Package pickup is the pickup daemon's logic: it scans maildrop/ for the
// files sendmail (and postsuper -r) leave there, hands each to cleanup
// over the cleanup ipc protocol as a local submission, and removes the
// file once cleanup has queued it.
package pickup

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
)

// Pickup moves maildrop files to cleanup. Trigger and Run may be called
// from different goroutines.
type Pickup struct {
	Layout *queue.Layout
	Log    *maillog.Logger
	// CleanupSocket is cleanup's endpoint, "public/cleanup".
	CleanupSocket string
	// Flags are the cleanup flags of every submission (see
	// ipc.ReceiveOverride.CleanupFlags); New sets Postfix's defaults.
	Flags ipc.CleanupFlags
	// ContentFilter is content_filter, "" for none.
	ContentFilter string

	wake chan struct{}
}

// New returns a Pickup for the maildrop of layout.
func New(layout *queue.Layout, log *maillog.Logger, cleanupSocket string) *Pickup {
	return &Pickup{Layout: layout, Log: log, CleanupSocket: cleanupSocket, wake: make(chan struct{}, 1),
		Flags: ipc.ReceiveOverride{}.CleanupFlags()}
}

// Trigger asks Run for a scan; it never blocks. Every trigger code means
// the same to pickup: look at maildrop/.
func (p *Pickup) Trigger(context.Context, []ipc.TriggerCode) {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run scans maildrop/ at start and after every trigger until ctx ends.
func (p *Pickup) Run(ctx context.Context) {
	for {
		p.Scan(ctx)
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
	}
}

// Scan submits every complete maildrop file once. It stops early when
// cleanup cannot be reached; the files wait for the next scan.
func (p *Pickup) Scan(ctx context.Context) {
	var entries []queue.Entry
	err := p.Layout.Walk(queue.Maildrop, func(e queue.Entry) error {
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		p.Log.Warning("scan %s: %v", queue.Maildrop, err)
		return
	}
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		if err := p.pick(ctx, e); err != nil {
			p.Log.Warning("%v", err)
			return
		}
	}
}

// pick submits one maildrop file. It returns an error only when the scan
// should stop; problems with the file itself are logged here.
func (p *Pickup) pick(ctx context.Context, e queue.Entry) error {
	rel := queue.Maildrop + "/" + e.ID
	f, err := openMaildrop(e.Path)
	if errors.Is(err, errSkip) {
		return nil
	}
	if errors.Is(err, os.ErrPermission) {
		// Never destroy a message pickup cannot read: it stays for the
		// administrator (Postfix keeps it too).
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			err = pathErr.Err
		}
		p.Log.Warning("open input file %s: %v -- left in place", rel, err)
		return nil
	}
	if err != nil {
		// Not a committed regular file (a link or a device planted in
		// maildrop/): set aside, never followed, never deleted.
		p.Log.Warning("%s: %v", rel, err)
		p.Log.Warning("saving corrupt file %q from queue %q to queue %q", e.ID, queue.Maildrop, queue.Corrupt)
		if err := p.Layout.MoveEntry(e, queue.Corrupt); err != nil {
			p.Log.Warning("%v", err)
		}
		return nil
	}
	defer f.file.Close()
	saveCorrupt := func(err error) error {
		p.Log.Warning("%s: %v", rel, err)
		if err := p.Layout.SaveCorrupt(queue.Maildrop, e.ID, func(w string) { p.Log.Warning("%s", w) }); err != nil {
			p.Log.Warning("%v", err)
		}
		return nil
	}
	m, err := queue.ReadEnvelope(f.file)
	if err != nil {
		return saveCorrupt(err)
	}
	if len(m.Pending()) == 0 {
		p.Log.Info("%s: no recipients left -- removed", rel)
		os.Remove(e.Path)
		return nil
	}
	reply, err := p.submit(ctx, f, m)
	if errors.Is(err, queue.ErrCorrupt) {
		return saveCorrupt(err)
	}
	if err != nil {
		return err
	}
	switch {
	case reply.Status == 0:
		if err := os.Remove(e.Path); err != nil {
			p.Log.Warning("remove %s: %v", rel, err)
		}
		p.Log.Info("%s: uid=%d from=<%s>", reply.QueueID, f.uid, m.Sender)
	case strings.HasPrefix(reply.Reason, "4"):
		p.Log.Warning("%s: cleanup deferred the message: %s", rel, reply.Reason)
	default:
		p.Log.Warning("%s: cleanup rejected the message: %s -- moved to %s", rel, reply.Reason, queue.Corrupt)
		if err := p.Layout.Move(e.ID, queue.Maildrop, queue.Corrupt); err != nil {
			p.Log.Warning("%v", err)
		}
	}
	return nil
}

// submitTimeout bounds one submission to cleanup.
const submitTimeout = 10 * time.Minute

// submit sends m's pending recipients and content to cleanup, on behalf
// of the file's owner.
func (p *Pickup) submit(ctx context.Context, f *maildropFile, m *queue.Message) (*ipc.CleanupReply, error) {
	ctx, cancel := context.WithTimeout(ctx, submitTimeout)
	defer cancel()
	content, err := f.contentReader(m.Size.DataOffset)
	if err != nil {
		return nil, err
	}
	conn, err := ipc.Dial(ctx, p.CleanupSocket, ipc.ProtocolCleanup)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	sub := &ipc.CleanupSubmission{
		Sender:        m.Sender,
		ArrivalTime:   m.ArrivalTime,
		Flags:         ipc.CleanupFlagBounce | p.Flags,
		SMTPUTF8:      m.Size.SMTPUTF8 != 0,
		ContentFilter: p.ContentFilter,
		// A local submission: no client address, and the maildrop file's owner.
		SubmitterUID: uint32(f.uid),
	}
	if v, ok := m.Attr(queue.AttrTraceFlags); ok {
		if n, err := strconv.Atoi(v); err == nil && n&queue.TraceFlagUserVerify != 0 {
			sub.TraceFlags |= ipc.DeliveryFlagUserVerify
		} else if err == nil && n&queue.TraceFlagRecord != 0 {
			sub.TraceFlags |= ipc.DeliveryFlagRecord
		}
	}
	for _, r := range m.Pending() {
		sub.Recipients = append(sub.Recipients, ipc.Recipient{
			Address: r.Address, OriginalRecipient: r.Original, Notify: ipc.DSNNotify(r.DSNNotify), ORCPT: r.DSNOrcpt,
		})
	}
	return conn.Submit(ctx, sub, content)
}
