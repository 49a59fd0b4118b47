// Command-line parsing for postlog, with getopt's rules and messages.
package main

import "fmt"

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
// does: options may be grouped (-iv) and an option's value may be attached
// (-tTAG); options end at "--" or at the first argument that is not one.
func parseArgs(args []string) (options, error) {
	opts := options{priority: "info"}
	i := 0
	for ; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			i++
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			break
		}
		for j := 1; j < len(arg); j++ {
			c := arg[j]
			switch c {
			case 'i':
				// Obsolete: the process ID is always logged.
			case 'v':
				opts.verbose++
			case 'c', 'p', 't':
				value := arg[j+1:]
				if value == "" {
					if i+1 >= len(args) {
						return opts, &usageError{fmt.Sprintf("option requires an argument -- '%c'", c)}
					}
					i++
					value = args[i]
				}
				switch c {
				case 'c':
					opts.configDir = value
				case 'p':
					opts.priority = value
				case 't':
					opts.tag = value
				}
				j = len(arg)
			default:
				return opts, &usageError{fmt.Sprintf("invalid option -- '%c'", c)}
			}
		}
	}
	opts.text = args[i:]
	return opts, nil
}
