// Package virtual is the virtual(8) delivery agent: mail for
// virtual_mailbox_domains into Maildirs and mbox files named by
// virtual_mailbox_maps under virtual_mailbox_base, owned by the uid and gid
// from virtual_uid_maps and virtual_gid_maps.
package virtual

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/agent"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/privs"
	"github.com/postern/postern/pkg/queue"
)

// Agent serves qmgr's delivery requests.
type Agent struct {
	// Watchdog is daemon_timeout: a delivery request that takes longer
	// ends the process, as Postfix's watchdog does. 0: no limit.
	Watchdog time.Duration
	Settings *Settings
	Layout   *queue.Layout
	Log      *maillog.Logger
	// SwitchUser writes each delivery with the recipient's uid and gid
	// (privs.AsUser: the delivering thread's effective IDs, switched for
	// the delivery and back); set it when running as root. Unset:
	// deliveries are written as this process's own user.
	SwitchUser bool
}

// Serve answers delivery requests on one connection from qmgr until it
// closes.
func (a *Agent) Serve(ctx context.Context, nc net.Conn) {
	agent.Serve(ctx, nc, a.Log, a.Watchdog, func(_ context.Context, req *ipc.DeliveryRequest) *ipc.DeliveryResult {
		return a.Deliver(req)
	})
}

// Deliver delivers one request to each of its recipients and logs each
// outcome.
func (a *Agent) Deliver(req *ipc.DeliveryRequest) *ipc.DeliveryResult {
	result := &ipc.DeliveryResult{}
	for _, rcpt := range req.Recipients {
		started := time.Now()
		r := a.deliverRecipient(req, rcpt)
		done := time.Now()
		r.Offset, r.Address, r.Relay = rcpt.Offset, rcpt.Address, "virtual"
		r.Transmission = done.Sub(started)
		line := agent.LineFor(req.Flags)
		a.Log.Info("%s", line(req.QueueID, rcpt, r, agent.RequestDelays(req, started, done)))
		result.Recipients = append(result.Recipients, r)
	}
	return result
}

// configError is Postfix's answer to a recipient whose table entries are
// unusable: a warning in the log and a deferral.
func (a *Agent) configError(format string, args ...any) ipc.RecipientResult {
	a.Log.Warning(format, args...)
	return ipc.RecipientResult{Status: ipc.StatusDeferred, DSNCode: "4.3.5", Reply: "mail system configuration error"}
}

func (a *Agent) deliverRecipient(req *ipc.DeliveryRequest, rcpt ipc.Recipient) ipc.RecipientResult {
	s := a.Settings
	path, _, found, err := findAddress(s.MailboxMaps, rcpt.Address, s.Extensions)
	if err != nil {
		a.Log.Warning("%v", err)
		return ipc.RecipientResult{Status: ipc.StatusDeferred, DSNCode: "4.3.0", Reply: "table lookup problem"}
	}
	if !found {
		return ipc.RecipientResult{Status: ipc.StatusBounced, DSNCode: "5.1.1",
			Reply: `unknown user: "` + strings.ToLower(rcpt.Address) + `"`}
	}
	if !safeMailboxPath(path) {
		return a.configError("recipient %s: bad mailbox path %s in %s", rcpt.Address, path, tablesTitle(s.MailboxMaps))
	}
	uid, res, ok := a.lookupID(s.UIDMaps, "virtual_uid_maps", "uid", rcpt.Address)
	if !ok {
		return res
	}
	if uid < s.MinimumUID {
		return a.configError("recipient %s: bad uid %d in virtual_uid_maps", rcpt.Address, uid)
	}
	gid, res, ok := a.lookupID(s.GIDMaps, "virtual_gid_maps", "gid", rcpt.Address)
	if !ok {
		return res
	}
	if gid <= 0 {
		return a.configError("recipient %s: bad gid %d in virtual_gid_maps", rcpt.Address, gid)
	}
	mreq := &mailbox.Request{
		Path:    s.MailboxBase + "/" + path,
		Maildir: strings.HasSuffix(path, "/"),
		Virtual: true,
		Message: mailbox.Message{Sender: req.Sender, Recipient: rcpt.Address,
			OriginalRecipient: rcpt.OriginalRecipient, Time: time.Now()},
		Locks:       s.Locks,
		Limit:       s.MailboxLimit,
		StrictOwner: a.SwitchUser && s.StrictMailboxOwnership,
		Owner:       uid,
	}
	sent := "delivered to mailbox"
	if mreq.Maildir {
		sent = "delivered to maildir"
	}
	if req.Flags&ipc.DeliveryFlagVerify != 0 {
		return ipc.RecipientResult{Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: strings.Replace(sent, "delivered", "delivers", 1)}
	}
	if err := a.write(req, mreq, uid, gid); err != nil {
		var failure *mailbox.Error
		if !errors.As(err, &failure) {
			failure = &mailbox.Error{DSN: "4.3.0", Text: err.Error()}
		}
		if failure.Warning != "" {
			a.Log.Warning("%s", failure.Warning)
		}
		status := ipc.StatusDeferred
		if failure.Permanent {
			status = ipc.StatusBounced
		}
		return ipc.RecipientResult{Status: status, DSNCode: failure.DSN, Reply: failure.Text}
	}
	return ipc.RecipientResult{Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: sent}
}

