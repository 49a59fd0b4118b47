// Maildir delivery: write into tmp/, fsync, move into new/ under a unique name.

package mailbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// deliveries counts this process's Maildir deliveries for the Q part of
// the unique name.
var deliveries atomic.Uint64

// hostEscaper writes "/" and ":" in a host name as Maildir names need.
var hostEscaper = strings.NewReplacer("/", `\057`, ":", `\072`)

// UniqueName is a Maildir file name as the Maildir specification builds
// it: "<seconds>.M<microseconds>P<pid>Q<count>.<host>", with "/" and ":"
// in the host name written as \057 and \072.
func UniqueName(now time.Time, pid int, count uint64, host string) string {
	host = hostEscaper.Replace(host)
	return fmt.Sprintf("%d.M%dP%dQ%d.%s", now.Unix(), now.Nanosecond()/1000, pid, count, host)
}

// DeliverMaildir delivers content to the Maildir dir (a path ending in
// "/" or not), creating dir and its tmp, new and cur subdirectories when
// missing. The file is written in tmp/ (unnamed where the system allows,
// see deliverUnnamed), synced, and then named in new/, whose directory is
// synced too. limit > 0 bounds the file size. It returns the path of the
// delivered file.
func DeliverMaildir(dir string, msg *Message, content io.Reader, limit int64) (string, error) {
	dir = strings.TrimSuffix(dir, "/")
	name := UniqueName(time.Now(), os.Getpid(), deliveries.Add(1), hostname())
	tmpPath := filepath.Join(dir, "tmp", name)
	newPath := filepath.Join(dir, "new", name)
	if procFDs() {
		if path, done, err := deliverUnnamed(dir, tmpPath, newPath, msg, content, limit); done {
			return path, err
		}
	}
	// As in Postfix the directories are made when the file cannot be
	// created for want of them, not checked at every delivery.
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL | noFollow
	f, err := openFile(tmpPath, flags, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		if err := makeMaildir(dir, tmpPath); err != nil {
			return "", err
		}
		f, err = openFile(tmpPath, flags, 0o600)
	}
	if err != nil {
		return "", failure(err, maildirPrefix, "create maildir file "+tmpPath+": "+errnoText(err))
	}
	if err := writeSynced(f, msg, content, limit); err != nil {
		os.Remove(tmpPath)
		return "", writeFailure(err, maildirPrefix)
	}
	// syscall.Rename, not os.Rename: no lstat of the new name first.
	err = syscall.Rename(tmpPath, newPath)
	if errors.Is(err, syscall.ENOENT) {
		if err = makeMaildir(dir, newPath); err == nil {
			err = syscall.Rename(tmpPath, newPath)
		}
	}
	if err != nil {
		os.Remove(tmpPath)
		return "", failure(err, maildirPrefix, "create maildir file "+newPath+": "+errnoText(err))
	}
	if err := syncDir(filepath.Join(dir, "new")); err != nil {
		return "", failure(err, maildirPrefix, "create maildir file "+newPath+": "+errnoText(err))
	}
	return newPath, nil
}

// deliverUnnamed is DeliverMaildir with a file that has no name until it
// is complete: opened with O_TMPFILE in tmp/, written and synced, then
// linked into new/. Nothing is added to or removed from tmp/, so the
// journal-less ext4 this project runs on has one directory fewer to write
// back per delivery (an fsync of a file created under a name also writes
// that name's directory), and a crash leaves no partial file in tmp/.
// done is false, with nothing read from content, when the file system has
// no O_TMPFILE: the caller then writes the file in tmp/ under its name.
// tmpPath is the name errors give for the file before it is linked.
func deliverUnnamed(dir, tmpPath, newPath string, msg *Message, content io.Reader, limit int64) (path string, done bool, err error) {
	tmpDir := filepath.Dir(tmpPath)
	fd, err := unix.Open(tmpDir, unix.O_WRONLY|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
	if err == unix.ENOENT {
		if err := makeMaildir(dir, tmpPath); err != nil {
			return "", true, err
		}
		fd, err = unix.Open(tmpDir, unix.O_WRONLY|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
	}
	switch err {
	case nil:
	case unix.EOPNOTSUPP, unix.EISDIR, unix.EINVAL:
		return "", false, nil
	default:
		err = &fs.PathError{Op: "open", Path: tmpPath, Err: err}
		return "", true, failure(err, maildirPrefix, "create maildir file "+tmpPath+": "+errnoText(err))
	}
	f := os.NewFile(uintptr(fd), tmpPath)
	defer f.Close()
	err = msg.writeMaildir(&limitWriter{w: f, max: limit}, content)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return "", true, writeFailure(err, maildirPrefix)
	}
	// The descriptor's /proc link names the file for linkat(2) without
	// the CAP_DAC_READ_SEARCH that AT_EMPTY_PATH needs.
	link := "/proc/self/fd/" + strconv.Itoa(fd)
	err = unix.Linkat(unix.AT_FDCWD, link, unix.AT_FDCWD, newPath, unix.AT_SYMLINK_FOLLOW)
	if err == unix.ENOENT {
		if err = makeMaildir(dir, newPath); err == nil {
			err = unix.Linkat(unix.AT_FDCWD, link, unix.AT_FDCWD, newPath, unix.AT_SYMLINK_FOLLOW)
		}
	}
	if err != nil {
		err = &fs.PathError{Op: "link", Path: newPath, Err: err}
		return "", true, failure(err, maildirPrefix, "create maildir file "+newPath+": "+errnoText(err))
	}
	if err := syncDir(filepath.Join(dir, "new")); err != nil {
		return "", true, failure(err, maildirPrefix, "create maildir file "+newPath+": "+errnoText(err))
	}
	return newPath, true, nil
}

// procFDs reports whether /proc/self/fd is there (not in a chroot jail
// without /proc), which deliverUnnamed needs.
var procFDs = sync.OnceValue(func() bool {
	return unix.Access("/proc/self/fd", unix.X_OK) == nil
})

// makeMaildir creates dir and its tmp, new and cur subdirectories where
// missing. The error is an *Error about file, the Maildir file that
// wanted them, as Postfix words it.
func makeMaildir(dir, file string) error {
	for _, sub := range []string{"", "tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return failure(err, maildirPrefix, "create maildir file "+file+": "+errnoText(err))
		}
	}
	return nil
}

// maildirPrefix starts the text of every failed Maildir delivery.
const maildirPrefix = "maildir delivery failed: "

// hostname is the host part of Maildir file names, looked up once.
var hostname = sync.OnceValue(func() string {
	host, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return host
})

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
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	err = unix.Fsync(fd)
	return errors.Join(err, unix.Close(fd))
}

// openFile is os.OpenFile for a regular file without the attempt to
// register it with the network poller, which costs four system calls
// for nothing (Linux does not poll regular files).
func openFile(path string, flag int, perm uint32) (*os.File, error) {
	fd, err := unix.Open(path, flag|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}
