// Start-up of the submission commands (sendmail, postdrop), which ordinary users run.

package maildrop

import (
	"io"
	"path/filepath"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
)

// StartCommand loads main.cf from configDir (the option value, else
// MAIL_CONFIG, else /etc/postfix), the queue layout and a logger for the
// program name that prints "stderrName: fatal: text" on stderr too. Unlike the administrator
// commands it does not need to open maillog_file: ordinary users cannot,
// so with maillog_file set the lines go to postlogd's public/postlog
// socket first, as Postfix's sendmail does.
func StartCommand(name, stderrName, configDir string, stderr io.Writer) (*cli.Tool, error) {
	cfg, err := config.Load(config.ConfigDir(configDir))
	if err != nil {
		return nil, err
	}
	layout, err := queue.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	opts := maillog.Options{Program: name, Stderr: stderr, StderrName: stderrName,
		PostlogSocket: filepath.Join(layout.Root, queue.PublicDir, "postlog")}
	if err := opts.ReadParams(cfg.Get); err != nil {
		return nil, err
	}
	logger, err := maillog.New(opts)
	if err != nil {
		return nil, err
	}
	return &cli.Tool{Name: name, Config: cfg, Layout: layout, Log: logger}, nil
}
