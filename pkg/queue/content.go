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

// Read implements io.Reader.
func (c *ContentReader) Read(p []byte) (int, error) {
	for len(c.buf) == 0 {
		if c.done {
			return 0, io.EOF
		}
		rec, err := c.rr.Next()
		if err == io.EOF {
			return 0, fmt.Errorf("%s: %w: content ends without extracted marker", c.file.Name(), ErrCorrupt)
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", c.file.Name(), err)
		}
		switch rec.Type {
		case RecLine:
			c.buf = append(append(c.buf[:0], rec.Data...), '\n')
		case RecLinePart:
			c.buf = append(c.buf[:0], rec.Data...)
		case RecExtracted:
			c.done = true
		default:
			return 0, fmt.Errorf("%s: %w: offset %d: unexpected %s record in message content", c.file.Name(), ErrCorrupt, rec.Offset, rec.Type.Name())
		}
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// Close closes the file.
func (c *ContentReader) Close() error {
	c.rr.Release()
	return c.file.Close()
}
