// The serving loop: concurrency limit, SIGHUP/SIGTERM, master going away, max_idle and max_use.

package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
)

// termGrace is how long a daemon told to stop at once waits for its
// handlers to return after cancelling them and closing their connections.
const termGrace = time.Second

// acceptRetryDelay is the pause after a failed accept (out of descriptors).
const acceptRetryDelay = 100 * time.Millisecond

// server runs one daemon's listener. Its loop (run) reacts to one event at
// a time; the fields below the line are the loop's state, touched only by
// the loop's goroutine.
type server struct {
	d      *daemonState
	ln     net.Listener
	handle func(ctx context.Context, conn net.Conn)
	limit  int // connections served at once, 0 = unlimited
	// quietFull: do not tell master when every slot is taken. A trigger
	// server serves one request at a time by design, so it would say so
	// for nearly every request, waking master for nothing (master only
	// acts on a full inet service).
	quietFull bool

	// Trigger servers only: the wakeup timer and its handler.
	wakeupInterval time.Duration
	wakeup         func(ctx context.Context)

	slots         chan struct{} // one token per session in progress; nil = no limit
	accepted      chan net.Conn
	acceptFailed  chan error
	stopAccepting chan struct{}
	acceptDone    chan struct{} // closed when the accepting goroutine ends; nil once seen
	sessionDone   chan net.Conn
	wakeupDone    chan struct{}
	active        map[net.Conn]bool // sessions in progress
	wakeupRunning bool              // at most one timer wakeup at a time, however slow Trigger is
	uses          int               // connections accepted, against max_use
	draining      bool              // no longer accepting; exit when the sessions end
	idle          *time.Timer       // max_idle, armed while nothing runs
	idleC         <-chan time.Time
	wakeupC       <-chan time.Time
}

// newServer prepares the loop for a stream or trigger server.
func newServer(d *daemonState, spec Spec, ln net.Listener) *server {
	s := &server{d: d, ln: ln, handle: spec.Serve, limit: d.MaxProc}
	if spec.Trigger != nil {
		var mu sync.Mutex // Trigger calls never overlap
		dispatch := func(ctx context.Context, codes []ipc.TriggerCode) {
			mu.Lock()
			defer mu.Unlock()
			spec.Trigger(ctx, codes)
		}
		s.limit, s.quietFull = 1, true
		s.handle = func(ctx context.Context, conn net.Conn) {
			codes, err := readTrigger(ctx, conn, d.Log)
			if err != nil {
				d.Log.Warning("%s", err)
				return
			}
			if len(codes) > 0 {
				dispatch(ctx, codes)
			}
		}
		s.wakeupInterval = d.WakeupInterval
		s.wakeup = func(ctx context.Context) { dispatch(ctx, []ipc.TriggerCode{ipc.TriggerWakeup}) }
	}
	return s
}

// notifySignals delivers SIGHUP, SIGTERM and SIGINT to the serving loop.
// SIGINT (Ctrl-C on "postfix start-fg", which reaches the whole process
// group) stops the daemon as SIGTERM does, so it ends cleanly beside master.
func notifySignals() <-chan os.Signal {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	return ch
}

// run serves until the daemon must end and returns its exit status.
func (s *server) run(signals <-chan os.Signal) int {
	defer s.d.cancel()
	s.startAccepting()
	if s.wakeupInterval > 0 {
		ticker := time.NewTicker(s.wakeupInterval)
		defer ticker.Stop()
		s.wakeupC = ticker.C
	}
	s.armIdle()
	for {
		var (
			status int
			exit   bool
		)
		select {
		case conn := <-s.accepted:
			s.startSession(conn)
		case <-s.wakeupC:
			s.startWakeup()
		case conn := <-s.sessionDone:
			delete(s.active, conn)
			exit = s.afterWork()
		case <-s.wakeupDone:
			s.wakeupRunning = false
			exit = s.afterWork()
		case <-s.acceptDone:
			s.acceptDone = nil
			exit = s.finished()
		case <-s.idleC:
			s.d.Verbosef("idle timeout -- exiting")
			s.stopServing()
			exit = s.finished()
		case err := <-s.acceptFailed:
			s.d.Log.Log(maillog.LevelFatal, err.Error())
			status, exit = s.abort(1), true
		case <-s.d.masterGone:
			s.d.Verbosef("master disconnect -- exiting")
			status, exit = s.abort(0), true
		case sig := <-signals:
			status, exit = s.onSignal(sig)
		}
		if exit {
			return status
		}
	}
}

// startAccepting sets up the loop's channels and starts the accepting
// goroutine.
func (s *server) startAccepting() {
	if s.limit > 0 {
		s.slots = make(chan struct{}, s.limit)
	}
	s.accepted = make(chan net.Conn)
	s.acceptFailed = make(chan error, 1)
	s.stopAccepting = make(chan struct{})
	s.acceptDone = make(chan struct{})
	s.sessionDone = make(chan net.Conn)
	s.wakeupDone = make(chan struct{})
	s.active = map[net.Conn]bool{}
	go s.acceptLoop()
}

// running counts the sessions and the wakeup in progress.
func (s *server) running() int {
	n := len(s.active)
	if s.wakeupRunning {
		n++
	}
	return n
}

// finished reports whether a draining daemon is done: no session or
// wakeup runs and the accepting goroutine has ended, so no connection it
// took is left unserved.
func (s *server) finished() bool {
	return s.draining && s.running() == 0 && s.acceptDone == nil
}

