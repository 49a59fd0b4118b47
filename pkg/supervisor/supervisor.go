// Package supervisor is Postern's master: it reads main.cf and master.cf,
// creates every service's listener, runs the daemons under the
// master/daemon contract, restarts daemons that die (throttling those that
// fail at start-up), sends wakeup triggers, and reloads or stops on SIGHUP
// and SIGTERM.
//
// Process model: a service has one listener, except an inet service
// without a host of its own that binds several inet_interfaces addresses:
// it gets one listener per address. On each listener one daemon process
// accepts at a time, serving up to maxproc clients at once (-p), one
// goroutine each. Master starts that process on demand, when the idle
// listener first has a client (ondemand.go), except for services with a
// wakeup time (qmgr, pickup), which start at once. When the accepting
// process retires (max_use, max_idle, reload, or stress) it says so on its
// status pipe, stops accepting and finishes its sessions, while master at
// once watches the listener again and starts a successor for the next
// client: there is never a moment when nobody accepts. Postfix daemons
// whose job Postern does elsewhere (builtin.go) are never started.
//
// Descriptors given to a daemon: fd 3 its listener, fd 4 the write end of
// a pipe for its "ready\n" line, and fd 5 the read end of master's status
// pipe (status.go). Only master holds that pipe's write end, close-on-exec,
// so when master exits for any reason, SIGKILL included, every daemon reads
// end of file on fd 5 and exits: none is left holding the listeners. Fds 6
// and 7 are the read and write ends of the mail flow control pipe
// (pkg/mailflow), made once when master starts and kept across reloads, as
// Postfix's master does; master itself never puts or takes a token.
package supervisor

import (
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/mastercf"
)

// stopGrace is how long master waits for its children after SIGTERM
// before it kills the ones left.
const stopGrace = 3 * time.Second

// crashWindow: a daemon that fails this soon after it started is
// throttled as if it had failed at start-up.
const crashWindow = time.Second

// Supervisor is a running master.
type Supervisor struct {
	settings Settings
	owner    Owner
	log      *maillog.Logger
	pidFile  *PIDFile

	services map[string]*service // by "name/type"
	children map[int]*child
	events   chan event
	signals  chan os.Signal
	status   *statusPipe
	// flow is the mail flow control pipe, read and write end.
	flow [2]*os.File
}

// service is one master.cf entry that master runs.
type service struct {
	entry     *mastercf.Entry
	instances []*instance
	skipNote  string        // why it is not run (built in, not provided), or ""
	stopWake  chan struct{} // closes the wakeup timer, or nil
	// busyWarned is when the process limit warning was last logged;
	// new daemons start with "-o stress=yes" until stressedUntil.
	busyWarned, stressedUntil time.Time
}

// instance is one listener of a service and the daemon serving it.
type instance struct {
	svc      *service
	ep       endpoint
	listener *os.File
	current  *child // the daemon accepting on the listener, or nil
	closed   bool   // the service was removed
	// throttled: a daemon failed at start-up; the next one starts after
	// service_throttle_time.
	throttled bool
	// successorOf is the pid of a retiring daemon whose replacement starts
	// only once it has exited (services with a process limit of 1).
	successorOf int
	// watchStop stops the watch on the idle listener (nil: no watch).
	watchStop chan struct{}
}

// event is something the main loop reacts to.
type event interface{}

type childReady struct{ pid int }

type childRetiring struct{ pid int }

type childFull struct{ pid int }

type childExited struct {
	pid   int
	state *os.ProcessState
}

type respawnDue struct{ inst *instance }

