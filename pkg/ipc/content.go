// Streaming message content as a sequence of chunk frames and an end marker.

package ipc

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// ContentChunk carries up to MaxChunk bytes of message content.
type ContentChunk struct {
	Data []byte
}

// Type implements Message.
func (*ContentChunk) Type() MsgType { return MsgContentChunk }

// fields: a decoded chunk's Data shares memory with the frame's payload.
func (m *ContentChunk) fields(c *codec) {
	c.chunk(1, &m.Data)
}

// ContentEnd ends the content of a message. Size is the total number of
// content bytes sent, which the receiver checks against what it got.
type ContentEnd struct {
	Size int64
}

// Type implements Message.
func (*ContentEnd) Type() MsgType { return MsgContentEnd }

func (m *ContentEnd) fields(c *codec) {
	c.offset(1, &m.Size)
}

// chunkBuffers keeps SendContent's chunk buffers for the next message,
// and smallBuffers the smaller ones it fills first: most messages fit
// one, and a MaxChunk buffer for each would be the largest allocation of
// a submission whenever a collection emptied the pool.
var (
	chunkBuffers = sync.Pool{New: func() any { b := make([]byte, MaxChunk); return &b }}
	smallBuffers = sync.Pool{New: func() any { b := make([]byte, smallChunk); return &b }}
)

// smallChunk is the size of the buffer SendContent fills first.
const smallChunk = 8 << 10

// SendContent streams everything r yields as ContentChunk frames followed by
// a ContentEnd, never holding more than one chunk in memory. It returns the
// number of content bytes sent. A full chunk is written at once; the last
// one leaves with the end marker and the frames queued before (see Queue),
// so a message of up to MaxChunk bytes is one write. Content that fills
// the small first buffer goes on in a MaxChunk one, so the frames are the
// same either way.
func (c *Conn) SendContent(ctx context.Context, r io.Reader) (int64, error) {
	sp := smallBuffers.Get().(*[]byte)
	defer smallBuffers.Put(sp)
	buf := (*sp)[:smallChunk]
	var bp *[]byte
	defer func() {
		if bp != nil {
			chunkBuffers.Put(bp)
		}
	}()
	var total int64
	for {
		n, readErr := fill(r, buf)
		if readErr == nil && len(buf) < MaxChunk {
			// More may follow: on in a full-size chunk.
			bp = chunkBuffers.Get().(*[]byte)
			big := *bp
			copy(big, buf[:n])
			m, err := fill(r, big[n:])
			n, readErr, buf = n+m, err, big
		}
		if n > 0 {
			chunk := &ContentChunk{Data: buf[:n]}
			if err := c.Queue(chunk); err != nil {
				return total, err
			}
			if readErr != io.EOF {
				// More to come, or the source failed: what was read
				// goes now, as it would unbuffered.
				if err := c.flush(ctx, chunk.Type()); err != nil {
					return total, err
				}
			}
			total += int64(n)
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			if len(c.wbuf) > 0 {
				if err := c.flush(ctx, MsgContentChunk); err != nil {
					return total, err
				}
			}
			return total, fmt.Errorf("read message content: %w", readErr)
		}
	}
	return total, c.Send(ctx, &ContentEnd{Size: total})
}

// fill reads from r until buf is full or r fails. Unlike io.ReadFull it
// returns r's own error unchanged, so only a clean io.EOF from r counts as
// the end of the content; a source that reports io.ErrUnexpectedEOF (a
// client that hung up mid-message) stays an error and is never queued.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ContentReader returns a reader over the message content that follows a
// CleanupSubmission on c. It returns io.EOF after the ContentEnd frame, and
// an error if the peer hangs up first, sends another message, or announces
// a size that differs from what it sent. The reader must be drained before
// c is used for anything else.
func (c *Conn) ContentReader(ctx context.Context) io.Reader {
	return &contentReader{ctx: ctx, conn: c}
}

type contentReader struct {
	ctx     context.Context
	conn    *Conn
	pending []byte
	total   int64
	err     error
}

func (cr *contentReader) Read(p []byte) (int, error) {
	for len(cr.pending) == 0 {
		if cr.err != nil {
			return 0, cr.err
		}
		cr.err = cr.fill()
	}
	n := copy(p, cr.pending)
	cr.pending = cr.pending[n:]
	return n, nil
}

// fill reads the next content frame; it returns io.EOF at the end marker.
func (cr *contentReader) fill() error {
	m, err := cr.conn.receive(cr.ctx, "message content", true)
	if err != nil {
		return err
	}
	switch m := m.(type) {
	case *ContentChunk:
		cr.pending = m.Data
		cr.total += int64(len(m.Data))
		return nil
	case *ContentEnd:
		if m.Size != cr.total {
			return fmt.Errorf("read message content from %s: end marker says %d bytes, received %d", cr.conn.peer, m.Size, cr.total)
		}
		return io.EOF
	default:
		return fmt.Errorf("read message content from %s: unexpected %v", cr.conn.peer, m.Type())
	}
}
