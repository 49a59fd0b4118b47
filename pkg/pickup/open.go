// Opening a maildrop file safely: maildrop/ is writable by every user of the postdrop group.

package pickup

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/postern/postern/pkg/queue"
)

// errSkip marks a file that is not (yet) for pickup; it is not logged.
var errSkip = errors.New("skip")

// maildropFile is an opened, checked maildrop file.
type maildropFile struct {
	file *os.File
	uid  int
}

// openMaildrop opens path without following a symbolic link and checks
// the opened file itself, so that a user who can write to maildrop/
// cannot swap in a link to a file pickup may read and they may not: it
// must be a regular, committed (mode 0700) file with one link.
func openMaildrop(path string) (*maildropFile, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, errSkip
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fstat: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	switch {
	case !st.Mode().IsRegular() || !ok:
		f.Close()
		return nil, errors.New("not a regular file")
	case sys.Nlink != 1:
		f.Close()
		return nil, fmt.Errorf("file has %d links", sys.Nlink)
	case !queue.ModeReady(st.Mode()):
		f.Close()
		return nil, errSkip // still being written
	}
	return &maildropFile{file: f, uid: int(sys.Uid)}, nil
}

// contentReader returns the message content of the open file as lines
// ended by LF. It works on the descriptor pickup checked, where
// queue.OpenContent would open the path again.
func (m *maildropFile) contentReader(dataOffset int64) (io.Reader, error) {
	if _, err := m.file.Seek(dataOffset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seek: %w", err)
	}
	return &recordContent{rr: queue.NewRecordReader(m.file, dataOffset), name: m.file.Name()}, nil
}

// recordContent turns content records into text.
type recordContent struct {
	rr   *queue.RecordReader
	name string
	buf  []byte
	done bool
}

func (c *recordContent) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.done {
			return 0, io.EOF
		}
		rec, err := c.rr.Next()
		if err == io.EOF {
			return 0, fmt.Errorf("%s: %w: content ends without extracted marker", c.name, queue.ErrCorrupt)
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", c.name, err)
		}
		switch rec.Type {
		case queue.RecLine:
			c.buf = append(append(c.buf[:0], rec.Data...), '\n')
		case queue.RecLinePart:
			c.buf = append(c.buf[:0], rec.Data...)
		case queue.RecExtracted:
			c.done = true
		default:
			return 0, fmt.Errorf("%s: %w: offset %d: unexpected %s record in message content", c.name, queue.ErrCorrupt, rec.Offset, rec.Type.Name())
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}