// startSession serves one accepted connection in its own goroutine, and
// stops accepting once max_use connections were taken.
func (s *server) startSession(conn net.Conn) {
	s.disarmIdle()
	s.uses++
	s.active[conn] = true
	go func() {
		defer func() { s.sessionDone <- conn }()
		defer s.releaseSlot()
		defer conn.Close()
		// Runs first: a panic is logged before the client sees the
		// connection close.
		defer s.recoverHandler(conn)
		s.handle(s.d.ctx, conn)
	}()
	if s.d.MaxUse > 0 && s.uses >= s.d.MaxUse {
		s.d.Verbosef("use count limit reached -- exiting after the sessions in progress")
		s.stopServing()
	}
}

// startWakeup runs the trigger server's timer wakeup unless one still runs.
func (s *server) startWakeup() {
	if s.wakeupRunning {
		return
	}
	s.wakeupRunning = true
	s.disarmIdle()
	go func() {
		defer func() { s.wakeupDone <- struct{}{} }()
		defer s.recoverHandler(nil)
		s.wakeup(s.d.ctx)
	}()
}

// afterWork is called when a session or wakeup ended: it reports whether
// the daemon is done (draining and nothing left), else re-arms max_idle
// when nothing runs.
func (s *server) afterWork() bool {
	if s.running() > 0 {
		return false
	}
	if s.draining {
		return s.finished()
	}
	s.armIdle()
	return false
}

// onSignal handles SIGHUP (finish the sessions, then exit) and SIGTERM or
// SIGINT (exit now).
func (s *server) onSignal(sig os.Signal) (status int, exit bool) {
	if sig == syscall.SIGHUP {
		s.d.Verbosef("SIGHUP received -- exiting after the sessions in progress")
		s.stopServing()
		return 0, s.finished()
	}
	s.d.Verbosef("signal %v received -- exiting now", sig)
	return s.abort(0), true
}

func (s *server) armIdle() {
	if s.d.MaxIdle > 0 && !s.draining {
		s.idle = time.NewTimer(s.d.MaxIdle)
		s.idleC = s.idle.C
	}
}

func (s *server) disarmIdle() {
	if s.idle != nil {
		s.idle.Stop()
	}
	s.idleC = nil
}

// stopServing stops accepting, closes this process's copy of the listener
// and tells master, whose next process takes the clients that arrive from
// now on while this one finishes its sessions.
func (s *server) stopServing() {
	if s.draining {
		return
	}
	s.draining = true
	close(s.stopAccepting)
	s.ln.Close()
	s.disarmIdle()
	s.wakeupC = nil
	s.d.tellMaster(statusRetiring)
}

// abort stops serving, cancels the handlers, closes their connections,
// waits up to termGrace for them and returns status.
func (s *server) abort(status int) int {
	s.stopServing()
	s.d.cancel()
	for conn := range s.active {
		conn.Close()
	}
	deadline := time.After(termGrace)
	for s.running() > 0 {
		select {
		case conn := <-s.sessionDone:
			delete(s.active, conn)
		case <-s.wakeupDone:
			s.wakeupRunning = false
		case <-deadline:
			return status
		}
	}
	return status
}

// takeSlot waits for a free concurrency slot, telling master once when
// the daemon is full. It returns false when the daemon stops accepting.
func (s *server) takeSlot() bool {
	if s.slots == nil {
		return true
	}
	select {
	case s.slots <- struct{}{}:
		return true
	default:
	}
	if !s.quietFull {
		s.d.tellMaster(statusFull)
	}
	select {
	case s.slots <- struct{}{}:
		return true
	case <-s.stopAccepting:
		return false
	}
}

func (s *server) releaseSlot() {
	if s.slots != nil {
		<-s.slots
	}
}

// acceptLoop accepts connections while a concurrency slot is free, so that
// beyond the limit clients wait in the listen queue. It accepts no more than
// max_use connections (0: no limit): a connection accepted past max_use
// would be closed unanswered, while left in the listen queue the next
// process serves it. A connection accepted as the daemon stops serving is
// still handed over and served: the serving loop waits for acceptDone.
func (s *server) acceptLoop() {
	defer close(s.acceptDone)
	maxUse := s.d.MaxUse
	for served := 0; maxUse == 0 || served < maxUse; {
		if !s.takeSlot() {
			return
		}
		conn, err := s.ln.Accept()
		if err != nil {
			s.releaseSlot()
			if s.acceptError(err) {
				return
			}
			continue
		}
		select {
		case s.accepted <- conn:
			served++
		case <-s.d.ctx.Done():
			// The daemon is ending now (SIGTERM, master gone).
			conn.Close()
			s.releaseSlot()
			return
		}
	}
}

// acceptError handles a failed accept and reports whether accepting ends.
func (s *server) acceptError(err error) bool {
	select {
	case <-s.stopAccepting:
		return true
	default:
	}
	if errors.Is(err, net.ErrClosed) {
		s.acceptFailed <- fmt.Errorf("accept connection: listener closed")
		return true
	}
	s.d.Log.Error("accept connection: %s", errText(err))
	select {
	case <-time.After(acceptRetryDelay):
		return false
	case <-s.stopAccepting:
		return true
	}
}

// recoverHandler turns a panic in one session into a log line, so that one
// bad session does not end all the others.
func (s *server) recoverHandler(conn net.Conn) {
	v := recover()
	if v == nil {
		return
	}
	peer := "wakeup timer"
	if conn != nil {
		peer = "client"
		if addr, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			peer = addr.String()
		}
	}
	s.d.Log.Error("panic while serving %s: %v", peer, v)
	os.Stderr.Write(debug.Stack())
}
