// Starting a service's daemon on demand: master watches an idle listener and starts the daemon when a client arrives.

package supervisor

import (
	"net"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// watchPoll is how often a listener watch looks whether it was stopped
// while no client arrives.
const watchPoll = 250 * time.Millisecond

// listenerReady says a client waits on inst's listener.
type listenerReady struct{ inst *instance }

// needDaemon is called whenever inst may have no process accepting on its
// listener. A service with a wakeup time (qmgr, pickup) gets its daemon at
// once, as Postfix's master wakes such services right away; any other
// waits until its listener has a client. Nothing happens while the
// instance is closed, throttled, served, or waiting for a solitary
// daemon's predecessor to exit.
func (s *Supervisor) needDaemon(inst *instance) {
	if inst.closed || inst.throttled || inst.current != nil || inst.successorOf != 0 {
		return
	}
	if seconds, _ := inst.svc.entry.WakeupTime(); seconds > 0 {
		s.spawn(inst)
		return
	}
	s.watchListener(inst)
}

// watchListener starts watching inst's listener, unless a watch runs.
func (s *Supervisor) watchListener(inst *instance) {
	if inst.watchStop != nil {
		return
	}
	stop := make(chan struct{})
	inst.watchStop = stop
	go watchReadable(inst, stop, s.events)
}

// stopWatch ends the watch on inst's listener, if one runs.
func (s *Supervisor) stopWatch(inst *instance) {
	if inst.watchStop != nil {
		close(inst.watchStop)
		inst.watchStop = nil
	}
}

// onListenerReady starts the daemon for the client that arrived.
func (s *Supervisor) onListenerReady(inst *instance) {
	inst.watchStop = nil
	if inst.closed || inst.throttled || inst.current != nil || inst.successorOf != 0 {
		return
	}
	s.spawn(inst)
}

// watchReadable waits until inst's listener is readable (a connection or
// datagram waits) and reports it, or until stop is closed. The
// descriptor is polled, never read: the daemon takes the client.
func watchReadable(inst *instance, stop <-chan struct{}, events chan<- event) {
	raw, err := inst.listener.SyscallConn()
	if err != nil {
		events <- listenerReady{inst: inst}
		return
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		ready := false
		ctlErr := raw.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, int(watchPoll/time.Millisecond))
			ready = err == nil && n > 0 && fds[0].Revents != 0
		})
		if ctlErr != nil {
			return // the listener was closed: the service is gone
		}
		if ready {
			select {
			case events <- listenerReady{inst: inst}:
			case <-stop:
			}
			return
		}
	}
}

// stressEligible reports whether inst's service can come under stress, as
// Postfix decides: an inet service that listens on some address other
// than loopback, with a process limit above 1.
func (inst *instance) stressEligible(defaultProcessLimit int) bool {
	if !isTCP(inst.ep) || inst.svc.entry.MaxProc(defaultProcessLimit) <= 1 {
		return false
	}
	host, _, err := net.SplitHostPort(inst.ep.address)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// stressWindow is how long a service stays in stress mode after it last
// ran out of process slots, and how often the warning is logged.
const stressWindow = 1000 * time.Second

// onFull handles a daemon that took its last concurrency slot. For a
// service that can come under stress, master logs Postfix's warning (at
// most once per stressWindow), and when the service was not already in
// stress mode it asks the full daemon to retire, so that a successor
// started with "-o stress=yes" takes the new clients.
func (s *Supervisor) onFull(c *child) {
	inst := c.inst
	if inst.current != c || !inst.stressEligible(s.settings.DefaultProcessLimit) {
		return
	}
	svc := inst.svc
	now := time.Now()
	if now.Sub(svc.busyWarned) >= stressWindow {
		svc.busyWarned = now
		s.log.Warning("service %q (%s) has reached its process limit %q: new clients may experience noticeable delays",
			svc.entry.Service, inst.portName(), strconv.Itoa(svc.entry.MaxProc(s.settings.DefaultProcessLimit)))
		s.log.Warning("to avoid this condition, increase the process count in master.cf or reduce the service time per client")
		s.log.Warning("see https://www.postfix.org/STRESS_README.html for examples of stress-adapting configuration settings")
	}
	wasStressed := svc.stressedUntil.After(now)
	svc.stressedUntil = now.Add(stressWindow)
	if !wasStressed {
		s.retire(c)
	}
}

// retire tells inst's accepting daemon to finish its sessions and exit
// (SIGHUP), and lets a successor take the listener.
func (s *Supervisor) retire(c *child) {
	c.process.Signal(syscall.SIGHUP)
	s.onRetiring(c)
}

// onRetiring notes that c no longer accepts. Its successor starts on
// demand at once, except that a service limited to one process (qmgr,
// pickup) waits for the old one to exit.
func (s *Supervisor) onRetiring(c *child) {
	c.retiring = true
	inst := c.inst
	if inst.current != c {
		return
	}
	inst.current = nil
	if inst.svc.entry.MaxProc(s.settings.DefaultProcessLimit) == 1 {
		inst.successorOf = c.pid
		return
	}
	s.needDaemon(inst)
}

// stressed reports whether new daemons of inst's service start in stress
// mode.
func (inst *instance) stressed() bool {
	return inst.svc.stressedUntil.After(time.Now())
}

// portName is the service as Postfix's master names it in the process
// limit warning: the port, or "[host]:port" for a service with a host of
// its own.
func (inst *instance) portName() string {
	_, port, _ := net.SplitHostPort(inst.ep.address)
	if host, _, err := inst.svc.entry.InetEndpoint(); err == nil && host != "" {
		return "[" + host + "]:" + port
	}
	return port
}
