// Package cli is the shared start-up of the queue commands (postcat,
// postqueue, postsuper): main.cf, the queue layout, and a logger that
// prints "name: fatal: text" on stderr as Postfix commands do, and logs to
// syslog or maillog_file too.
package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
)

// Exit statuses from sysexits.h that Postfix commands use.
const (
	ExitOK          = 0
	ExitFatal       = 1  // msg_fatal
	ExitUsage       = 64 // EX_USAGE
	ExitUnavailable = 69 // EX_UNAVAILABLE
	ExitSoftware    = 70 // EX_SOFTWARE
)

// Env is a command's standard streams.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Tool is a started command: its configuration, queue layout and logger.
type Tool struct {
	Name   string
	Config *config.Config
	Layout *queue.Layout
	Log    *maillog.Logger
}

// Fatalf reports a fatal error before or after logging is set up and
// returns the exit status 1, as msg_fatal does.
func Fatalf(name string, env Env, format string, args ...any) int {
	fmt.Fprintf(env.Stderr, "%s: fatal: %s\n", name, fmt.Sprintf(format, args...))
	return ExitFatal
}

// Start loads main.cf from configDir (the -c value, MAIL_CONFIG, or
// /etc/postfix), the queue layout and the logger. Errors are worded for
// Fatalf.
func Start(name, configDir string, env Env) (*Tool, error) {
	cfg, err := config.Load(config.ConfigDir(configDir))
	if err != nil {
		return nil, err
	}
	layout, err := queue.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	opts := maillog.Options{Program: name, Stderr: env.Stderr, StderrName: name}
	if IsSetgid() {
		// A set-group-id command run by a user logs through postlogd,
		// never by opening maillog_file with the group's rights.
		opts.PostlogSocket = filepath.Join(layout.Root, queue.PublicDir, "postlog")
	}
	if err := opts.ReadParams(cfg.Get); err != nil {
		return nil, err
	}
	logger, err := maillog.New(opts)
	if err != nil {
		return nil, err
	}
	return &Tool{Name: name, Config: cfg, Layout: layout, Log: logger}, nil
}

// Fatal logs "fatal: text" and returns status, for commands that exit
// with a sysexits code after a fatal error.
func (t *Tool) Fatal(status int, format string, args ...any) int {
	t.Log.Log(maillog.LevelFatal, fmt.Sprintf(format, args...))
	return status
}

// Warn logs "warning: text"; it has the signature queue.Layout.Load wants.
func (t *Tool) Warn(text string) { t.Log.Warning("%s", text) }

// Close releases the logger.
func (t *Tool) Close() { t.Log.Close() }

// Asctime formats t in local time as C's asctime() does, without the
// newline: "Sat Nov 28 13:01:15 2026".
func Asctime(t time.Time) string {
	return t.Local().Format("Mon Jan _2 15:04:05 2006")
}

// Strerror words an error as C's strerror does ("No such file or
// directory"), dropping the operation and path that Go adds.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = errno
	}
	msg := err.Error()
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}
