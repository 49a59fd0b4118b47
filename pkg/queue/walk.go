// Walking a queue: every queue file in a queue directory and its hashed subdirectories.

package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Entry is one file found in a queue.
type Entry struct {
	Queue string
	ID    string
	// Path is where the file actually is; it differs from
	// Layout.Path(Queue, ID) when the file is misplaced (for example after
	// hash_queue_depth changed).
	Path string
}

// Misplaced reports whether the entry is not where the layout expects it.
func (l *Layout) Misplaced(e Entry) bool {
	return e.Path != l.Path(e.Queue, e.ID)
}

// Walk calls fn for every file with a valid queue ID in queue, looking into
// one-character subdirectories at any depth (whatever the hashing, as
// Postfix's queue scan does), in name order. Names that are not queue IDs
// (temporary files) are skipped. A queue directory that does not exist has
// no files. An error from fn stops the walk and is returned.
func (l *Layout) Walk(queue string, fn func(Entry) error) error {
	return l.walkDir(queue, filepath.Join(l.Root, queue), false, fn)
}

// walkDir walks dir; with all set it also reports files whose names are
// not queue IDs.
func (l *Layout) walkDir(queue, dir string, all bool, fn func(Entry) error) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("scan %s: %w", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, de := range entries {
		name := de.Name()
		path := filepath.Join(dir, name)
		if de.IsDir() {
			if len(name) == 1 {
				if err := l.walkDir(queue, path, all, fn); err != nil {
					return err
				}
			}
			continue
		}
		if !all && !ValidID(name) {
			continue
		}
		if err := fn(Entry{Queue: queue, ID: name, Path: path}); err != nil {
			return err
		}
	}
	return nil
}

// IDs returns every queue ID in queue, as Walk finds them.
func (l *Layout) IDs(queue string) ([]string, error) {
	var ids []string
	err := l.Walk(queue, func(e Entry) error {
		ids = append(ids, e.ID)
		return nil
	})
	return ids, err
}
