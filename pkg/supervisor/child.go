// Starting a service's daemon per the master/daemon contract and watching it until it exits.

package supervisor

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/mastercf"
	"github.com/postern/postern/pkg/privs"
)

// The lines a daemon writes on its status pipe (fd 4): "ready" once it
// has started up, "retiring" when it stops accepting (max_use, max_idle,
// SIGHUP) and drains its sessions, "full" when every concurrency slot is
// taken.
const (
	readyLine    = "ready\n"
	retiringLine = "retiring\n"
	fullLine     = "full\n"
)

// child is one running daemon process.
type child struct {
	pid  int
	path string // the program, as warnings name it
	inst *instance
	// ready: the daemon reported the end of its start-up.
	ready bool
	// retiring: it no longer accepts and exits when its sessions end.
	retiring bool
	started  time.Time
	process  *os.Process
}

// daemonArgv is the command line the contract gives a daemon:
// COMMAND -c CONFIGDIR -n SERVICE -t TYPE [-u] [-r] -p MAXPROC [-w WAKEUP] ARGS...
//
// A service that may come under stress (stressEligible) gets "-o stress="
// always and "-o stress=yes" while master has it in stress mode, as
// Postfix's master passes them.
func daemonArgv(e *mastercf.Entry, configDir string, defaultProcessLimit int, eligible, stress bool) []string {
	argv := []string{e.Command, "-c", configDir, "-n", e.Service, "-t", string(e.Type)}
	if e.IsUnprivileged() {
		argv = append(argv, "-u")
	}
	if e.IsChroot() {
		argv = append(argv, "-r")
	}
	argv = append(argv, "-p", strconv.Itoa(e.MaxProc(defaultProcessLimit)))
	if seconds, _ := e.WakeupTime(); seconds > 0 {
		argv = append(argv, "-w", strconv.Itoa(seconds))
	}
	switch {
	case stress:
		argv = append(argv, "-o", "stress=yes")
	case eligible:
		argv = append(argv, "-o", "stress=")
	}
	return append(argv, e.Args...)
}

// daemonEnv is master's environment with MAIL_CONFIG set to configDir and
// POSTERN_MASTER=1, which tells a daemon that master started it.
func daemonEnv(configDir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "MAIL_CONFIG" || name == "POSTERN_MASTER" || name == privs.EarlyNoNewPrivsEnv || name == privs.EarlyNiceEnv || name == notifyFDVariable {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "MAIL_CONFIG="+configDir, "POSTERN_MASTER=1")
}

// noNewPrivsEnv is daemonEnv plus privs.EarlyNoNewPrivsEnv for a daemon
// that will run with no_new_privs (unprivileged, or master not root: the
// daemon's own rule), which spares a program linked with cgo re-executing
// itself to set the flag.
func noNewPrivsEnv(env []string, e *mastercf.Entry) []string {
	if privs.IsRoot() && !e.IsUnprivileged() {
		return env
	}
	return append(env, privs.EarlyNoNewPrivsEnv+"=1")
}

// backgroundPrograms are the delivery side: qmgr and the delivery agents
// that run no commands of users. Master starts them at backgroundNice, so
// that when the CPUs are saturated the receiving side (smtpd, cleanup)
// runs first and a message's "250 queued" does not wait while deliveries
// of the messages before it take the CPU; deliveries catch up as soon as
// the receiving side leaves CPU time over. At 500 sessions (400 × 4 KB
// arriving at once) smtpd and cleanup shared the two CPUs with qmgr and
// smtp, and accept latency p99 fell from 156-701 ms to 65-256 ms with
// them at nice 10 (README, Performance), the rate unchanged. local and
// pipe, which run users' commands, keep the normal priority.
var backgroundPrograms = map[string]bool{"qmgr": true, "smtp": true, "lmtp": true, "virtual": true}

// backgroundNice is the nice value added to a backgroundPrograms daemon's.
const backgroundNice = 10

// niceEnv is env plus privs.EarlyNiceEnv for a daemon of the delivery
// side (backgroundPrograms).
func niceEnv(env []string, e *mastercf.Entry) []string {
	if !backgroundPrograms[filepath.Base(e.Command)] {
		return env
	}
	return append(env, privs.EarlyNiceEnv+"="+strconv.Itoa(backgroundNice))
}

// startChild starts inst's daemon with the listener as fd 3, the ready
// pipe as fd 4 and the descriptors every daemon shares from fd 5 on: the
// read end of master's status pipe, then the mail flow control pipe's
// read and write ends. The watcher goroutine reports the status lines and the exit to
// events. stress starts the daemon with "-o stress=yes".
func startChild(inst *instance, s Settings, shared []*os.File, stress bool, events chan<- event) (*child, error) {
	eligible := inst.stressEligible(s.DefaultProcessLimit)
	e := inst.svc.entry
	path := filepath.Join(s.DaemonDir, e.Command)
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("master_spawn: pipe: %w", err)
	}
	cmd := &exec.Cmd{
		Path:       path,
		Args:       daemonArgv(e, s.ConfigDir, s.DefaultProcessLimit, eligible, stress && eligible),
		Env:        niceEnv(noNewPrivsEnv(daemonEnv(s.ConfigDir), e), e),
		Dir:        "/",
		ExtraFiles: append([]*os.File{inst.listener, readyW}, shared...),
	}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		readyR.Close()
		return nil, fmt.Errorf("master_spawn: exec %s: %s", path, strerror(unwrapPathError(err)))
	}
	c := &child{pid: cmd.Process.Pid, path: path, inst: inst, process: cmd.Process, started: time.Now()}
	go watchChild(cmd, readyR, events)
	return c, nil
}

// watchChild reports the daemon's status lines until it closes the pipe,
// then waits for the process to exit.
func watchChild(cmd *exec.Cmd, readyR *os.File, events chan<- event) {
	pid := cmd.Process.Pid
	r := bufio.NewReader(readyR)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		switch line {
		case readyLine:
			events <- childReady{pid: pid}
		case retiringLine:
			events <- childRetiring{pid: pid}
		case fullLine:
			events <- childFull{pid: pid}
		}
	}
	readyR.Close()
	cmd.Wait()
	events <- childExited{pid: pid, state: cmd.ProcessState}
}

// exitWarning words an abnormal end as Postfix's master does, or returns
// "" for a normal exit.
func exitWarning(path string, pid int, state *os.ProcessState) string {
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("process %s pid %d killed by signal %d", path, pid, int(ws.Signal()))
	}
	if code := state.ExitCode(); code != 0 {
		return fmt.Sprintf("process %s pid %d exit status %d", path, pid, code)
	}
	return ""
}
