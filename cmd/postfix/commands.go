// The postfix commands that start, stop, signal and query master.

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/supervisor"
)

// exitUnavailable is sysexits' EX_UNAVAILABLE, postqueue's status when
// the mail system is down.
const exitUnavailable = 69

// stopAttempts and stopPoll pace `postfix stop`'s wait for master.
const (
	stopAttempts = 5
	stopPoll     = 50 * time.Millisecond
)

// commandUsage ends the "unknown command" message.
const commandUsage = "Usage: postfix start (or stop, reload, abort, flush, check, status, set-permissions, upgrade-configuration, logrotate)"

// controller runs one postfix command.
type controller struct {
	cfg      *config.Config
	settings supervisor.Settings
	log      *maillog.Logger
	stderr   io.Writer
}

func (c *controller) info(format string, args ...any)    { c.log.Info(format, args...) }
func (c *controller) warning(format string, args ...any) { c.log.Warning(format, args...) }

// fatal logs a fatal line and returns the exit status 1.
func (c *controller) fatal(format string, args ...any) int {
	c.log.Log(maillog.LevelFatal, fmt.Sprintf(format, args...))
	return 1
}

func (c *controller) dispatch(command string, operands []string) int {
	switch command {
	case "start":
		return c.start(false)
	case "start-fg":
		return c.start(true)
	case "stop":
		return c.stop()
	case "abort":
		return c.signalMaster("aborting the Postfix mail system", syscall.SIGTERM)
	case "reload":
		return c.signalMaster("refreshing the Postfix mail system", syscall.SIGHUP)
	case "status":
		return c.status()
	case "check":
		return c.check()
	case "flush":
		return c.flush()
	case "logrotate":
		if len(operands) > 0 {
			return c.fatal("usage postfix %s (no arguments)", command)
		}
		return c.logrotate()
	case "set-permissions", "upgrade-configuration", "tls":
		return c.fatal("'%s' is not supported by Postern", command)
	}
	return c.fatal("unknown command: '%s'. %s", command, commandUsage)
}

// masterPID returns the running master's pid, or 0 when none runs.
func (c *controller) masterPID() (int, error) {
	pid, running, err := supervisor.RunningPID(c.settings.QueueDir)
	if err != nil || !running {
		return 0, err
	}
	return pid, nil
}

func (c *controller) masterPath() string {
	return filepath.Join(c.settings.DaemonDir, "master")
}

// start checks the installation, then runs master: in the background
// (`master -w`, which returns once master runs) or, for start-fg, in its
// place in the foreground.
func (c *controller) start(foreground bool) int {
	pid, err := c.masterPID()
	if err != nil {
		return c.fatal("%v", err)
	}
	if pid != 0 {
		return c.fatal("the Postfix mail system is already running")
	}
	if !c.checkFatal() {
		return c.fatal("Postfix integrity check failed!")
	}
	c.checkWarn()
	c.info("starting the Postfix mail system")
	if foreground {
		argv := []string{c.masterPath(), "-c", c.settings.ConfigDir, "-s"}
		err := syscall.Exec(argv[0], argv, os.Environ())
		return c.fatal("cannot start-fg the master daemon: exec %s: %v", argv[0], err)
	}
	cmd := exec.Command(c.masterPath(), "-c", c.settings.ConfigDir, "-w")
	cmd.Stdout, cmd.Stderr = os.Stdout, c.stderr
	if err := cmd.Run(); err != nil {
		return c.fatal("mail system startup failed")
	}
	return 0
}

