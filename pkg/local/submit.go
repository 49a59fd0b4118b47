// Forwarded mail goes back into the queue through cleanup's public socket.

package local

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// submitTimeout bounds one forwarding submission.
const submitTimeout = 5 * time.Minute

// CleanupSubmitter submits forwarded messages to the cleanup service
// listening on socket (public/cleanup under the queue directory).
func CleanupSubmitter(socket string) Submitter {
	return func(ctx context.Context, sender string, recipients []string, content io.Reader) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, submitTimeout)
		defer cancel()
		conn, err := ipc.Dial(ctx, socket, ipc.ProtocolCleanup)
		if err != nil {
			return "", err
		}
		defer conn.Close()
		sub := &ipc.CleanupSubmission{Sender: sender, Flags: ipc.CleanupFlagMapOK, ArrivalTime: time.Now()}
		for _, r := range recipients {
			sub.Recipients = append(sub.Recipients, ipc.Recipient{Address: r})
		}
		if err := conn.Send(ctx, sub); err != nil {
			return "", fmt.Errorf("send to cleanup: %w", err)
		}
		if _, err := conn.SendContent(ctx, content); err != nil {
			return "", fmt.Errorf("send content to cleanup: %w", err)
		}
		var reply ipc.CleanupReply
		if err := conn.Expect(ctx, &reply); err != nil {
			return "", fmt.Errorf("cleanup reply: %w", err)
		}
		if reply.Status != 0 {
			return "", fmt.Errorf("cleanup rejected the message: %s", reply.Reason)
		}
		return reply.QueueID, nil
	}
}
