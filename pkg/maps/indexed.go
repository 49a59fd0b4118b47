// Indexed tables (hash, btree): NAME.db files built by postmap and stored
// with go.etcd.io/bbolt, opened read-only by daemons.

package maps

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// Both indexed types share one on-disk format; Postfix keeps them apart
// because Berkeley DB does, Postern has no reason to.
func init() {
	Register("hash", openIndexed("hash"))
	Register("btree", openIndexed("btree"))
}

// Bucket names inside a Postern table file.
var (
	entriesBucket = []byte("entries")
	formatBucket  = []byte("postern-table")
)

// formatVersion marks a file written by Postern's postmap or postalias.
const formatVersion = "1"

// IndexedPath is the file an indexed table called name lives in.
func IndexedPath(name string) string { return name + ".db" }

// indexedTable is an opened NAME.db.
type indexedTable struct {
	spec   string
	db     *bolt.DB
	path   string
	source string
	opts   Options
}

func openIndexed(typ string) Opener {
	return func(name string, opts Options) (Table, error) {
		db, err := openIndexedFile(IndexedPath(name))
		if err != nil {
			return nil, err
		}
		return &indexedTable{spec: typ + ":" + name, db: db, path: IndexedPath(name), source: name, opts: opts}, nil
	}
}

// openIndexedFile opens a Postern table file read-only. A missing file
// and a file in another format get Postfix-style errors.
func openIndexedFile(path string) (*bolt.DB, error) {
	// Try the file first, so that bbolt's errors below can only be about
	// its format.
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, describeErrno(err))
	}
	f.Close()
	db, err := guardedOpen(path)
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open database %s: locked by another process: %w", path, err)
		}
		return nil, notPosternTable(path)
	}
	err = guardedView(db, func(tx *bolt.Tx) error {
		meta := tx.Bucket(formatBucket)
		if meta == nil || string(meta.Get([]byte("version"))) != formatVersion || tx.Bucket(entriesBucket) == nil {
			return notPosternTable(path)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func notPosternTable(path string) error {
	return fmt.Errorf("open database %s: not a Postern table file (perhaps built by another program); rebuild it with postmap or postalias", path)
}

// describeErrno turns a *PathError into its bare errno so that the
// message reads "open database X: No such file or directory".
func describeErrno(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		var errno syscall.Errno
		if errors.As(pathErr.Err, &errno) {
			return errnoText(errno)
		}
		return pathErr.Err
	}
	return err
}

// errnoText is an errno worded as C's strerror words it.
type errnoText syscall.Errno

func (e errnoText) Error() string {
	text := syscall.Errno(e).Error()
	if text != "" && text[0] >= 'a' && text[0] <= 'z' {
		text = string(text[0]-'a'+'A') + text[1:]
	}
	return text
}

func (e errnoText) Unwrap() error { return syscall.Errno(e) }

func (t *indexedTable) Lookup(key string) (string, bool, error) {
	if !usableKey(key, t.opts) {
		return "", false, nil
	}
	key = Fold(key, t.opts)
	var value string
	var found bool
	err := guardedView(t.db, func(tx *bolt.Tx) error {
		if v := tx.Bucket(entriesBucket).Get([]byte(key)); v != nil {
			value, found = string(v), true
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("table %s: %w", t.spec, err)
	}
	return value, found, nil
}

func (t *indexedTable) Spec() string    { return t.spec }
func (t *indexedTable) Close() error    { return t.db.Close() }
func (t *indexedTable) Files() []string { return []string{t.path} }

// CheckSource reports a database older than its source file.
func (t *indexedTable) CheckSource() string {
	src, err := os.Stat(t.source)
	if err != nil {
		return ""
	}
	db, err := os.Stat(t.path)
	if err != nil || !src.ModTime().After(db.ModTime()) {
		return ""
	}
	return fmt.Sprintf("database %s is older than source file %s", t.path, t.source)
}

// Walk calls fn for every entry in key order until fn returns false.
func (t *indexedTable) Walk(fn func(key, value string) bool) error {
	return guardedView(t.db, func(tx *bolt.Tx) error {
		c := tx.Bucket(entriesBucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !fn(string(k), string(v)) {
				break
			}
		}
		return nil
	})
}
