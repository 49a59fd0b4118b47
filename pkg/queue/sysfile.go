// File operations without the extra system calls of package os: no poller registration for a regular file, no rmdir after an unlink, no lstat before a rename.

package queue

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openFile is os.OpenFile for a regular file, without the four system
// calls that try and fail to register it with the network poller.
func openFile(path string, flag int, perm uint32) (*os.File, error) {
	fd, err := unix.Open(path, flag|unix.O_CLOEXEC, perm)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// RemoveFile removes the file at path with one unlink; os.Remove follows
// a failed unlink with an rmdir, which for a queue file's missing log is
// one system call for nothing. The error is an *fs.PathError.
func RemoveFile(path string) error {
	if err := unix.Unlink(path); err != nil {
		return &fs.PathError{Op: "remove", Path: path, Err: err}
	}
	return nil
}

// renameFile is os.Rename without its lstat of the new name.
func renameFile(oldPath, newPath string) error {
	if err := syscall.Rename(oldPath, newPath); err != nil {
		return &os.LinkError{Op: "rename", Old: oldPath, New: newPath, Err: err}
	}
	return nil
}
