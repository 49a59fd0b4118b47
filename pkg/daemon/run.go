// Run: start-up in Postfix's order, then serving until the daemon must end.

package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/gcpace"
	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/privs"
	"github.com/postern/postern/pkg/profile"
)

// MasterEnv is set to "1" by master in its children's environment (with
// MAIL_CONFIG, which config.ConfigDir reads when there is no -c).
const MasterEnv = "POSTERN_MASTER"

// Inherited file descriptors, fixed by the master/daemon contract.
const (
	listenerFD = 3 // the service's listener
	// readyFD is the pipe to master: "ready\n" once start-up is done, then
	// "retiring\n" when the daemon stops accepting and "full\n" when all
	// its concurrency slots are taken.
	readyFD = 4
	// masterStatusFD is the read end of a pipe whose write end only master
	// holds: it reads end of file once master has exited, however it died.
	masterStatusFD = 5
)

// Run starts the daemon described by spec with the process's command line
// and serves until it must stop. It never returns: it exits 0 after a
// normal stop and 1, with a "fatal:" log line, when something fails.
func Run(spec Spec) {
	// Caught from the start: a signal during start-up takes effect when
	// serving begins, instead of killing the daemon half-way.
	signals := notifySignals()
	gcpace.Start()
	boot, err := maillog.New(maillog.Options{Program: os.Args[0], Stderr: os.Stderr})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: fatal: %v\n", filepath.Base(os.Args[0]), err)
		os.Exit(1)
	}

	d, err := startUp(spec, os.Args, boot)
	if err != nil {
		logger := boot
		if d != nil && d.Log != nil {
			logger = d.Log
		}
		logger.Fatal("%v", err)
	}
	// Start-up (which may re-execute the program) is over: the
	// descriptors master passed (listener, status) stay usable here but
	// are not inherited by the commands and helpers this daemon runs.
	if err := privs.CloseOnExecFrom(3); err != nil {
		d.Log.Fatal("%v", err)
	}
	stopProfile := profile.Start(d.Program, d.Log.Warning)
	var code int
	if spec.Datagram != nil {
		code = serveDatagrams(d, spec.Datagram, d.endpoint.packet, signals)
	} else {
		code = newServer(d, spec, d.endpoint.stream).run(signals)
	}
	stopProfile()
	if spec.Exit != nil {
		spec.Exit(d.Context)
	}
	os.Exit(code)
}

// daemonState is a Context plus what start-up prepared for serving.
type daemonState struct {
	*Context
	endpoint endpoint
	cancel   context.CancelFunc
	// masterGone is closed when master has exited; nil (never ready) in
	// stand-alone mode.
	masterGone <-chan struct{}
	// toMaster is the status pipe to master (fd 4), nil in stand-alone
	// mode.
	toMaster *os.File
}

// startUp does everything before serving. The returned state carries the
// real logger as soon as there is one, also with an error.
func startUp(spec Spec, argv []string, boot *maillog.Logger) (*daemonState, error) {
	kinds := 0
	for _, set := range []bool{spec.Serve != nil, spec.Trigger != nil, spec.Datagram != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errors.New("daemon specification needs exactly one of Serve, Trigger and Datagram")
	}
	opts, err := ParseArgs(argv[1:])
	if err != nil {
		return logToConfiguredLog(argv[0], err)
	}
	if !opts.StandAlone && os.Getenv(MasterEnv) != "1" {
		return nil, errors.New("do not run this command by hand")
	}
	runsAsRoot := privs.IsRoot()
	// A daemon that keeps root (master.cf unpriv=n: local, pipe) may run
	// set-ID programs for users; every other one gets no_new_privs. Setting
	// it may restart the program, so it comes before anything else.
	if !runsAsRoot || opts.Unprivileged {
		if err := privs.EnsureNoNewPrivs(); err != nil {
			return nil, err
		}
	}
	// Master's request for the flag (set by now) is not for the
	// commands this daemon runs.
	os.Unsetenv(privs.EarlyNoNewPrivsEnv)
	os.Unsetenv(privs.EarlyNiceEnv)
	// Re-executed through /proc/self/exe, the process would be called
	// "exe"; ps and pgrep show Postfix's daemons by their program's name.
	nameErr := privs.SetProcessName(filepath.Base(argv[0]))
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemonState{cancel: cancel, Context: &Context{
		Args:      opts,
		Program:   filepath.Base(argv[0]),
		Service:   opts.Service,
		Transport: opts.Transport,
		MaxProc:   opts.MaxProc,
		Verbose:   opts.Verbose,
		ctx:       ctx,
	}}
	if d.Service == "" {
		d.Service = d.Program
	}
	if d.Config, err = loadConfig(opts); err != nil {
		return d, err
	}
	if d.QueueDirectory, err = d.Config.Get("queue_directory"); err != nil {
		return d, err
	}
	// Postfix daemons live in the queue directory, chrooted or not. The
	// logger finds postlogd's socket from there.
	chdirErr := os.Chdir(d.QueueDirectory)
	if d.Log, err = openLog(d.Config, argv[0]); err != nil {
		return d, err
	}
	if nameErr != nil {
		d.Log.Warning("%v", nameErr)
	}
	if chdirErr != nil {
		return d, fmt.Errorf("chdir(\"%s\"): %s", d.QueueDirectory, errText(chdirErr))
	}
	if err := d.readLimits(); err != nil {
		return d, err
	}
	if opts.Debug {
		d.Log.Warning("-D option ignored: debugger_command is not supported")
	}
	if spec.Solitary && opts.MaxProc != 1 && !opts.StandAlone {
		return d, fmt.Errorf("service %s requires a process limit of 1", d.Service)
	}
	if d.endpoint, err = openEndpoint(opts, spec.Datagram != nil); err != nil {
		return d, err
	}
	d.Transport = d.endpoint.transport
	if !opts.StandAlone {
		if d.masterGone, err = watchMaster(); err != nil {
			return d, err
		}
		d.Flow = mailflow.Inherited()
	}
	if spec.Trigger != nil && opts.Wakeup > 0 {
		// Woken up by master anyway: idleness and use count mean nothing.
		d.MaxIdle, d.MaxUse = 0, 0
	}
	if runsAsRoot {
		// Postfix checks mail_owner in every program that runs as root.
		if d.MailOwner, err = lookupMailOwner(d.Config); err != nil {
			return d, err
		}
	}
	if spec.Init != nil {
		if err := spec.Init(d.Context); err != nil {
			return d, err
		}
	}
	if err := d.dropPrivileges(runsAsRoot); err != nil {
		return d, err
	}
	if spec.AfterDrop != nil {
		if err := spec.AfterDrop(d.Context); err != nil {
			return d, err
		}
	}
	if !opts.StandAlone {
		d.toMaster = os.NewFile(readyFD, "master status pipe")
		syscall.CloseOnExec(readyFD)
		if _, err := d.toMaster.WriteString(statusReady); err != nil {
			return d, fmt.Errorf("write ready to master (fd %d): %s", readyFD, errText(err))
		}
	}
	return d, nil
}

