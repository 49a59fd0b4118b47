// The loggers of master and the postfix command, configured from main.cf.

package supervisor

import (
	"bytes"
	"io"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maillog"
)

// OpenLog returns a Logger for program ("master", "postfix-script") set
// up from the main.cf in configDir: syslog_name, myhostname,
// maillog_file. Lines are also written to stderr when it is not nil,
// named as Postfix names them there ("postfix/master: fatal: ..."). When
// main.cf cannot be read it still returns a usable Logger (syslog,
// defaults) together with the error, so that the caller can log it as
// fatal.
func OpenLog(configDir, program string, stderr io.Writer) (*maillog.Logger, error) {
	opts := maillog.Options{Program: program, StderrName: maillog.ProgramName("postfix", program), Stderr: stderr}
	cfg, cfgErr := config.Load(configDir)
	if cfgErr == nil {
		settings, err := FromConfig(cfg)
		if err != nil {
			cfgErr = err
		} else {
			opts.SyslogName = settings.SyslogName
			opts.SyslogFacility = settings.SyslogFacility
			opts.Hostname = settings.Hostname
			opts.File = settings.MaillogFile
			opts.FilePrefixes = settings.MaillogPrefixes
			opts.StderrName = maillog.ProgramName(settings.SyslogName, program)
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

// FatalLinesOnly passes on to w only the "fatal:" lines a Logger writes
// to its Stderr (one line per Write).
func FatalLinesOnly(w io.Writer) io.Writer { return fatalFilter{w} }

type fatalFilter struct{ w io.Writer }

func (f fatalFilter) Write(line []byte) (int, error) {
	if bytes.Contains(line, []byte(": fatal: ")) {
		return f.w.Write(line)
	}
	return len(line), nil
}
