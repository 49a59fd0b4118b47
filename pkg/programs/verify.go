// Wiring of the verify daemon (its command is verify/main.go, or the multi-call binary).

package programs

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/postern/postern/pkg/daemon"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/verify"
)

// Verify is the verify daemon's main function.
func Verify() {
	cache := &verify.Cache{}
	var table verify.Table
	daemon.Run(daemon.Spec{
		Solitary: true,
		Init: func(ctx *daemon.Context) error {
			s, err := verify.FromConfig(ctx.Config)
			if err != nil {
				return err
			}
			cleanupService, err := ctx.Config.Get("cleanup_service_name")
			if err != nil {
				return err
			}
			// As Postfix's verify: the table is opened before the chroot,
			// and stays open.
			if table, err = verify.OpenTable(s.Map); err != nil {
				return err
			}
			if err := verifyGiveToMailOwner(ctx, s.Map); err != nil {
				return err
			}
			prober := &verify.Prober{CleanupSocket: filepath.Join(queue.PublicDir, cleanupService),
				Sender: func() string { return s.ProbeSender(time.Now()) }}
			*cache = verify.Cache{
				Settings: s,
				Table:    table,
				Warn:     func(msg string) { ctx.Log.Warning("%s", msg) },
				Probe: func(addr string) {
					id, err := prober.Probe(context.Background(), addr)
					if err != nil {
						ctx.Log.Warning("%v", err)
						return
					}
					ctx.Verbosef("PROBE %s queue ID %s", addr, id)
				},
			}
			// One process holds the cache (and a memory cache would be
			// lost with the process): it never retires for max_use or
			// max_idle, and serves every client at once.
			ctx.MaxUse, ctx.MaxIdle, ctx.MaxProc = 0, 0, 0
			return nil
		},
		AfterDrop: func(ctx *daemon.Context) error {
			cache.KeepClean(ctx.Done(), func(line string) { ctx.Log.Info("%s", line) })
			return nil
		},
		Serve: cache.Serve,
		Exit: func(*daemon.Context) {
			if c, ok := table.(interface{ Close() error }); ok {
				c.Close()
			}
		},
	})
}

// verifyGiveToMailOwner makes a cache file that root created belong to
// mail_owner, as the rest of data_directory does.
func verifyGiveToMailOwner(ctx *daemon.Context, spec string) error {
	if spec == "" || ctx.MailOwner == nil {
		return nil
	}
	_, name := maps.SplitSpec(spec, "")
	return os.Chown(maps.IndexedPath(name), ctx.MailOwner.UID, ctx.MailOwner.GID)
}
