// Reading message content back out of a queue file as text with LF line ends.

package queue

import (
	"fmt"
	"io"
	"io/fs"

	"golang.org/x/sys/unix"
)

// ContentReader returns the message content of a queue file, each line
// ended by LF, as delivery agents send it.
type ContentReader struct {
	file *contentFile
	rr   *RecordReader
	buf  []byte
	done bool
}

// OpenContent opens the content of the queue file at path, whose content
// starts at dataOffset (Message.Size.DataOffset).
func OpenContent(path string, dataOffset int64) (*ContentReader, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, &fs.PathError{Op: "open", Path: path, Err: err})
	}
	f := &contentFile{fd: fd, name: path, off: dataOffset}
	return &ContentReader{file: f, rr: NewRecordReader(f, dataOffset)}, nil
}

// contentFile reads a queue file from an offset with pread(2): no seek
// to the content first, and none of an os.File's set-up (its flags asked
// for, a finalizer) for a file read once.
type contentFile struct {
	fd   int
	name string
	off  int64
}

func (f *contentFile) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := unix.Pread(f.fd, p, f.off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		}
		if n == 0 {
			return 0, io.EOF
		}
		f.off += int64(n)
		return n, nil
	}
}

// Name is the file's path, for error messages.
func (f *contentFile) Name() string { return f.name }

func (f *contentFile) Close() error {
	if err := unix.Close(f.fd); err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// Read implements io.Reader. It fills p with as many lines as fit, so
// that a large message takes few reads, not one per line.
func (c *ContentReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(c.buf) > 0 {
			m := copy(p[n:], c.buf)
			c.buf = c.buf[m:]
			n += m
			continue
		}
		if c.done {
			break
		}
		rec, err := c.rr.Next()
		if err == io.EOF {
			return n, fmt.Errorf("%s: %w: content ends without extracted marker", c.file.Name(), ErrCorrupt)
		}
		if err != nil {
			return n, fmt.Errorf("%s: %w", c.file.Name(), err)
		}
		switch rec.Type {
		case RecLine, RecLinePart:
			// Straight into p when the whole line fits, else by way of
			// c.buf.
			line := len(rec.Data)
			if rec.Type == RecLine {
				line++
			}
			if line <= len(p)-n {
				n += copy(p[n:], rec.Data)
				if rec.Type == RecLine {
					p[n] = '\n'
					n++
				}
				continue
			}
			c.buf = append(c.buf[:0], rec.Data...)
			if rec.Type == RecLine {
				c.buf = append(c.buf, '\n')
			}
		case RecExtracted:
			c.done = true
		default:
			return n, fmt.Errorf("%s: %w: offset %d: unexpected %s record in message content", c.file.Name(), ErrCorrupt, rec.Offset, rec.Type.Name())
		}
	}
	if n == 0 && c.done && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Close closes the file.
func (c *ContentReader) Close() error {
	c.rr.Release()
	return c.file.Close()
}
