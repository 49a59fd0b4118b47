// postconf -b and -t: the bounce templates, expanded or as written.

package main

import (
	"fmt"

	"github.com/postern/postern/pkg/dsn"
)

// bounceError is a fatal error of the template code, which Postfix's
// postconf reports as its bounce program does: "postfix/bounce: fatal:".
type bounceError struct{ err error }

func (e *bounceError) Error() string { return e.err.Error() }

// bounceLogName prefixes the template code's messages.
const bounceLogName = "postfix/bounce"

// templates prints the templates of bounce_template_file, or of the file
// named on the command line, expanded with main.cf (-b) or as written
// (-t).
func (p *postconf) templates() error {
	cfg, err := p.loadConfig()
	if err != nil {
		return err
	}
	path := ""
	if len(p.opts.args) == 1 {
		path = p.opts.args[0]
	}
	warn := func(msg string) { fmt.Fprintf(p.errw, "%s: warning: %s\n", bounceLogName, printable(msg)) }
	ts, err := dsn.LoadTemplatesFromConfig(cfg, path, warn)
	if err != nil {
		return &bounceError{err}
	}
	if p.opts.flags['t'] {
		return ts.WriteTemplates(p.out)
	}
	if err := dsn.WriteExpanded(p.out, cfg, ts, warn); err != nil {
		return &bounceError{err}
	}
	return nil
}
