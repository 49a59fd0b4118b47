// Notices about a message: the non-delivery notification and the delayed-mail
// warning to the sender, and the postmaster copies notify_classes asks for.

package qmgr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// NoticeSettings are the parameters of notices to senders and postmaster.
type NoticeSettings struct {
	// DelayWarning is delay_warning_time: after this long in the queue a
	// message with deferred recipients gets one delayed-mail warning
	// (0 = never).
	DelayWarning time.Duration `param:"delay_warning_time"`
	// BounceRecipient and DelayRecipient receive the postmaster copies
	// of notify_classes bounce and delay.
	BounceRecipient string   `param:"bounce_notice_recipient"`
	DelayRecipient  string   `param:"delay_notice_recipient"`
	Classes         []string `param:"notify_classes"`
	// Notices are the templates with their texts; nil when they could
	// not be loaded (noticesErr says why).
	Notices    *dsn.Notices
	noticesErr error
	// warnings from loading the templates, logged when the manager starts.
	warnings []string
}

// loadNotices reads the templates of bounce_template_file. A template
// Postfix's bounce daemon would die on (a missing file, an undefined
// $name) stops the notices, not the deliveries: as with Postfix, the
// bounce logs stay and the notices go out once the file is fixed (and
// qmgr restarted by postfix reload).
func (n *NoticeSettings) loadNotices(cfg *config.Config) {
	notices, err := dsn.LoadNotices(cfg, func(w string) { n.warnings = append(n.warnings, w) })
	if err != nil {
		n.noticesErr = err
		n.warnings = append(n.warnings, err.Error())
		return
	}
	n.Notices = notices
}

// notifies reports whether notify_classes has class.
func (n *NoticeSettings) notifies(class string) bool {
	for _, c := range n.Classes {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

// noticeKind says how one kind of notice is made and logged.
type noticeKind struct {
	class string // template class
	// filter is the NOTIFY bit that asks for the sender's notice.
	filter ipc.DSNNotify
	// what ends the log lines: "non-delivery notification".
	what string
}

var (
	failureNotice = noticeKind{dsn.ClassFailure, ipc.DSNNotifyFailure, "non-delivery notification"}
	delayNotice   = noticeKind{dsn.ClassDelay, ipc.DSNNotifyDelay, "delay notification"}
	successNotice = noticeKind{dsn.ClassSuccess, ipc.DSNNotifySuccess, "delivery status notification"}
)

// notify sends the notice of kind about entries (the bounce or defer log)
// as Postfix's bounce service does: to the sender, from the null sender,
// with the template's text and the recipients NOTIFY asks for; then, when
// notify_classes has the kind's class, a copy without the text and with
// every recipient and only the headers from the double-bounce address to
// the class's recipient. Mail from the null sender gets only the
// postmaster copy (notify_classes bounce or 2bounce for failures, delay
// for warnings) with the whole message; mail from the double-bounce
// address gets nothing. An error means the sender's notice did not go
// out and should be tried again.
func (a *attempt) notify(ctx context.Context, kind noticeKind, entries []queue.StatusEntry) error {
	q, m := a.q, a.msg
	s := q.Settings
	postmaster, copyClass := s.Notify.BounceRecipient, "bounce"
	if kind.class == dsn.ClassDelay {
		postmaster, copyClass = s.Notify.DelayRecipient, "delay"
	}
	switch {
	case strings.EqualFold(m.Sender, s.DoubleBounceSender):
		q.logFor(q.BounceLog).Warning("%s: undeliverable postmaster notification discarded", m.ID)
		return nil
	case m.Sender == "":
		if kind.class == dsn.ClassFailure {
			if !s.NotifyBounces {
				return nil
			}
			postmaster = s.DoubleBounceNotice
		} else if !s.Notify.notifies("delay") {
			return nil
		}
		return a.sendNotice(ctx, kind, entries, true, postmaster, true)
	}
	if err := a.sendNotice(ctx, kind, entries, false, m.Sender, a.returnFull(kind)); err != nil {
		return err
	}
	if s.Notify.notifies(copyClass) {
		if err := a.sendNotice(ctx, kind, entries, true, postmaster, false); err != nil {
			verb := "bouncing to"
			if kind.class == dsn.ClassDelay {
				verb = "warning"
			}
			q.logFor(q.BounceLog).Warning("%s: postmaster notice failed while %s %s", m.ID, verb, m.Sender)
		}
	}
	return nil
}

// returnFull reports whether the sender's notice returns the whole
// message: a non-delivery notification does unless RET=HDRS; a delay
// warning never does.
func (a *attempt) returnFull(kind noticeKind) bool {
	return kind.class == dsn.ClassFailure && a.dsnRet() != ipc.DSNRetHeaders
}

// sendNotice builds one notice and submits it to cleanup. A sender's
// notice lists the recipients whose NOTIFY asks for it (all when NOTIFY
// was not given) and is not sent when none does; a postmaster copy lists
// every recipient. The message is returned whole when full is set and it
// is within bounce_size_limit, else its headers.
func (a *attempt) sendNotice(ctx context.Context, kind noticeKind, entries []queue.StatusEntry, postmasterCopy bool, to string, full bool) error {
	q, m := a.q, a.msg
	s := q.Settings
	envSender, label := "", "sender "+kind.what
	if postmasterCopy {
		envSender, label = s.DoubleBounceSender, "postmaster "+kind.what
	}
	if s.Notify.Notices == nil {
		return fmt.Errorf("%s: %w", label, s.Notify.noticesErr)
	}
	full = full && (s.ReturnSizeLimit <= 0 || m.Size.ContentLength <= s.ReturnSizeLimit)
	report := s.Notify.Notices.Report(kind.class)
	report.PostmasterCopy = postmasterCopy
	report.Hostname = s.MyHostname
	report.QueueID, report.Sender, report.ArrivalTime = m.ID, m.Sender, m.ArrivalTime
	report.EnvID, _ = m.Attr(queue.AttrDSNEnvID)
	report.WillRetryUntil = m.ArrivalTime.Add(s.MaximalLifetime)
	report.To = to
	report.FullMessage = full
	report.SMTPUTF8 = m.Size.SMTPUTF8 != 0
	report.Boundary = dsn.NewBoundary(m.ID, q.now(), s.MyHostname)
	byOffset := map[int64]queue.Recipient{}
	for _, r := range m.Recipients {
		byOffset[r.Offset] = r
	}
	for _, e := range entries {
		rcpt := byOffset[e.Offset]
		if !postmasterCopy && kind.filter != 0 && rcpt.DSNNotify != 0 && ipc.DSNNotify(rcpt.DSNNotify)&kind.filter == 0 {
			continue
		}
		original := rcpt.Original
		if original == "" && rcpt.DSNOrcpt == "" {
			original = e.Recipient
		}
		remote, diag := dsn.Diagnose(e.Reason)
		report.Recipients = append(report.Recipients, dsn.Recipient{
			Address: e.Recipient, Original: original, ORCPT: rcpt.DSNOrcpt, Status: e.Status,
			Reason: e.Reason, RemoteMTA: remote, Diagnostic: diag, Action: e.Action,
		})
	}
	if len(report.Recipients) == 0 {
		return nil
	}
	original, err := returnedContent(m.Path, m.Size.DataOffset, s.ReturnSizeLimit, full)
	if err != nil {
		return err
	}
	report.Original = original
	newID, err := q.submit(ctx, envSender, to, dsn.Build(report))
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	q.logFor(q.BounceLog).Info("%s: %s: %s", m.ID, label, newID)
	return nil
}

// warnDelayed sends the delayed-mail warning once the message has been
// queued for delay_warning_time, once: the queue file is marked after a
// warning went out. A failed warning is tried again at the next attempt.
func (a *attempt) warnDelayed(ctx context.Context, now time.Time) {
	q, m := a.q, a.msg
	after := q.Settings.Notify.DelayWarning
	if after <= 0 || now.Before(m.ArrivalTime.Add(after-time.Second)) {
		return
	}
	st, err := os.Stat(m.Path)
	if err != nil || queue.ModeDelayWarned(st.Mode()) {
		return
	}
	entries, err := q.Layout.ReadStatus(queue.Defer, m.ID)
	if err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
		return
	}
	if err := a.notify(ctx, delayNotice, entries); err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
		return
	}
	if err := queue.SetDelayWarned(m.Path); err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
	}
}

