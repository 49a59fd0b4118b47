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

// server runs one daemon's listener.
type server struct {
	d      *daemonState
	ln     net.Listener
	handle func(ctx context.Context, conn net.Conn)
	limit  int // connections served at once, 0 = unlimited

	// Trigger servers only: the wakeup timer and its handler.
	wakeupInterval time.Duration
	wakeup         func(ctx context.Context)
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
		s.limit = 1
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
	ctx := s.d.ctx
	defer s.d.cancel()

	var slots chan struct{}
	if s.limit > 0 {
		slots = make(chan struct{}, s.limit)
	}
	accepted := make(chan net.Conn)
	acceptFailed := make(chan error, 1)
	stopAccepting := make(chan struct{})
	go s.acceptLoop(slots, s.d.MaxUse, accepted, acceptFailed, stopAccepting)

	finished := make(chan net.Conn)
	active := map[net.Conn]bool{}
	running := 0 // handlers and wakeups in progress
	uses := 0
	draining := false
	wakeupRunning := false // at most one timer wakeup at a time, however slow Trigger is

	var idleTimer *time.Timer
	var idleC <-chan time.Time
	armIdle := func() {
		if s.d.MaxIdle > 0 && !draining {
			idleTimer = time.NewTimer(s.d.MaxIdle)
			idleC = idleTimer.C
		}
	}
	disarmIdle := func() {
		if idleTimer != nil {
			idleTimer.Stop()
		}
		idleC = nil
	}
	var wakeupC <-chan time.Time
	if s.wakeupInterval > 0 {
		ticker := time.NewTicker(s.wakeupInterval)
		defer ticker.Stop()
		wakeupC = ticker.C
	}
	stopServing := func() {
		if !draining {
			draining = true
			close(stopAccepting)
			s.ln.Close()
			disarmIdle()
			wakeupC = nil
		}
	}
	start := func(conn net.Conn) {
		running++
		if conn != nil {
			active[conn] = true
		}
		go func() {
			defer func() { finished <- conn }()
			if conn == nil {
				defer s.recoverHandler(nil)
				s.wakeup(ctx)
				return
			}
			defer func() {
				if slots != nil {
					<-slots
				}
			}()
			defer conn.Close()
			// Runs first: a panic is logged before the client sees the
			// connection close.
			defer s.recoverHandler(conn)
			s.handle(ctx, conn)
		}()
	}

	armIdle()
	for {
		select {
		case conn := <-accepted:
			disarmIdle()
			uses++
			start(conn)
			if s.d.MaxUse > 0 && uses >= s.d.MaxUse {
				s.d.Verbosef("use count limit reached -- exiting after the sessions in progress")
				stopServing()
			}
		case <-wakeupC:
			if !wakeupRunning {
				wakeupRunning = true
				disarmIdle()
				start(nil)
			}
		case conn := <-finished:
			running--
			if conn == nil {
				wakeupRunning = false
			}
			delete(active, conn)
			if running == 0 {
				if draining {
					return 0
				}
				armIdle()
			}
		case <-idleC:
			s.d.Verbosef("idle timeout -- exiting")
			stopServing()
			if running == 0 {
				return 0
			}
		case err := <-acceptFailed:
			s.d.Log.Log(maillog.LevelFatal, err.Error())
			stopServing()
			return s.abort(active, running, finished, 1)
		case <-s.d.masterGone:
			s.d.Verbosef("master disconnect -- exiting")
			stopServing()
			return s.abort(active, running, finished, 0)
		case sig := <-signals:
			switch sig {
			case syscall.SIGHUP:
				s.d.Verbosef("SIGHUP received -- exiting after the sessions in progress")
				stopServing()
				if running == 0 {
					return 0
				}
			default:
				s.d.Verbosef("signal %v received -- exiting now", sig)
				stopServing()
				return s.abort(active, running, finished, 0)
			}
		}
	}
}

// abort cancels the handlers, closes their connections, waits up to
// termGrace for them and returns status.
func (s *server) abort(active map[net.Conn]bool, running int, finished <-chan net.Conn, status int) int {
	s.d.cancel()
	for conn := range active {
		conn.Close()
	}
	deadline := time.After(termGrace)
	for running > 0 {
		select {
		case <-finished:
			running--
		case <-deadline:
			return status
		}
	}
	return status
}

// acceptLoop accepts connections while a concurrency slot is free, so that
// beyond the limit clients wait in the listen queue. It accepts no more than
// maxUse connections (0: no limit): a connection accepted past max_use
// would be closed unanswered, while left in the listen queue the next
// process serves it.
func (s *server) acceptLoop(slots chan struct{}, maxUse int, accepted chan<- net.Conn, failed chan<- error, stop <-chan struct{}) {
	for served := 0; maxUse == 0 || served < maxUse; {
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-stop:
				return
			}
		}
		conn, err := s.ln.Accept()
		if err != nil {
			if slots != nil {
				<-slots
			}
			select {
			case <-stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				failed <- fmt.Errorf("accept connection: listener closed")
				return
			}
			s.d.Log.Error("accept connection: %s", errText(err))
			select {
			case <-time.After(acceptRetryDelay):
			case <-stop:
				return
			}
			continue
		}
		select {
		case accepted <- conn:
			served++
		case <-stop:
			// Accepted just as the daemon stopped serving: nobody will
			// serve it, so the client sees the connection close.
			conn.Close()
			if slots != nil {
				<-slots
			}
			return
		}
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
