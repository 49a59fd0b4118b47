// Writing indexed tables: a new NAME.db is written beside the old one
// and renamed over it, so a reader sees the old table or the new one,
// never half of one.

package maps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// Entry is one key and its value.
type Entry struct {
	Key, Value string
}

// DuplicatePolicy says what to do with a key that is already present.
type DuplicatePolicy int

const (
	// KeepFirstWarn keeps the first value and reports the duplicate (the default).
	KeepFirstWarn DuplicatePolicy = iota
	// KeepFirstSilent keeps the first value silently (postmap -w).
	KeepFirstSilent
	// Replace overwrites the earlier value (postmap -r).
	Replace
)

// EntrySet collects entries in first-seen order, resolving duplicates
// by its policy.
type EntrySet struct {
	Policy DuplicatePolicy
	order  []string // may hold deleted or repeated keys; Entries skips them
	values map[string]string
}

// NewEntrySet returns an empty set using policy.
func NewEntrySet(policy DuplicatePolicy) *EntrySet {
	return &EntrySet{Policy: policy, values: map[string]string{}}
}

// Add stores key. It reports true when the key was already present and
// the caller should warn (KeepFirstWarn only).
func (s *EntrySet) Add(key, value string) (warnDuplicate bool) {
	if _, dup := s.values[key]; dup {
		if s.Policy == Replace {
			s.values[key] = value
		}
		return s.Policy == KeepFirstWarn
	}
	s.Put(key, value)
	return false
}

// Put stores key, replacing any earlier value, whatever the policy.
func (s *EntrySet) Put(key, value string) {
	if _, dup := s.values[key]; !dup {
		s.order = append(s.order, key)
	}
	s.values[key] = value
}

// Delete removes key and reports whether it was present.
func (s *EntrySet) Delete(key string) bool {
	if _, ok := s.values[key]; !ok {
		return false
	}
	delete(s.values, key)
	return true
}

// Entries returns the entries in first-seen order.
func (s *EntrySet) Entries() []Entry {
	out := make([]Entry, 0, len(s.values))
	emitted := make(map[string]bool, len(s.values))
	for _, k := range s.order {
		if v, ok := s.values[k]; ok && !emitted[k] {
			emitted[k] = true
			out = append(out, Entry{Key: k, Value: v})
		}
	}
	return out
}

// WriteIndexed replaces the indexed table file dbPath with entries.
// The file keeps the mode and owner (when running as root) of the file
// it replaces; a new file gets mode 0600 plus the group and other read
// bits of source (the table's source file; nil gives 0644), as Postfix
// creates it. The write is atomic and fsynced.
func WriteIndexed(dbPath string, entries []Entry, source fs.FileInfo) error {
	mode, owner := newFileAttributes(dbPath, source)
	dir := filepath.Dir(dbPath)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dbPath)+".tmp*")
	if err != nil {
		return fmt.Errorf("create %s: %w", dbPath, describeErrno(err))
	}
	tmpPath := tmp.Name()
	tmp.Close()
	committed := false
	defer func() {
		if !committed {
			os.Remove(tmpPath)
		}
	}()
	if err := writeBolt(tmpPath, entries); err != nil {
		return fmt.Errorf("write %s: %w", dbPath, err)
	}
	if err := os.Chmod(tmpPath, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmpPath, err)
	}
	if owner != nil && os.Geteuid() == 0 {
		if err := os.Chown(tmpPath, int(owner.Uid), int(owner.Gid)); err != nil {
			return fmt.Errorf("chown %s: %w", tmpPath, err)
		}
	}
	if err := os.Rename(tmpPath, dbPath); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmpPath, dbPath, err)
	}
	committed = true
	return syncDir(dir)
}

// newFileAttributes picks the mode and owner for a table file: those of
// the file it replaces, else a mode derived from the source file and the
// process's own user (the caller has switched to the right one).
func newFileAttributes(dbPath string, source fs.FileInfo) (fs.FileMode, *syscall.Stat_t) {
	if old, err := os.Stat(dbPath); err == nil {
		st, _ := old.Sys().(*syscall.Stat_t)
		return old.Mode().Perm(), st
	}
	if source == nil || !source.Mode().IsRegular() {
		return 0o644, nil
	}
	return 0o600 | source.Mode().Perm()&0o044, nil
}

func writeBolt(path string, entries []Entry) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		return err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket(formatBucket)
		if err != nil {
			return err
		}
		if err := meta.Put([]byte("version"), []byte(formatVersion)); err != nil {
			return err
		}
		b, err := tx.CreateBucket(entriesBucket)
		if err != nil {
			return err
		}
		// Appending keys in order lets pages be filled completely.
		sorted := slices.SortedFunc(slices.Values(entries), func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
		b.FillPercent = 1.0
		for _, e := range sorted {
			if e.Key == "" {
				continue
			}
			if err := b.Put([]byte(e.Key), []byte(e.Value)); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.Sync()
	}
	if closeErr := db.Close(); err == nil {
		err = closeErr
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// ReadIndexed returns every entry of the indexed table file dbPath in key
// order, for tools that update a table (postmap -i, -d).
func ReadIndexed(dbPath string) ([]Entry, error) {
	db, err := openIndexedFile(dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var entries []Entry
	err = guardedView(db, func(tx *bolt.Tx) error {
		return tx.Bucket(entriesBucket).ForEach(func(k, v []byte) error {
			entries = append(entries, Entry{Key: string(k), Value: string(v)})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dbPath, err)
	}
	return entries, nil
}
