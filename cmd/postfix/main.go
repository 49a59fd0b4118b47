// Command postfix controls the Postern mail system as Postfix's postfix(1)
// does: start, start-fg, stop, abort, reload, status, check, flush and
// logrotate, with Postfix's messages (on standard error and in the log)
// and exit codes.
//
// Usage: postfix [-c config_dir] [-Dv] command
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/supervisor"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// usage is printed after an unknown option.
const usage = "usage: postfix [-c config_dir] [-Dv] command"

func run(args []string, stderr io.Writer) int {
	opts, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "postfix: %v\n", err)
		fmt.Fprintf(stderr, "postfix: fatal: %s\n", usage)
		return 1
	}
	dir := config.ConfigDir(opts.configDir)
	cfg, err := config.Load(dir)
	if err != nil {
		fmt.Fprintf(stderr, "postfix: fatal: %v\n", err)
		return 1
	}
	if opts.command == "check" {
		// As Postfix's postfix(1), which reads its parameters before
		// running postfix-script: a malformed or out-of-range value is
		// fatal.
		if err := cfg.Check(); err != nil {
			fmt.Fprintf(stderr, "postfix: fatal: %v\n", err)
			return 1
		}
	}
	settings, err := supervisor.FromConfig(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "postfix: fatal: %v\n", err)
		return 1
	}
	log, err := supervisor.OpenLog(dir, "postfix-script", stderr)
	if log == nil {
		fmt.Fprintf(stderr, "postfix: fatal: %v\n", err)
		return 1
	}
	defer log.Close()
	ctl := &controller{cfg: cfg, settings: settings, log: log, stderr: stderr}
	if err != nil {
		return ctl.fatal("%v", err)
	}
	return ctl.dispatch(opts.command, opts.operands)
}