// stop sends SIGTERM to master and waits up to five seconds for it to
// end; then it kills master's process group.
func (c *controller) stop() int {
	pid, err := c.masterPID()
	if err != nil {
		return c.fatal("%v", err)
	}
	if pid == 0 {
		return c.fatal("the Postfix mail system is not running")
	}
	c.info("stopping the Postfix mail system")
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return c.fatal("kill %d: %v", pid, err)
	}
	for attempt := 0; attempt < stopAttempts; attempt++ {
		for waited := time.Duration(0); waited < time.Second; waited += stopPoll {
			if remaining, _ := c.masterPID(); remaining == 0 {
				return 0
			}
			time.Sleep(stopPoll)
		}
		c.info("waiting for the Postfix mail system to terminate")
	}
	c.warning("stopping the Postfix mail system with force")
	syscall.Kill(-pid, syscall.SIGKILL)
	return 0
}

// signalMaster logs what it does and sends sig to the running master.
func (c *controller) signalMaster(what string, sig syscall.Signal) int {
	pid, err := c.masterPID()
	if err != nil {
		return c.fatal("%v", err)
	}
	if pid == 0 {
		return c.fatal("the Postfix mail system is not running")
	}
	c.info("%s", what)
	if err := syscall.Kill(pid, sig); err != nil {
		return c.fatal("kill %d: %v", pid, err)
	}
	return 0
}

func (c *controller) status() int {
	pid, err := c.masterPID()
	if err != nil {
		return c.fatal("%v", err)
	}
	if pid == 0 {
		c.info("the Postfix mail system is not running")
		return 1
	}
	c.info("the Postfix mail system is running: PID: %d", pid)
	return 0
}

// flush runs `postqueue -f` as Postfix does. With master down it answers
// as postqueue does (exit 69); Postern's postqueue is run when present.
func (c *controller) flush() int {
	if _, err := os.Stat(c.settings.QueueDir); err != nil {
		return c.fatal("no Postfix queue directory %s!", c.settings.QueueDir)
	}
	pid, err := c.masterPID()
	if err != nil {
		return c.fatal("%v", err)
	}
	if pid == 0 {
		fmt.Fprintf(c.stderr, "postqueue: warning: unable to look up public/qmgr: No such file or directory\n")
		fmt.Fprintf(c.stderr, "postqueue: fatal: Cannot flush mail queue - mail system is down\n")
		return exitUnavailable
	}
	commandDir, err := c.cfg.Get("command_directory")
	if err != nil {
		return c.fatal("%v", err)
	}
	postqueue := filepath.Join(commandDir, "postqueue")
	if _, err := os.Stat(postqueue); err != nil {
		c.log.Log(maillog.LevelFatal, fmt.Sprintf("Cannot flush mail queue - no %s in this Postern installation yet", postqueue))
		return exitUnavailable
	}
	cmd := exec.Command(postqueue, "-c", c.settings.ConfigDir, "-f")
	cmd.Stdout, cmd.Stderr = os.Stdout, c.stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		return c.fatal("exec %s: %v", postqueue, err)
	}
	return 0
}

// logrotate renames maillog_file, makes master and postlogd reopen it
// (SIGHUP, as Postfix does), and compresses the old file.
func (c *controller) logrotate() int {
	values := map[string]string{}
	for _, name := range []string{"maillog_file", "maillog_file_compressor", "maillog_file_rotate_suffix"} {
		v, err := c.cfg.Get(name)
		if err != nil {
			return c.fatal("%v", err)
		}
		if v == "" {
			return c.fatal("empty '%s' parameter value - logfile rotation failed", name)
		}
		values[name] = v
	}
	file := values["maillog_file"]
	rotated, err := maillog.Rotate(file, values["maillog_file_rotate_suffix"], time.Now())
	if err != nil {
		return c.fatal("%v", err)
	}
	if pid, _ := c.masterPID(); pid != 0 {
		if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
			return c.fatal("logfile '%s' rotation failed: kill %d: %v", file, pid, err)
		}
	}
	time.Sleep(time.Second)
	out, err := exec.Command(values["maillog_file_compressor"], rotated).CombinedOutput()
	if err != nil {
		return c.fatal("logfile '%s' rotation failed: %s%v", file, out, err)
	}
	return 0
}
