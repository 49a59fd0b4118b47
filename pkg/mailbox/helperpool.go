// Delivery helpers kept between deliveries: one child per credential does
// many deliveries, instead of a program start for each message.

package mailbox

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// helperIdleLimit is how long an unused helper is kept.
const helperIdleLimit = 10 * time.Second

// deliveryTimeLimit bounds one delivery in a helper child.
var deliveryTimeLimit = 30 * time.Minute

// maxChunk bounds one chunk of content between agent and helper.
const maxChunk = 64 << 10

// Helpers runs deliveries in helper children, the program Exe started
// with HelperArg, keeping each child for further deliveries with the same
// credentials. A child does one delivery at a time; concurrent deliveries
// with the same credentials get children of their own. It is safe for
// concurrent use.
type Helpers struct {
	Exe string

	mu   sync.Mutex
	idle map[credKey][]*helper
}

type credKey struct{ uid, gid uint32 }

func keyOf(cred *syscall.Credential) credKey {
	if cred == nil {
		return credKey{^uint32(0), ^uint32(0)}
	}
	return credKey{cred.Uid, cred.Gid}
}

// Deliver carries out req in a helper with the credentials cred (nil:
// this process's own); the credentials' supplementary groups must be
// empty. The error is an *Error, as DeliverAs's.
func (p *Helpers) Deliver(cred *syscall.Credential, req *Request, content io.Reader) error {
	key := keyOf(cred)
	h := p.take(key)
	if h == nil {
		var err error
		if h, err = startHelper(p.Exe, cred); err != nil {
			return err
		}
	}
	err := h.deliver(req, content)
	if h.broken {
		h.stop()
		return err
	}
	p.keep(key, h)
	return err
}

func (p *Helpers) take(key credKey) *helper {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked(time.Now())
	list := p.idle[key]
	if len(list) == 0 {
		return nil
	}
	h := list[len(list)-1]
	p.idle[key] = list[:len(list)-1]
	return h
}

func (p *Helpers) keep(key credKey, h *helper) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = map[credKey][]*helper{}
	}
	h.since = time.Now()
	p.idle[key] = append(p.idle[key], h)
	p.expireLocked(h.since)
}

// expireLocked ends the helpers idle for longer than helperIdleLimit.
func (p *Helpers) expireLocked(now time.Time) {
	for key, list := range p.idle {
		keep := list[:0]
		for _, h := range list {
			if now.Sub(h.since) > helperIdleLimit {
				go h.stop()
			} else {
				keep = append(keep, h)
			}
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(p.idle, key)
		} else {
			p.idle[key] = keep
		}
	}
}

// Close ends every idle helper.
func (p *Helpers) Close() {
	p.mu.Lock()
	list := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, hs := range list {
		for _, h := range hs {
			h.stop()
		}
	}
}

// helper is one child in helper mode.
type helper struct {
	exe    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	in     *bufio.Writer
	out    *bufio.Reader
	stderr *lockedBuffer
	since  time.Time
	broken bool // the child cannot take another delivery
}

func startHelper(exe string, cred *syscall.Credential) (*helper, error) {
	cmd := exec.Command(exe, HelperArg)
	cmd.Env = []string{}
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	h := &helper{exe: exe, cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = h.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, h.failure(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, h.failure(err)
	}
	if err := cmd.Start(); err != nil {
		return nil, h.failure(err)
	}
	h.stdin, h.in, h.out = stdin, bufio.NewWriterSize(stdin, maxChunk+4), bufio.NewReader(stdout)
	return h, nil
}

func (h *helper) failure(err error) *Error {
	return &Error{DSN: "4.3.0", Text: fmt.Sprintf("mailbox delivery helper %s: %v: %s", h.exe, err, bytes.TrimSpace(h.stderr.Bytes()))}
}

// deliver sends one request and its content and reads the outcome. When
// the exchange itself fails the helper is marked broken and the error
// says why, with what the child wrote to its standard error.
func (h *helper) deliver(req *Request, content io.Reader) error {
	header, err := json.Marshal(req)
	if err != nil {
		return &Error{DSN: "4.3.0", Text: fmt.Sprintf("encode delivery request: %v", err)}
	}
	fail := func(err error) error {
		h.broken = true
		h.stdin.Close()
		waitErr := h.cmd.Wait()
		h.cmd = nil
		if waitErr != nil {
			err = waitErr
		}
		return h.failure(err)
	}
	// A delivery that does not finish in time (a lock never released, a
	// file system that hangs) is ended with its helper.
	proc := h.cmd.Process
	timer := time.AfterFunc(deliveryTimeLimit, func() { proc.Kill() })
	defer timer.Stop()
	h.in.Write(append(header, '\n'))
	if err := writeChunked(h.in, content); err != nil {
		var readErr *contentError
		if errors.As(err, &readErr) {
			// The queue file could not be read. Only the empty chunk
			// says the content is complete, so the child, its input
			// closed without one, fails the delivery instead of
			// storing part of the message.
			fail(err)
			return &Error{DSN: "4.3.0", Text: "cannot read message content: " + readErr.err.Error()}
		}
		return fail(err)
	}
	if err := h.in.Flush(); err != nil {
		return fail(err)
	}
	line, err := h.out.ReadBytes('\n')
	if err != nil {
		return fail(err)
	}
	var reply helperReply
	if err := json.Unmarshal(line, &reply); err != nil {
		return fail(fmt.Errorf("bad reply %q: %v", line, err))
	}
	if reply.Failure != nil {
		return reply.Failure
	}
	return nil
}

// stop ends the child: it exits when its input ends. The error is an
// *Error when the child failed.
func (h *helper) stop() error {
	if h.cmd == nil {
		return nil
	}
	h.stdin.Close()
	err := h.cmd.Wait()
	h.cmd = nil
	if err != nil {
		return h.failure(err)
	}
	return nil
}

// contentError is a failure to read the message content, as opposed to
// one writing to the helper.
type contentError struct{ err error }

func (e *contentError) Error() string { return e.err.Error() }

// writeChunked copies content to w as chunks of a 4-byte big-endian
// length and that many bytes, ended by an empty chunk.
func writeChunked(w io.Writer, content io.Reader) error {
	buf := make([]byte, 4+maxChunk)
	for {
		n, err := content.Read(buf[4:])
		if n > 0 {
			binary.BigEndian.PutUint32(buf, uint32(n))
			if _, werr := w.Write(buf[:4+n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return &contentError{err: err}
		}
	}
	binary.BigEndian.PutUint32(buf, 0)
	_, err := w.Write(buf[:4])
	return err
}

// chunkReader reads what writeChunked wrote, up to the empty chunk.
type chunkReader struct {
	r    *bufio.Reader
	left int
	done bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		var size [4]byte
		if _, err := io.ReadFull(c.r, size[:]); err != nil {
			return 0, unexpected(err)
		}
		n := binary.BigEndian.Uint32(size[:])
		if n > maxChunk {
			return 0, fmt.Errorf("content chunk of %d bytes", n)
		}
		c.left = int(n)
		c.done = n == 0
	}
	n, err := c.r.Read(p[:min(len(p), c.left)])
	c.left -= n
	return n, unexpected(err)
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// lockedBuffer collects a child's standard error.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}
