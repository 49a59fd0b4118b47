// Sending a probe: an empty message to the address, marked with the
// verify flag, handed to cleanup like any other local submission.

package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// probeTimeout bounds one probe submission.
const probeTimeout = 5 * time.Minute

// Prober submits probes to the cleanup service at CleanupSocket.
type Prober struct {
	CleanupSocket string
	// Sender returns the envelope sender of a probe sent now, "" for
	// the null sender.
	Sender func() string
}

// Probe submits a probe for addr and returns its queue ID.
func (p *Prober) Probe(ctx context.Context, addr string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := ipc.Dial(ctx, p.CleanupSocket, ipc.ProtocolCleanup)
	if err != nil {
		return "", fmt.Errorf("probe %s: %w", addr, err)
	}
	defer conn.Close()
	sub := &ipc.CleanupSubmission{
		Sender:      p.Sender(),
		Recipients:  []ipc.Recipient{{Address: addr}},
		Flags:       ipc.CleanupFlagMapOK,
		ArrivalTime: time.Now(),
		TraceFlags:  ipc.DeliveryFlagVerify,
	}
	// Probes need no content: they are never delivered.
	reply, err := conn.Submit(ctx, sub, strings.NewReader(""))
	if err != nil {
		return "", fmt.Errorf("probe %s: %w", addr, err)
	}
	if reply.Status != 0 {
		return "", fmt.Errorf("probe %s: cleanup: %s", addr, reply.Reason)
	}
	return reply.QueueID, nil
}
