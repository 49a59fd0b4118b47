// Posting a notice the mail system writes itself (a postmaster
// transcript, a bounce) through cleanup, as Postfix's post_mail does.

package ipc

import (
	"context"
	"fmt"
	"io"
	"time"
)

// PostNotice hands cleanup at path a notice from sender to rcpt, with
// address mapping and the notice's Received: header, and returns its
// queue ID. timeout bounds each read and write (ipc_timeout).
func PostNotice(ctx context.Context, path string, timeout time.Duration, sender, rcpt string, content io.Reader) (string, error) {
	conn, err := Dial(ctx, path, ProtocolCleanup)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if timeout > 0 {
		conn.SetTimeout(timeout)
	}
	sub := &CleanupSubmission{
		Sender:      sender,
		Recipients:  []Recipient{{Address: rcpt}},
		Flags:       CleanupFlagMapOK | CleanupFlagNotice,
		ArrivalTime: time.Now(),
	}
	reply, err := conn.Submit(ctx, sub, content)
	if err != nil {
		return "", err
	}
	if reply.Status != 0 {
		return "", fmt.Errorf("cleanup rejected the notice: %s", reply.Reason)
	}
	return reply.QueueID, nil
}