// lookupID finds the recipient's uid or gid. When it fails, ok is false
// and res is the recipient's result.
func (a *Agent) lookupID(tables []maps.Table, param, what, addr string) (id int, res ipc.RecipientResult, ok bool) {
	value, _, found, err := findAddress(tables, addr, a.Settings.Extensions)
	if err != nil {
		a.Log.Warning("%v", err)
		return 0, ipc.RecipientResult{Status: ipc.StatusDeferred, DSNCode: "4.3.0", Reply: "table lookup problem"}, false
	}
	if !found {
		return 0, a.configError("recipient %s: %s not found in %s", addr, what, param), false
	}
	id, err = strconv.Atoi(strings.TrimSpace(value))
	if err != nil || id < 0 {
		return 0, a.configError("recipient %s: bad %s %s in %s", addr, what, value, param), false
	}
	return id, ipc.RecipientResult{}, true
}

// write opens the message content and delivers it, as the recipient's uid
// and gid when a.SwitchUser is set.
func (a *Agent) write(req *ipc.DeliveryRequest, mreq *mailbox.Request, uid, gid int) error {
	content, err := queue.OpenContent(a.Layout.Path(req.Queue, req.QueueID), req.DataOffset)
	if err != nil {
		return &mailbox.Error{DSN: "4.3.0", Text: "cannot read message content: " + err.Error()}
	}
	defer content.Close()
	if !a.SwitchUser {
		return mailbox.Deliver(mreq, content)
	}
	err = privs.AsUser(privs.Credential{UID: uid, GID: gid}, func() error { return mailbox.Deliver(mreq, content) })
	var failure *mailbox.Error
	if err != nil && !errors.As(err, &failure) {
		// The switch itself failed.
		a.Log.Warning("recipient %s: %v", mreq.Message.Recipient, err)
	}
	return err
}

// safeMailboxPath reports whether a virtual_mailbox_maps result stays
// under virtual_mailbox_base: no ".." element (Postfix refuses "/../";
// a final ".." is refused too) and no control characters.
func safeMailboxPath(path string) bool {
	for _, elem := range strings.Split(path, "/") {
		if elem == ".." {
			return false
		}
	}
	for i := 0; i < len(path); i++ {
		if path[i] < 0x20 || path[i] == 0x7f {
			return false
		}
	}
	return path != ""
}

// tablesTitle names a table list as Postfix's warnings do.
func tablesTitle(tables []maps.Table) string {
	specs := make([]string, len(tables))
	for i, t := range tables {
		specs[i] = t.Spec()
	}
	return strings.Join(specs, " ")
}
