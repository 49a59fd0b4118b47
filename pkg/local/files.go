// Reading .forward and :include: files safely, and the Delivered-To: headers of the message.
package local

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/postern/postern/pkg/header"
	"github.com/postern/postern/pkg/maps"
)

// maxListFile bounds the size of a .forward or :include: file.
const maxListFile = 1 << 20

// readAs reads a .forward or :include: file on behalf of u: it must be a
// regular file, not reached through a symbolic link, that u may read by
// its permission bits (local reads it itself, so it checks them for u).
// exists is false when there is no such file.
func readAs(path string, u *User, privileged bool) (text string, exists bool, err error) {
	if !strings.HasPrefix(path, "/") {
		return "", false, fmt.Errorf("%s: not an absolute pathname", path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", true, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", true, fmt.Errorf("fstat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return "", true, fmt.Errorf("%s: not a regular file", path)
	}
	if privileged && u != nil && !mayRead(st.Sys().(*syscall.Stat_t), u) {
		return "", true, fmt.Errorf("open %s: %w", path, os.ErrPermission)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxListFile+1))
	if err != nil {
		return "", true, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxListFile {
		return "", true, fmt.Errorf("%s: file too large", path)
	}
	return string(data), true, nil
}

// mayRead applies the permission bits of st to u.
func mayRead(st *syscall.Stat_t, u *User) bool {
	switch {
	case st.Uid == u.UID:
		return st.Mode&0o400 != 0
	case st.Gid == u.GID || slices.Contains(u.Groups, st.Gid):
		return st.Mode&0o040 != 0
	}
	return st.Mode&0o004 != 0
}

// listFileValue joins the lines of a .forward or :include: file into one
// alias value, dropping comment lines.
func listFileValue(text string) string {
	var parts []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts = append(parts, line)
	}
	return strings.Join(parts, ", ")
}

// tableFile is the file a table's entries live in, "" if none.
func tableFile(t maps.Table) string {
	if fb, ok := t.(maps.FileBacked); ok {
		if files := fb.Files(); len(files) > 0 {
			return files[0]
		}
	}
	return ""
}

// readDeliveredTo collects the lower-cased addresses of the message's
// Delivered-To: headers.
func readDeliveredTo(open func() (io.ReadCloser, error)) (map[string]bool, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	found := map[string]bool{}
	s := header.NewScanner(rc, header.DefaultLimit)
	for s.Next() {
		if s.Name() == "delivered-to" {
			found[strings.ToLower(header.Value(s.Header()))] = true
		}
	}
	if s.Err() != nil {
		return nil, s.Err()
	}
	return found, nil
}
