// Package queue is Postern's mail queue: the queue directories under
// queue_directory, queue IDs, the queue file format, durable creation and
// moves between queues. See records.go for the file format.
package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/postern/postern/pkg/config"
)

// Queue names, as Postfix's directories under queue_directory.
const (
	Maildrop = "maildrop" // local submissions and postsuper -r output, for pickup
	Incoming = "incoming" // new mail written by cleanup
	Active   = "active"   // mail the queue manager has opened
	Deferred = "deferred" // mail waiting for a retry (mtime = next attempt)
	Hold     = "hold"     // mail put on hold, never expires
	Corrupt  = "corrupt"  // unreadable queue files
	Bounce   = "bounce"   // per-recipient bounce logs
	Defer    = "defer"    // per-recipient deferral logs
	Trace    = "trace"    // per-recipient delivery status logs
	Flush    = "flush"    // fast-flush logs
	Saved    = "saved"    // files kept with dont_remove
)

// AllQueues lists every queue directory, in the order they are created.
var AllQueues = []string{Maildrop, Incoming, Active, Deferred, Hold, Corrupt, Bounce, Defer, Trace, Flush, Saved}

// MessageQueues are the queues that hold queue files (not logs).
var MessageQueues = []string{Maildrop, Incoming, Active, Deferred, Hold, Corrupt, Saved}

// Service directories that live beside the queues.
const (
	PublicDir  = "public"
	PrivateDir = "private"
	PIDDir     = "pid"
)

// Layout maps queue names and IDs to paths under a queue directory, with
// Postfix's hashing: queues in hash_queue_names get hash_queue_depth
// levels of one-character subdirectories taken from the start of the ID.
type Layout struct {
	// Root is queue_directory.
	Root string
	// LongIDs is enable_long_queue_ids: new files get long IDs.
	LongIDs bool

	hashed map[string]bool
	depth  int
	syncer *DirSyncer
	spare  sparePool
	pool   namedPool
	// writing counts the Writers in incoming not yet committed or
	// abandoned.
	writing atomic.Int32
}

// NewLayout returns the layout of the queue directory root.
func NewLayout(root string, hashQueueNames []string, hashDepth int, longIDs bool) *Layout {
	hashed := make(map[string]bool, len(hashQueueNames))
	for _, name := range hashQueueNames {
		hashed[strings.ToLower(name)] = true
	}
	if hashDepth < 0 {
		hashDepth = 0
	}
	return &Layout{Root: root, LongIDs: longIDs, hashed: hashed, depth: hashDepth, syncer: NewDirSyncer()}
}

// layoutParams are the main.cf parameters of the queue layout.
type layoutParams struct {
	Root      string   `param:"queue_directory"`
	HashNames []string `param:"hash_queue_names"`
	HashDepth int      `param:"hash_queue_depth"`
	LongIDs   bool     `param:"enable_long_queue_ids"`
}

// FromConfig returns the layout that queue_directory, hash_queue_names,
// hash_queue_depth and enable_long_queue_ids describe.
func FromConfig(cfg *config.Config) (*Layout, error) {
	var p layoutParams
	if err := cfg.Fill(&p); err != nil {
		return nil, err
	}
	return NewLayout(p.Root, p.HashNames, p.HashDepth, p.LongIDs), nil
}

// RelDir is the directory of queue file id relative to Root, e.g.
// "deferred/5" (or "deferred/5/7" with hash_queue_depth = 2).
func (l *Layout) RelDir(queue, id string) string {
	if !l.hashed[queue] {
		return queue
	}
	key := hashKey(id)
	parts := make([]string, 0, l.depth+1)
	parts = append(parts, queue)
	for i := 0; i < l.depth; i++ {
		if i < len(key) {
			parts = append(parts, key[i:i+1])
		} else {
			parts = append(parts, "_")
		}
	}
	return strings.Join(parts, "/")
}

// RelPath is the path of queue file id relative to Root, as postcat shows
// it: "deferred/5/577929840D3".
func (l *Layout) RelPath(queue, id string) string {
	return l.RelDir(queue, id) + "/" + id
}

// Dir is the absolute directory of queue file id.
func (l *Layout) Dir(queue, id string) string {
	return filepath.Join(l.Root, filepath.FromSlash(l.RelDir(queue, id)))
}

// Path is the absolute path of queue file id.
func (l *Layout) Path(queue, id string) string {
	return filepath.Join(l.Dir(queue, id), id)
}

// MakeDirs creates the queue directories, public, private and pid.
// Hashed subdirectories are created when a file first needs them.
func (l *Layout) MakeDirs() error {
	for _, name := range append(append([]string{}, AllQueues...), PublicDir, PrivateDir, PIDDir) {
		if err := os.MkdirAll(filepath.Join(l.Root, name), 0o700); err != nil {
			return fmt.Errorf("create queue directory: %w", err)
		}
	}
	return nil
}

// Find looks for queue file id in the given queues (by default maildrop,
// incoming, active, deferred, hold, saved, as postcat -q searches), at the
// place the layout expects it. It returns the queue name, or an error
// wrapping os.ErrNotExist.
func (l *Layout) Find(id string, queues ...string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("bad mail queue ID: %s", id)
	}
	if len(queues) == 0 {
		queues = []string{Maildrop, Incoming, Active, Deferred, Hold, Saved}
	}
	for _, q := range queues {
		_, err := os.Lstat(l.Path(q, id))
		if err == nil {
			return q, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("find queue file %s: %w", id, os.ErrNotExist)
}
