// Reading message content back out of a queue file as text with LF line ends.

package queue

import (
	"fmt"
	"io"
	"os"
)

// ContentReader returns the message content of a queue file, each line
// ended by LF, as delivery agents send it.
type ContentReader struct {
	file *os.File
	rr   *RecordReader
	buf  []byte
	done bool
}

// OpenContent opens the content of the queue file at path, whose content
// starts at dataOffset (Message.Size.DataOffset).
func OpenContent(path string, dataOffset int64) (*ContentReader, error) {
	f, err := openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := f.Seek(dataOffset, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek %s: %w", path, err)
	}
	return &ContentReader{file: f, rr: NewRecordReader(f, dataOffset)}, nil
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
