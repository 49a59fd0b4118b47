// Indexed tables a daemon keeps up to date itself (verify's
// address_verify_map): NAME.db opened read-write, created when missing,
// each change written and synced in its own transaction.

package maps

import (
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
)

// UpdatableTable is a table its owner reads and changes while it runs.
type UpdatableTable interface {
	Table
	// Put stores value for key, replacing any value it had.
	Put(key, value string) error
	// Delete removes key; a missing key is not an error.
	Delete(key string) error
	// Walk calls fn for every entry in key order until fn returns false.
	Walk(fn func(key, value string) bool) error
}

// updateLockWait bounds the wait for the file's lock, which a previous
// process of the same daemon may still hold while it exits.
const updateLockWait = 30 * time.Second

// OpenUpdatable opens a hash or btree table for reading and writing, and
// creates NAME.db with mode perm (less the umask) when it does not exist.
// Keys are stored as given, never folded: the owner decides their form.
// While it is open, other programs cannot open the file.
func OpenUpdatable(spec string, perm os.FileMode) (UpdatableTable, error) {
	typ, name := SplitSpec(spec, "")
	if typ != "hash" && typ != "btree" || name == "" {
		return nil, fmt.Errorf("open database %s: table type %q cannot be updated (use hash or btree)", spec, typ)
	}
	path := IndexedPath(name)
	db, err := guardedOpenWritable(path, perm)
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("open database %s: locked by another process: %w", path, err)
		}
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			return nil, fmt.Errorf("open database %s: %w", path, describeErrno(err))
		}
		return nil, notPosternTable(path)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(formatBucket)
		if meta == nil && tx.Bucket(entriesBucket) == nil {
			if meta, err = tx.CreateBucket(formatBucket); err != nil {
				return err
			}
			if err := meta.Put([]byte("version"), []byte(formatVersion)); err != nil {
				return err
			}
			_, err = tx.CreateBucket(entriesBucket)
			return err
		}
		if meta == nil || string(meta.Get([]byte("version"))) != formatVersion || tx.Bucket(entriesBucket) == nil {
			return notPosternTable(path)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &updatableTable{indexedTable{spec: spec, db: db, path: path, source: name, opts: Options{NoFold: true}}}, nil
}

// guardedOpenWritable is guardedOpen for reading and writing.
func guardedOpenWritable(path string, perm os.FileMode) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", errDamaged, r)
		}
	}()
	return bolt.Open(path, perm, &bolt.Options{Timeout: updateLockWait})
}

// updatableTable is an indexedTable opened read-write.
type updatableTable struct {
	indexedTable
}

func (t *updatableTable) Put(key, value string) error {
	err := t.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(entriesBucket).Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("table %s: update %s: %w", t.spec, key, err)
	}
	return nil
}

func (t *updatableTable) Delete(key string) error {
	err := t.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(entriesBucket).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("table %s: delete %s: %w", t.spec, key, err)
	}
	return nil
}
