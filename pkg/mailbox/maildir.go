// Maildir delivery: write into tmp/, fsync, move into new/ under a unique name.

package mailbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// deliveries counts this process's Maildir deliveries for the Q part of
// the unique name.
var deliveries atomic.Uint64

// UniqueName is a Maildir file name as the Maildir specification builds
// it: "<seconds>.M<microseconds>P<pid>Q<count>.<host>", with "/" and ":"
// in the host name written as \057 and \072.
func UniqueName(now time.Time, pid int, count uint64, host string) string {
	host = strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
	return fmt.Sprintf("%d.M%dP%dQ%d.%s", now.Unix(), now.Nanosecond()/1000, pid, count, host)
}

// DeliverMaildir delivers content to the Maildir dir (a path ending in
// "/" or not), creating dir and its tmp, new and cur subdirectories when
// missing. The file is written under tmp/, synced, and renamed into new/,
// whose directory is then synced. limit > 0 bounds the file size. It
// returns the path of the delivered file.
func DeliverMaildir(dir string, msg *Message, content io.Reader, limit int64) (string, error) {
	dir = strings.TrimSuffix(dir, "/")
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return "", failure(err, "create maildir directory %s: %s", filepath.Join(dir, sub), errnoText(err))
		}
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	name := UniqueName(time.Now(), os.Getpid(), deliveries.Add(1), host)
	tmpPath := filepath.Join(dir, "tmp", name)
	newPath := filepath.Join(dir, "new", name)
	f, err := os.OpenFile(tmpPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
	if err != nil {
		return "", failure(err, "create maildir file %s: %s", tmpPath, errnoText(err))
	}
	if err := writeSynced(f, msg, content, limit); err != nil {
		os.Remove(tmpPath)
		return "", failure(err, "create maildir file %s: %s", tmpPath, errnoText(err))
	}
	if err := os.Rename(tmpPath, newPath); err != nil {
		os.Remove(tmpPath)
		return "", failure(err, "create maildir file %s: %s", newPath, errnoText(err))
	}
	if err := syncDir(filepath.Join(dir, "new")); err != nil {
		return "", failure(err, "create maildir file %s: %s", newPath, errnoText(err))
	}
	return newPath, nil
}

// writeSynced writes the Maildir file, syncs and closes it.
func writeSynced(f *os.File, msg *Message, content io.Reader, limit int64) error {
	err := msg.writeMaildir(&limitWriter{w: f, max: limit}, content)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a directory's entries durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
