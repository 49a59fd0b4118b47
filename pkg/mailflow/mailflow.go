// Package mailflow is Postfix's input mail flow control (in_flow_delay):
// a pipe of tokens that master creates once and hands to every daemon.
// The queue manager puts a token in for each message it takes from the
// incoming queue (Producer); cleanup takes one for each new message and,
// when there is none, pauses in_flow_delay before it goes on anyway
// (Gate). When mail arrives faster than it is delivered, the receiving
// side is so slowed towards the delivery rate instead of starving the
// delivery agents; when the queue manager does not run, receiving goes
// on at one message per in_flow_delay per client.
//
// A token is one byte. Both ends of the pipe are non-blocking: taking
// from an empty pipe or putting into a full one fails at once.
package mailflow

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Descriptors of the pipe in a daemon started by master, after its
// listener (3), ready pipe (4) and master status pipe (5).
const (
	ReadFD  = 6
	WriteFD = 7
)

// NewPipe creates the token pipe in master: both ends non-blocking and
// close-on-exec; exec.Cmd installs them as ReadFD and WriteFD in each
// child without the flag. The ends are wrapped with os.NewFile, which
// leaves a non-blocking descriptor non-blocking when exec.Cmd asks for it
// (unlike the files of os.Pipe): the daemons share its mode.
func NewPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, nil, fmt.Errorf("master_flow_init: pipe: %w", err)
	}
	return os.NewFile(uintptr(p[0]), "flow control pipe (read)"),
		os.NewFile(uintptr(p[1]), "flow control pipe (write)"), nil
}

// Pipe is the token pipe as a daemon sees it.
type Pipe struct {
	r, w int
}

// Inherited returns the pipe master passed as ReadFD and WriteFD, or nil
// when those descriptors are not the two ends of one pipe (a daemon run
// stand-alone, or by something other than master).
func Inherited() *Pipe {
	return FromDescriptors(ReadFD, WriteFD)
}

// FromDescriptors returns the pipe whose read end is r and write end w,
// made non-blocking, or nil when they are not the two ends of one pipe.
func FromDescriptors(r, w int) *Pipe {
	var rs, ws unix.Stat_t
	if unix.Fstat(r, &rs) != nil || unix.Fstat(w, &ws) != nil {
		return nil
	}
	if rs.Mode&unix.S_IFMT != unix.S_IFIFO || rs.Ino != ws.Ino || rs.Dev != ws.Dev {
		return nil
	}
	rf, err1 := unix.FcntlInt(uintptr(r), unix.F_GETFL, 0)
	wf, err2 := unix.FcntlInt(uintptr(w), unix.F_GETFL, 0)
	if err1 != nil || err2 != nil || rf&unix.O_ACCMODE != unix.O_RDONLY || wf&unix.O_ACCMODE != unix.O_WRONLY {
		return nil
	}
	if unix.SetNonblock(r, true) != nil || unix.SetNonblock(w, true) != nil {
		return nil
	}
	return &Pipe{r: r, w: w}
}

// tokenBuffer bounds one read or write.
const tokenBuffer = 1024

// Get takes up to n tokens and returns how many it took: fewer when the
// pipe held fewer.
func (p *Pipe) Get(n int) int {
	var buf [tokenBuffer]byte
	got := 0
	for got < n {
		k, err := unix.Read(p.r, buf[:min(n-got, len(buf))])
		if err == unix.EINTR {
			continue
		}
		if err != nil || k <= 0 {
			break
		}
		got += k
	}
	return got
}

// Put adds up to n tokens and returns how many it added: fewer when the
// pipe is full.
func (p *Pipe) Put(n int) int {
	var buf [tokenBuffer]byte
	put := 0
	for put < n {
		k, err := unix.Write(p.w, buf[:min(n-put, len(buf))])
		if err == unix.EINTR {
			continue
		}
		if err != nil || k <= 0 {
			break
		}
		put += k
	}
	return put
}

// Count returns how many tokens the pipe holds, or -1 when that cannot
// be asked.
func (p *Pipe) Count() int {
	n, err := unix.IoctlGetInt(p.r, unix.TIOCINQ) // FIONREAD
	if err != nil {
		return -1
	}
	return n
}
