// Returning bounced recipients to the sender: the DSN and its submission to cleanup.

package qmgr

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// submitTimeout bounds one bounce submission to cleanup.
const submitTimeout = 5 * time.Minute

// returnToSender sends the non-delivery notification for the bounce log's
// entries. As Postfix: mail from the null sender (a bounce that bounced)
// goes to 2bounce_notice_recipient from the double-bounce address when
// notify_classes has bounce or 2bounce and is dropped otherwise; mail from
// the double-bounce address is dropped with a warning.
func (a *attempt) returnToSender(ctx context.Context, entries []queue.StatusEntry) error {
	q, m := a.q, a.msg
	s := q.Settings
	to, envSender, label := m.Sender, "", "sender non-delivery notification"
	switch {
	case strings.EqualFold(m.Sender, s.DoubleBounceSender):
		q.Log.Warning("%s: undeliverable postmaster notification discarded", m.ID)
		return nil
	case m.Sender == "":
		if !s.NotifyBounces {
			return nil
		}
		to, envSender, label = s.DoubleBounceNotice, s.DoubleBounceSender, "postmaster non-delivery notification"
	}
	// As Postfix: the whole message unless RET=HDRS asks for headers or
	// it is larger than bounce_size_limit.
	full := a.dsnRet() != ipc.DSNRetHeaders && (s.ReturnSizeLimit <= 0 || m.Size.ContentLength <= s.ReturnSizeLimit)
	original, err := returnedContent(m.Path, m.Size.DataOffset, s.ReturnSizeLimit, full)
	if err != nil {
		return err
	}
	report := &dsn.Report{
		Hostname:    s.MyHostname,
		QueueID:     m.ID,
		Sender:      m.Sender,
		ArrivalTime: m.ArrivalTime,
		To:          to,
		Original:    original,
		FullMessage: full,
		Boundary:    dsn.NewBoundary(m.ID, q.now(), s.MyHostname),
	}
	byOffset := map[int64]queue.Recipient{}
	for _, r := range m.Recipients {
		byOffset[r.Offset] = r
	}
	for _, e := range entries {
		rcpt := byOffset[e.Offset]
		if rcpt.DSNNotify != 0 && ipc.DSNNotify(rcpt.DSNNotify)&ipc.DSNNotifyFailure == 0 {
			continue // NOTIFY=NEVER or without FAILURE
		}
		remote, diag := dsn.Diagnose(e.Reason)
		report.Recipients = append(report.Recipients, dsn.Recipient{
			Address: e.Recipient, Original: rcpt.Original, Status: e.Status,
			Reason: e.Reason, RemoteMTA: remote, Diagnostic: diag,
		})
	}
	if len(report.Recipients) == 0 {
		return nil
	}
	newID, err := q.submit(ctx, envSender, to, dsn.Build(report))
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	q.Log.Info("%s: %s: %s", m.ID, label, newID)
	return nil
}

// returnedContent reads the message to return in a notification: the
// whole message when full is set, else its header lines; both cut at
// limit bytes (whole lines).
func returnedContent(path string, dataOffset, limit int64, full bool) (string, error) {
	cr, err := queue.OpenContent(path, dataOffset)
	if err != nil {
		return "", err
	}
	defer cr.Close()
	var b strings.Builder
	br := bufio.NewReader(cr)
	for {
		line, err := br.ReadString('\n')
		if err != nil && err != io.EOF {
			return "", err
		}
		if line == "" || (!full && line == "\n") || (limit > 0 && int64(b.Len()+len(line)) > limit) {
			return b.String(), nil
		}
		b.WriteString(line)
		if err == io.EOF {
			return b.String(), nil
		}
	}
}

// submit hands a message to cleanup and returns its queue ID.
func (q *Manager) submit(ctx context.Context, sender, rcpt string, content []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, submitTimeout)
	defer cancel()
	conn, err := ipc.Dial(ctx, q.CleanupSocket, ipc.ProtocolCleanup)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	sub := &ipc.CleanupSubmission{
		Sender:      sender,
		Recipients:  []ipc.Recipient{{Address: rcpt}},
		Flags:       ipc.CleanupFlagMapOK,
		ArrivalTime: q.now(),
	}
	reply, err := conn.Submit(ctx, sub, bytes.NewReader(content))
	if err != nil {
		return "", err
	}
	if reply.Status != 0 {
		return "", fmt.Errorf("cleanup rejected the notification: %s", reply.Reason)
	}
	return reply.QueueID, nil
}