// successAction is the Action of the success notice a sent recipient
// asked for with NOTIFY=SUCCESS (or of every one with sendmail -v), or ""
// when none is due from here.
func (a *attempt) successAction(r queue.Recipient, rr ipc.RecipientResult) string {
	if rr.Status != ipc.StatusSent {
		return ""
	}
	if !a.recordAll && (ipc.DSNNotify(r.DSNNotify)&ipc.DSNNotifySuccess == 0 || rr.NotifyPassedOn) {
		return ""
	}
	if rr.Action != "" {
		return rr.Action
	}
	return "delivered"
}

// reportSuccess sends the sender the success notice for the recipients
// in the trace log (NOTIFY=SUCCESS) once the message leaves the queue,
// as Postfix's bounce service does, and removes the log. Mail from the
// null or the double-bounce sender gets none.
func (a *attempt) reportSuccess(ctx context.Context) {
	q, m := a.q, a.msg
	path := q.Layout.Path(queue.Trace, m.ID)
	entries, err := q.Layout.ReadStatus(queue.Trace, m.ID)
	if err != nil {
		q.Log.Warning("%s: %v", m.ID, err)
		return
	}
	kind := successNotice
	if a.recordAll {
		kind = verifyReport
	}
	if len(entries) > 0 && m.Sender != "" && !strings.EqualFold(m.Sender, q.Settings.DoubleBounceSender) {
		if err := a.sendNotice(ctx, kind, entries, false, m.Sender, false); err != nil {
			q.Log.Warning("%s: %v", m.ID, err)
		}
	}
	if err := queue.RemoveFile(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		q.Log.Warning("%s: remove %s: %v", m.ID, q.Layout.RelPath(queue.Trace, m.ID), err)
	}
}
