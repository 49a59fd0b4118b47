// Returning bounced recipients to the sender: the returned content and the submission to cleanup.

package qmgr

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// submitTimeout bounds one bounce submission to cleanup.
const submitTimeout = 5 * time.Minute

// returnToSender sends the non-delivery notification for the bounce log's
// entries, and its postmaster copies (see notify).
func (a *attempt) returnToSender(ctx context.Context, entries []queue.StatusEntry) error {
	return a.notify(ctx, failureNotice, entries)
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
		Flags:       ipc.CleanupFlagMapOK | ipc.CleanupFlagNotice,
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
