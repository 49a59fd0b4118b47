// Running as the source file's owner while building a table, as postmap
// and postalias do when started by root (unless -o).

package tablecmd

import (
	"io/fs"
	"os"
	"syscall"
)

// becomeOwner switches the effective user and group to the owner of the
// source file when running as root, and returns a function that switches
// back. It does nothing with -o, when not root, or when root owns the file.
func (c *command) becomeOwner(source fs.FileInfo) (restore func(), err error) {
	st, ok := source.Sys().(*syscall.Stat_t)
	if c.keepRoot || !ok || os.Getuid() != 0 || (st.Uid == 0 && st.Gid == 0) {
		return func() {}, nil
	}
	if err := syscall.Setegid(int(st.Gid)); err != nil {
		return nil, fatalf("setegid(%d): %s", st.Gid, errnoText(err))
	}
	if err := syscall.Seteuid(int(st.Uid)); err != nil {
		syscall.Setegid(0)
		return nil, fatalf("seteuid(%d): %s", st.Uid, errnoText(err))
	}
	return func() {
		syscall.Seteuid(0)
		syscall.Setegid(0)
	}, nil
}
