// The loggers of master and the postfix command, configured from main.cf.
package supervisor

import (
	"io"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maillog"
)

// OpenLog returns a Logger for program (e.g. "master") or, when tag is
// set, with that whole tag ("postfix/postfix-script"), set up from the
// main.cf in configDir: syslog_name, myhostname, maillog_file. Lines are
// also written to stderr when it is not nil. When main.cf cannot be read
// it still returns a usable Logger (syslog, defaults) together with the
// error, so that the caller can log it as fatal.
func OpenLog(configDir, program, tag string, stderr io.Writer) (*maillog.Logger, error) {
	opts := maillog.Options{Program: program, Tag: tag, StderrName: tag}
	if stderr != nil {
		opts.Stderr = stderr
	}
	if opts.StderrName == "" {
		opts.StderrName = maillog.ProgramName("postfix", program)
	}
	cfg, cfgErr := config.Load(configDir)
	if cfgErr == nil {
		settings, err := LoadSettings(cfg)
		if err != nil {
			cfgErr = err
		} else {
			opts.SyslogName = settings.SyslogName
			opts.SyslogFacility = settings.SyslogFacility
			opts.Hostname = settings.Hostname
			opts.File = settings.MaillogFile
			opts.FilePrefixes = settings.MaillogPrefixes
			if tag == "" {
				opts.StderrName = maillog.ProgramName(settings.SyslogName, program)
			}
		}
	}
	logger, err := maillog.New(opts)
	if err == nil {
		return logger, cfgErr
	}
	// maillog_file is unusable (prefixes, permissions): log to syslog.
	opts.File, opts.FilePrefixes = "", ""
	fallback, fallbackErr := maillog.New(opts)
	if fallbackErr != nil {
		return nil, fallbackErr
	}
	if cfgErr == nil {
		cfgErr = err
	}
	return fallback, cfgErr
}
