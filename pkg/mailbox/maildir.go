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

// pid is the P part of the unique name, asked once: getpid(2) is a
// system call every time.
var pid = os.Getpid()

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
	name := UniqueName(time.Now(), pid, deliveries.Add(1), hostname())
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
	if err := newDirs.sync(filepath.Join(dir, "new")); err != nil {
		return "", failure(err, maildirPrefix, "create maildir file "+newPath+": "+errnoText(err))
	}
	return newPath, nil
}

// deliverUnnamed is DeliverMaildir with a file that has no name until it
// is complete: opened with O_TMPFILE in tmp/, written and synced, then
// linked into new/, whose entry is synced too (the fsync shared with
// concurrent deliveries into the same Maildir, see dirSyncer). Nothing is
// added to or removed from tmp/, so the journal-less ext4 this project
// runs on has one directory fewer to write back per delivery (an fsync of
// a file created under a name also writes that name's directory), and a
// crash leaves no partial file in tmp/.
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
	defer unix.Close(fd)
	err = msg.writeMaildir(&limitWriter{w: fdWriter(fd), max: limit}, content)
	if err == nil {
		err = ignoringEINTR(func() error { return unix.Fsync(fd) })
	}
	if err != nil {
		return "", true, writeFailure(err, maildirPrefix)
	}
	err = linkUnnamed(fd, newPath)
	if err == unix.ENOENT {
		if err = makeMaildir(dir, newPath); err == nil {
			err = linkUnnamed(fd, newPath)
		}
	}
	if err != nil {
		err = &fs.PathError{Op: "link", Path: newPath, Err: err}
		return "", true, failure(err, maildirPrefix, "create maildir file "+newPath+": "+errnoText(err))
	}
	if err := newDirs.sync(filepath.Dir(newPath)); err != nil {
		return "", true, failure(err, maildirPrefix, "create maildir file "+newPath+": "+errnoText(err))
	}
	return newPath, true, nil
}

// emptyPathRefused is set once linkat(2) has refused AT_EMPTY_PATH where
// the descriptor's /proc link worked: a kernel before Linux 6.10 (which
// wants CAP_DAC_READ_SEARCH for it), or a process whose threads have
// credentials of their own (the kernel lets the descriptor be linked
// only with the credentials that opened it).
var emptyPathRefused atomic.Bool

// linkUnnamed gives the unnamed file fd the name newPath: with
// AT_EMPTY_PATH, one lookup fewer, where the kernel allows it, else
// through the descriptor's /proc link. A missing directory is ENOENT.
func linkUnnamed(fd int, newPath string) error {
	if !emptyPathRefused.Load() {
		err := unix.Linkat(fd, "", unix.AT_FDCWD, newPath, unix.AT_EMPTY_PATH)
		if err != unix.ENOENT && err != unix.EPERM {
			return err
		}
		// Refused, or no directory: the /proc link tells which.
	}
	link := "/proc/self/fd/" + strconv.Itoa(fd)
	err := unix.Linkat(unix.AT_FDCWD, link, unix.AT_FDCWD, newPath, unix.AT_SYMLINK_FOLLOW)
	if err == nil && !emptyPathRefused.Load() {
		emptyPathRefused.Store(true)
	}
	return err
}

// fdWriter writes to a regular file's descriptor with write(2) alone
// (an os.File would ask for its flags and set a finalizer first).
type fdWriter int

func (fd fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(int(fd), p[n:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return n, err
		case m == 0:
			return n, io.ErrShortWrite
		}
		n += m
	}
	return n, nil
}

// ignoringEINTR repeats call while it fails with EINTR.
func ignoringEINTR(call func() error) error {
	for {
		if err := call(); err != unix.EINTR {
			return err
		}
	}
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
