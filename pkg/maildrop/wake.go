// Waking pickup after a new maildrop file, as postdrop does.

package maildrop

import (
	"context"
	"path/filepath"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
)

// WakePickup sends a wakeup trigger to pickup's public socket. Pickup not
// running is not an error: the file waits in maildrop/ for its next scan,
// as with Postfix. It returns the trigger error for logging by -v.
func WakePickup(cfg *config.Config) error {
	queueDir, err := cfg.Get("queue_directory")
	if err != nil {
		return err
	}
	service, err := cfg.Get("pickup_service_name")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return ipc.SendTrigger(ctx, filepath.Join(queueDir, queue.PublicDir, service), ipc.TriggerWakeup)
}
