// Reading .forward and :include: files safely, and the Delivered-To: headers of the message.

package local

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/postern/postern/pkg/header"
	"github.com/postern/postern/pkg/maps"
)

// maxListFile bounds the size of a .forward or :include: file.
const maxListFile = 1 << 20

// listFile is an opened .forward or :include: file.
type listFile struct {
	f  *os.File
	st *syscall.Stat_t
}

// openListFile opens path with u's rights when privileged (nil u: root's
// own), following a final symbolic link only when follow is set. It
// returns os.ErrNotExist-wrapping errors for a missing file.
func openListFile(path string, u *User, privileged, follow bool) (*listFile, error) {
	flags := syscall.O_NONBLOCK
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	var f *os.File
	var err error
	if privileged && u != nil && u.UID != 0 {
		f, err = openAs(path, u.UID, u.GID, flags)
	} else {
		f, err = os.OpenFile(path, os.O_RDONLY|flags, 0)
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fstat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, errNotRegular)
	}
	return &listFile{f: f, st: st.Sys().(*syscall.Stat_t)}, nil
}

// errNotRegular marks a list file that is a link, directory or device.
var errNotRegular = errors.New("not a regular file")

// read returns the content and closes the file.
func (l *listFile) read() (string, error) {
	defer l.f.Close()
	data, err := io.ReadAll(io.LimitReader(l.f, maxListFile+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", l.f.Name(), err)
	}
	if len(data) > maxListFile {
		return "", fmt.Errorf("%s: file too large", l.f.Name())
	}
	return string(data), nil
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
