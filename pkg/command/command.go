// Package command runs an external program the way Postfix's local(8),
// pipe(8) and spawn(8) do: in its own session and process group, with the
// credentials it is given, and killed with its whole group at a time limit,
// so that nothing it left in the background outlives the limit.
package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeLimit is Postfix's command_time_limit default, used when a
// Spec has none.
const DefaultTimeLimit = 1000 * time.Second

// outputGrace is how long a finished command's output pipe may stay open:
// a descendant that escaped the process group may still hold it.
const outputGrace = 5 * time.Second

// Spec says what to run and how.
type Spec struct {
	// Argv is executed directly (no shell): Argv[0] is the program.
	Argv []string
	Env  []string
	// Dir is the working directory ("" = this process's).
	Dir string
	// Credential, when set, is the user and groups the command runs as
	// (that needs root); nil runs it as this process's user.
	Credential *syscall.Credential
	// Stdin, Stdout and Stderr are the command's standard streams. An
	// *os.File is handed to the command as it is (a connection for
	// spawn(8)); another reader or writer is copied through a pipe.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// TimeLimit bounds the command's run (DefaultTimeLimit when 0).
	TimeLimit time.Duration
}

// Result is how a command ended.
type Result struct {
	// Err is set when the command could not be started or waited for.
	Err error
	// PID is the command's process ID (0 when it did not start).
	PID int
	// TimedOut says the time limit killed the command's process group.
	TimedOut bool
	// Status is the wait status (meaningful when Err is nil).
	Status syscall.WaitStatus
}

// Normal says the command exited with status 0 within its time limit.
func (r Result) Normal() bool {
	return r.Err == nil && !r.TimedOut && r.Status.Exited() && r.Status.ExitStatus() == 0
}

// Run runs spec.Argv and waits for it. When ctx ends first (the caller
// stops) the process group is killed too, but TimedOut stays false.
func Run(ctx context.Context, spec Spec) Result {
	if len(spec.Argv) == 0 {
		return Result{Err: errors.New("empty command")}
	}
	limit := spec.TimeLimit
	if limit <= 0 {
		limit = DefaultTimeLimit
	}
	c := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	c.Env, c.Dir = spec.Env, spec.Dir
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: spec.Credential}
	c.Stdin, c.Stdout, c.Stderr = spec.Stdin, spec.Stdout, spec.Stderr
	c.WaitDelay = outputGrace
	if err := c.Start(); err != nil {
		return Result{Err: err}
	}
	res := Result{PID: c.Process.Pid}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	var err error
	select {
	case err = <-waited:
	case <-timer.C:
		res.TimedOut = true
		syscall.Kill(-res.PID, syscall.SIGKILL)
		err = <-waited
	case <-ctx.Done():
		syscall.Kill(-res.PID, syscall.SIGKILL)
		err = <-waited
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		err = nil
	}
	res.Err = err
	if c.ProcessState != nil {
		res.Status, _ = c.ProcessState.Sys().(syscall.WaitStatus)
	}
	return res
}

// Output keeps the first Max bytes written to it and drops the rest,
// reporting every write as complete so the command is never stopped by a
// full pipe. It is the command output that Postfix quotes in its texts.
type Output struct {
	Max int
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	if room := o.Max - o.buf.Len(); room > 0 {
		o.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Text is the kept output with every run of white space made one space.
func (o *Output) Text() string {
	return strings.Join(strings.Fields(o.buf.String()), " ")
}

// Describe says how a command that did not end normally ended, in the
// words of spawn(8)'s warnings: "exit status N", "killed by signal N".
func (r Result) Describe() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.Status.Signaled():
		return fmt.Sprintf("killed by signal %d", int(r.Status.Signal()))
	default:
		return fmt.Sprintf("exit status %d", r.Status.ExitStatus())
	}
}

// Environment is a command's environment from export_environment: a
// name=value element as it is, a name with this process's value when it
// has one.
func Environment(exports []string) []string {
	var env []string
	for _, e := range exports {
		if strings.Contains(e, "=") {
			env = append(env, e)
		} else if v, ok := os.LookupEnv(e); ok {
			env = append(env, e+"="+v)
		}
	}
	return env
}
