// Runs a program with a chosen configuration directory and captures what it printed and its exit code.

package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultTimeout bounds an Invocation that sets no Timeout.
const DefaultTimeout = 30 * time.Second

// Invocation describes one run of a program.
type Invocation struct {
	Path string // program to run (from Bin or RealPostfix)
	// Arg0 is the argv[0] the program sees, Path when empty. Postfix names
	// itself after argv[0] in messages printed before it has read main.cf,
	// so comparisons run both sides under the bare command name.
	Arg0 string
	Args []string // arguments after the configuration option
	// ConfigDir, when set, selects the configuration directory: as "-c DIR"
	// in front of Args, or as MAIL_CONFIG=DIR when ConfigViaEnv is true.
	ConfigDir    string
	ConfigViaEnv bool
	Stdin        string        // fed to standard input
	Env          []string      // extra NAME=value entries
	Dir          string        // working directory; the test's when empty
	Timeout      time.Duration // DefaultTimeout when zero
	// AsUser, when the test runs as root, runs the program as that user
	// (see Unprivileged); ignored when the test is not root.
	AsUser string
}

// Result is what a finished program left behind.
type Result struct {
	Stdout   string
	Stderr   string
	ExitCode int // -1 when the program was killed by a signal
}

// String renders the result for failure messages.
func (r Result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.ExitCode, r.Stdout, r.Stderr)
}

// CommandLine renders the invocation as a shell-like line for messages.
func (inv Invocation) CommandLine() string {
	var b strings.Builder
	if inv.ConfigDir != "" && inv.ConfigViaEnv {
		fmt.Fprintf(&b, "MAIL_CONFIG=%s ", inv.ConfigDir)
	}
	b.WriteString(inv.Path)
	for _, a := range inv.args() {
		b.WriteByte(' ')
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

func (inv Invocation) args() []string {
	if inv.ConfigDir == "" || inv.ConfigViaEnv {
		return inv.Args
	}
	return append([]string{"-c", inv.ConfigDir}, inv.Args...)
}

// Run executes the invocation and returns its result. A non-zero exit is
// part of the result, not an error; the test fails only when the program
// cannot be started or outlives its timeout.
func (inv Invocation) Run(t testing.TB) Result {
	t.Helper()
	res, err := inv.run()
	if err != nil {
		t.Fatalf("%s: %v", inv.CommandLine(), err)
	}
	return res
}

func (inv Invocation) run() (Result, error) {
	timeout := inv.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, inv.Path, inv.args()...)
	if inv.Arg0 != "" {
		cmd.Args[0] = inv.Arg0
	}
	// Its own process group, so a timeout kills the children it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if inv.AsUser != "" && os.Geteuid() == 0 {
		cred, err := credential(inv.AsUser)
		if err != nil {
			return Result{}, err
		}
		cmd.SysProcAttr.Credential = cred
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	cmd.Dir = inv.Dir
	cmd.Env = inv.environment()
	cmd.Stdin = strings.NewReader(inv.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		return res, fmt.Errorf("still running after %v; killed\n%s", timeout, res)
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.ExitCode = exitErr.ExitCode()
	default:
		return res, fmt.Errorf("start: %w", err)
	}
	return res, nil
}

// environment is the test's environment without an inherited MAIL_CONFIG,
// plus the invocation's own entries.
func (inv Invocation) environment() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAIL_CONFIG=") {
			env = append(env, kv)
		}
	}
	if inv.ConfigDir != "" && inv.ConfigViaEnv {
		env = append(env, "MAIL_CONFIG="+inv.ConfigDir)
	}
	return append(env, inv.Env...)
}

// RunConfig is the common case: run path with -c dir and args.
func RunConfig(t testing.TB, path, dir string, args ...string) Result {
	t.Helper()
	return Invocation{Path: path, ConfigDir: dir, Args: args}.Run(t)
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == '=' || r == ',' || r == '@' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