// New loads the configuration in configDir, takes the pid file lock,
// creates the listeners and starts the daemons. Problems that stop master
// from starting (a broken master.cf, a port in use, another master
// running) are returned worded for a "fatal:" line.
func New(configDir string, log *maillog.Logger) (*Supervisor, error) {
	cfg, entries, err := loadConfig(configDir)
	if err != nil {
		return nil, err
	}
	settings, err := FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	owner, err := settings.ResolveOwner()
	if err != nil {
		return nil, err
	}
	if err := createMasterDirs(settings, owner); err != nil {
		return nil, err
	}
	pidFile, err := LockPIDFile(settings.QueueDir)
	if err != nil {
		return nil, err
	}
	status, err := newStatusPipe()
	if err != nil {
		pidFile.Close()
		return nil, err
	}
	flowR, flowW, err := mailflow.NewPipe()
	if err != nil {
		status.Close()
		pidFile.Close()
		return nil, err
	}
	s := &Supervisor{
		settings: settings,
		owner:    owner,
		log:      log,
		pidFile:  pidFile,
		status:   status,
		flow:     [2]*os.File{flowR, flowW},
		services: map[string]*service{},
		children: map[int]*child{},
		events:   make(chan event, 64),
		signals:  make(chan os.Signal, 4),
	}
	signal.Notify(s.signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	signal.Ignore(syscall.SIGPIPE)
	for _, e := range entries {
		svc, err := s.addService(e)
		if err != nil {
			s.abandon()
			return nil, err
		}
		s.services[e.Key()] = svc
	}
	log.Info("daemon started -- version %s, configuration %s", settings.MailVersion, configDir)
	for _, e := range entries {
		s.startService(s.services[e.Key()])
	}
	return s, nil
}

// loadConfig reads main.cf and master.cf.
func loadConfig(configDir string) (*config.Config, []*mastercf.Entry, error) {
	cfg, err := config.Load(configDir)
	if err != nil {
		return nil, nil, err
	}
	file, err := mastercf.ParseFile(filepath.Join(configDir, "master.cf"))
	if err != nil {
		return nil, nil, err
	}
	return cfg, file.Services(), nil
}

// abandon releases what New set up when start-up fails half way.
func (s *Supervisor) abandon() {
	signal.Stop(s.signals)
	for _, svc := range s.services {
		s.closeService(svc)
	}
	s.status.Close()
	s.flow[0].Close()
	s.flow[1].Close()
	s.pidFile.Close()
}

// addService creates e's listeners, or notes why it is not run. At
// start-up a listener that cannot be created is fatal; on reload the
// caller logs it and goes on.
func (s *Supervisor) addService(e *mastercf.Entry) (*service, error) {
	svc := &service{entry: e}
	if reason := skipReason(e, s.settings.DaemonDir); reason != "" {
		svc.skipNote = reason
		return svc, nil
	}
	eps, err := serviceEndpoints(e, s.settings)
	if err != nil {
		return nil, err
	}
	for _, ep := range eps {
		f, err := ep.open(s.owner)
		if err != nil {
			s.closeService(svc)
			return nil, err
		}
		svc.instances = append(svc.instances, &instance{svc: svc, ep: ep, listener: f})
	}
	return svc, nil
}

// startService makes each of svc's listeners served (a daemon at once or
// on demand) and starts its wakeup timer, or logs once why svc is not run.
func (s *Supervisor) startService(svc *service) {
	if svc.skipNote != "" {
		s.log.Info("%s", svc.skipNote)
		return
	}
	for _, inst := range svc.instances {
		s.needDaemon(inst)
	}
	s.startWakeup(svc)
}

// spawn starts inst's daemon; a program that cannot be executed is
// throttled like one that fails at start-up.
func (s *Supervisor) spawn(inst *instance) {
	if inst.closed || inst.current != nil {
		return
	}
	s.stopWatch(inst)
	shared := []*os.File{s.status.daemonEnd, s.flow[0], s.flow[1]}
	c, err := startChild(inst, s.settings, shared, inst.stressed(), s.events)
	if err != nil {
		s.log.Warning("%v", err)
		s.throttle(inst, filepath.Join(s.settings.DaemonDir, inst.svc.entry.Command))
		return
	}
	inst.current = c
	s.children[c.pid] = c
}

// throttle logs Postfix's throttling warning and schedules a new start
// after service_throttle_time.
func (s *Supervisor) throttle(inst *instance, path string) {
	s.log.Warning("%s: bad command startup -- throttling", path)
	inst.throttled = true
	time.AfterFunc(s.settings.ThrottleTime, func() { s.events <- respawnDue{inst: inst} })
}

// Run serves signals and child events until SIGTERM or SIGINT, then stops
// the daemons and returns.
func (s *Supervisor) Run() {
	for {
		select {
		case sig := <-s.signals:
			if sig == syscall.SIGHUP {
				s.reload()
				continue
			}
			s.shutdown(sig.(syscall.Signal))
			return
		case ev := <-s.events:
			s.handle(ev)
		}
	}
}

func (s *Supervisor) handle(ev event) {
	switch ev := ev.(type) {
	case childReady:
		if c := s.children[ev.pid]; c != nil {
			c.ready = true
		}
	case childRetiring:
		if c := s.children[ev.pid]; c != nil && !c.retiring {
			s.onRetiring(c)
		}
	case childFull:
		if c := s.children[ev.pid]; c != nil {
			s.onFull(c)
		}
	case childExited:
		s.reap(ev)
	case respawnDue:
		ev.inst.throttled = false
		s.needDaemon(ev.inst)
	case listenerReady:
		s.onListenerReady(ev.inst)
	}
}

// reap logs an abnormal end and lets the listener be served again: at
// once or on demand (needDaemon) after a daemon that had reported ready,
// after service_throttle_time for one that died before reporting ready or
// failed within crashWindow of its start, so that a broken daemon cannot
// spin.
func (s *Supervisor) reap(ev childExited) {
	c := s.children[ev.pid]
	if c == nil {
		return
	}
	delete(s.children, ev.pid)
	warning := exitWarning(c.path, c.pid, ev.state)
	if warning != "" {
		s.log.Warning("%s", warning)
	}
	inst := c.inst
	if inst.successorOf == c.pid {
		inst.successorOf = 0
		s.needDaemon(inst)
		return
	}
	if inst.current != c {
		return
	}
	inst.current = nil
	if inst.closed {
		return
	}
	if !c.ready || warning != "" && time.Since(c.started) < crashWindow {
		s.throttle(inst, c.path)
		return
	}
	s.needDaemon(inst)
}

// shutdown terminates every daemon, as master does on SIGTERM.
func (s *Supervisor) shutdown(sig syscall.Signal) {
	s.log.Info("terminating on signal %d", int(sig))
	signal.Stop(s.signals)
	for _, c := range s.children {
		c.process.Signal(syscall.SIGTERM)
	}
	deadline := time.After(stopGrace)
	for len(s.children) > 0 {
		select {
		case ev := <-s.events:
			if ev, ok := ev.(childExited); ok {
				delete(s.children, ev.pid)
			}
		case <-deadline:
			for _, c := range s.children {
				c.process.Kill()
			}
			s.children = nil
		}
	}
	for _, svc := range s.services {
		s.stopWakeup(svc)
		for _, inst := range svc.instances {
			s.stopWatch(inst)
		}
	}
	s.status.Close()
	s.flow[0].Close()
	s.flow[1].Close()
	s.pidFile.Close()
}

// closeService closes svc's listeners; the daemons keep their copies
// until they exit. Unix sockets and fifos are removed.
func (s *Supervisor) closeService(svc *service) {
	s.stopWakeup(svc)
	for _, inst := range svc.instances {
		inst.closed = true
		s.stopWatch(inst)
		inst.listener.Close()
		if !isTCP(inst.ep) {
			os.Remove(inst.ep.address)
		}
	}
}

func isTCP(ep endpoint) bool {
	return ep.network == "tcp" || ep.network == "tcp4" || ep.network == "tcp6"
}
