// Reading a hash/btree file that may be damaged: a fault or panic in bbolt becomes an error, not a crash of the daemon.

package maps

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// errDamaged marks a table file bbolt could not read safely.
var errDamaged = errors.New("database file is damaged")

// guardedOpen opens path read-only with bbolt, turning a panic or a
// memory fault (a page past the end of a truncated file) into an error.
func guardedOpen(path string) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %v", errDamaged, r)
		}
	}()
	return bolt.Open(path, 0, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
}

// guardedView is db.View with the same protection: bbolt reads the file
// through a memory map and trusts its page numbers.
func guardedView(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errDamaged, r)
		}
	}()
	tx, err := db.Begin(false)
	if err != nil {
		return err
	}
	// Rolled back even when fn panics, so that the read lock is released
	// and the table can still be closed.
	defer tx.Rollback()
	return fn(tx)
}
