// Package daemon is the skeleton every Postern daemon runs on, the Go
// counterpart of Postfix's single_server, multi_server and trigger_server:
// it reads the command line master passes, loads main.cf with the -o
// overrides, sets up logging, runs the daemon's privileged set-up, chroots
// and drops to mail_owner when root, tells master it is ready, and then
// serves the inherited listener until a signal, max_idle or max_use ends it.
//
// Descriptors from master: fd 3 is the service's listener, fd 4 the pipe
// on which the daemon writes "ready\n" after start-up, fd 5 the read end
// of master's status pipe, whose write end only master holds, and fds 6
// and 7 the mail flow control pipe (Context.Flow). End of file
// on fd 5 means master has exited (even killed with SIGKILL): the daemon
// then stops at once as on SIGTERM and exits 0, logging "master disconnect
// -- exiting" only with -v, as Postfix's daemons do, so that no daemon
// outlives its master and holds the listeners a new master needs. In
// stand-alone mode (-S) there is no fd 3 to 7.
//
// A daemon's main is one call:
//
//	func main() {
//		s := &server{}
//		daemon.Run(daemon.Spec{Init: s.init, Serve: s.serve})
//	}
package daemon

import (
	"context"
	"net"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/privs"
)

// Spec describes a daemon. Exactly one of Serve, Trigger and Datagram is
// set.
type Spec struct {
	// Init runs before the chroot and the privilege drop, with the
	// privileges the daemon was started with: open tables, keys, certificates
	// and anything else mail_owner cannot reach or the chroot hides. The
	// working directory is queue_directory. An error is fatal.
	Init func(*Context) error

	// AfterDrop runs after the chroot and the privilege drop, before master
	// is told the daemon is ready: start background work here (watching
	// Context.Done to stop). An error is fatal.
	AfterDrop func(*Context) error

	// Serve makes the daemon a stream server (smtpd, cleanup, delivery
	// agents): Serve runs in its own goroutine for each accepted
	// connection, at most MaxProc (-p) at a time. The connection is closed
	// when Serve returns. ctx is cancelled when the daemon must stop at once
	// (SIGTERM); after SIGHUP, max_idle or max_use it stays valid until the
	// sessions in progress end.
	Serve func(ctx context.Context, conn net.Conn)

	// Trigger makes the daemon a trigger server (pickup, qmgr): it is
	// called with the codes of each trigger request received on the
	// listener, and with ipc.TriggerWakeup every Context.WakeupInterval
	// when that is set. Calls never overlap; each should return quickly.
	Trigger func(ctx context.Context, codes []ipc.TriggerCode)

	// Datagram makes the daemon a datagram server (postlogd) for a
	// unix-dgram service: it reads conn until conn is closed, which happens
	// on SIGHUP and SIGTERM (ctx is cancelled too on SIGTERM), and then
	// returns nil. An error it returns is fatal. max_idle and max_use do not
	// apply.
	Datagram func(ctx context.Context, conn net.PacketConn) error

	// Exit, when set, runs once serving has ended, just before the
	// process exits (anvil logs its statistics there).
	Exit func(*Context)

	// Solitary says the service must run with a process limit of 1, as
	// Postfix's qmgr requires.
	Solitary bool
}

// Context is what a daemon knows about itself: its configuration, logger
// and master.cf settings. Init may change the fields marked so.
type Context struct {
	Config *config.Config  // main.cf with the -o overrides applied
	Log    *maillog.Logger // syslog_name/program[pid], to maillog_file or syslog
	Args   *Options        // the command line as parsed
	// Program is the base name of argv[0] ("smtpd"); Service the master.cf
	// service name (-n, "smtp"); Transport its type (-t, "inet").
	Program, Service, Transport string
	// MaxProc is the concurrency limit (-p): the most connections served at
	// once; 0 means no limit. Init may change it (anvil, a solitary
	// service, serves every client at once).
	MaxProc int
	// Verbose counts -v options (and is 1 or more with -v in master.cf).
	Verbose int
	// QueueDirectory is queue_directory as configured. The working
	// directory is there from start-up on, so relative paths such as
	// "private/cleanup" work with and without the chroot.
	QueueDirectory string
	// Flow is the mail flow control pipe master passed (fds 6 and 7), or
	// nil in stand-alone mode: cleanup takes a token per message from it,
	// qmgr puts them in (pkg/mailflow).
	Flow *mailflow.Pipe
	// Chrooted and Dropped say what the start-up did (both stay false when
	// the daemon was not started as root).
	Chrooted, Dropped bool
	// MailOwner is the mail_owner account, looked up before Init when the
	// daemon runs as root (nil otherwise): the owner for files Init
	// creates as root that mail_owner must use later.
	MailOwner *privs.User

	// MaxIdle is how long the daemon waits without a connection before it
	// exits (max_idle; 0 = never). Trigger servers with a wakeup interval
	// start with 0. Init may change it.
	MaxIdle time.Duration
	// MaxUse is how many connections the daemon serves before it exits
	// (max_use; 0 = no limit). Trigger servers with a wakeup interval start
	// with 0. Init may change it.
	MaxUse int
	// DaemonTimeout is daemon_timeout, the watchdog's limit on one
	// request, for the delivery agents.
	DaemonTimeout time.Duration
	// WakeupInterval, set by Init of a trigger server, makes the daemon call
	// Trigger with ipc.TriggerWakeup at that interval by itself.
	WakeupInterval time.Duration

	ctx context.Context
}

// Done is closed when the daemon stops: at once on SIGTERM, or after the
// last session ended on SIGHUP, max_idle or max_use.
func (c *Context) Done() <-chan struct{} { return c.ctx.Done() }

// Lifetime is a context that is cancelled when the daemon stops (when
// Done is closed), for work that runs as long as the daemon does.
func (c *Context) Lifetime() context.Context { return c.ctx }

// Verbosef logs an informational line when the daemon runs with -v, as
// Postfix's "if (msg_verbose) msg_info(...)".
func (c *Context) Verbosef(format string, args ...any) {
	if c.Verbose > 0 {
		c.Log.Info(format, args...)
	}
}
