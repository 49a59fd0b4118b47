// Command-line parsing for postlog, with getopt's rules and messages.

package main

import "github.com/postern/postern/pkg/getopt"

const usage = "usage: postlog [-c config_dir] [-i] [-p priority] [-t tag] [-v] [text]"

// options are postlog's command-line settings.
type options struct {
	configDir string // -c; "" when not given
	priority  string // -p; "info" when not given
	tag       string // -t; "" for the default tag
	verbose   int    // -v, counted
	text      []string
}

// usageError is a bad command line: getopt's complaint, which Postfix
// prints before the fatal usage line.
type usageError struct{ complaint string }

func (e *usageError) Error() string { return e.complaint }

// parseArgs parses args (without the program name) as getopt("c:ip:t:v")
// does. On a bad option it still returns the options given before it, so
// that the complaint is logged under the -t tag when one came first.
func parseArgs(args []string) (options, error) {
	opts := options{priority: "info"}
	parsed, text, err := getopt.Parse(args, "c:ip:t:v")
	for _, opt := range parsed {
		switch opt.Letter {
		case 'c':
			opts.configDir = opt.Arg
		case 'i':
			// Obsolete: the process ID is always logged.
		case 'p':
			opts.priority = opt.Arg
		case 't':
			opts.tag = opt.Arg
		case 'v':
			opts.verbose++
		}
	}
	if err != nil {
		return opts, &usageError{err.Error()}
	}
	opts.text = text
	return opts, nil
}