// logToConfiguredLog returns err with a logger for it when the
// configuration ($MAIL_CONFIG) can be read, so that even a bad command line
// is logged where the daemon's other messages go.
func logToConfiguredLog(argv0 string, err error) (*daemonState, error) {
	cfg, cfgErr := loadConfig(&Options{})
	if cfgErr != nil {
		return nil, err
	}
	logger, logErr := openLog(cfg, argv0)
	if logErr != nil {
		return nil, err
	}
	return &daemonState{Context: &Context{Config: cfg, Log: logger}}, err
}

// loadConfig reads main.cf, sets service_name (-n, else the program's
// name, as Postfix does) and applies the -o overrides, which may refer to
// it: the stock relay entry has -o syslog_name=postfix/$service_name.
func loadConfig(opts *Options) (*config.Config, error) {
	cfg, err := config.Load(config.ConfigDir(opts.ConfigDir))
	if err != nil {
		return nil, err
	}
	service := opts.Service
	if service == "" {
		service = filepath.Base(os.Args[0])
	}
	cfg.Set("service_name", service)
	for _, o := range opts.Overrides {
		if err := cfg.Override(o); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// readLimits reads max_idle, max_use and daemon_timeout.
func (d *daemonState) readLimits() error {
	var p struct {
		MaxIdle       time.Duration `param:"max_idle"`
		MaxUse        int           `param:"max_use"`
		DaemonTimeout time.Duration `param:"daemon_timeout"`
	}
	if err := d.Config.Fill(&p); err != nil {
		return err
	}
	if p.MaxUse < 0 {
		return fmt.Errorf("bad numerical configuration: max_use = %d", p.MaxUse)
	}
	d.MaxIdle, d.MaxUse, d.DaemonTimeout = p.MaxIdle, p.MaxUse, p.DaemonTimeout
	return nil
}

// openLog sets up the logger from syslog_name, maillog_file and friends.
// With maillog_file, lines go through postlogd's socket
// (public/$postlog_service_name, relative to the queue directory so that it
// is found in the chroot too), or straight to the file without postlogd
// and in postlogd.
func openLog(cfg *config.Config, argv0 string) (*maillog.Logger, error) {
	opts := maillog.Options{Program: argv0}
	if err := opts.ReadParams(cfg.Get); err != nil {
		return nil, err
	}
	// postlogd itself appends to the file, which it opens before the
	// privilege drop, instead of sending its lines to its own socket.
	if opts.File != "" && filepath.Base(argv0) != "postlogd" {
		postlog, err := cfg.Get("postlog_service_name")
		if err != nil {
			return nil, err
		}
		opts.PostlogSocket = filepath.Join("public", postlog)
	}
	return maillog.New(opts)
}

// lookupMailOwner finds the mail_owner account.
func lookupMailOwner(cfg *config.Config) (*privs.User, error) {
	name, err := cfg.Get("mail_owner")
	if err != nil {
		return nil, err
	}
	return privs.LookupMailOwner(cfg.Path, name)
}

// dropPrivileges chroots and switches to mail_owner as -r and -u ask, when
// running as root; otherwise it changes nothing.
func (d *daemonState) dropPrivileges(runsAsRoot bool) error {
	if !runsAsRoot {
		if d.Args.Unprivileged || d.Args.Chroot {
			d.Verbosef("not running as root: no chroot, no privilege drop")
		}
		return nil
	}
	owner := d.MailOwner
	// Load the time zone now: the chroot has no /etc/localtime.
	time.Now().Zone()
	root := ""
	if d.Args.Chroot {
		root = d.QueueDirectory
	}
	if !d.Args.Unprivileged {
		owner = nil
	}
	if err := privs.Drop(root, owner); err != nil {
		return err
	}
	d.Chrooted, d.Dropped = root != "", owner != nil
	return nil
}

// The lines a daemon writes to master on its status pipe.
const (
	statusReady    = "ready\n"    // start-up done
	statusRetiring = "retiring\n" // no longer accepting: start a successor when needed
	statusFull     = "full\n"     // every concurrency slot is taken
)

// tellMaster writes one status line to master; master gone or stand-alone
// mode make it a no-op.
func (d *daemonState) tellMaster(line string) {
	if d.toMaster != nil {
		d.toMaster.WriteString(line)
	}
}
