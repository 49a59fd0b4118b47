// The postfix command line: getopt-style options, a command, its operands.

package main

import "github.com/postern/postern/pkg/getopt"

type options struct {
	configDir string
	command   string
	operands  []string
}

// parseArgs reads "[-c config_dir] [-Dv] command [operands]". Options end
// at the first word that is not one.
func parseArgs(args []string) (options, error) {
	var o options
	parsed, rest, err := getopt.Parse(args, "c:Dv")
	if err != nil {
		return o, err
	}
	for _, opt := range parsed {
		if opt.Letter == 'c' {
			o.configDir = opt.Arg
		}
		// -D and -v are accepted as Postfix accepts them; nothing to pass on yet.
	}
	if len(rest) > 0 {
		o.command = rest[0]
		if operands := rest[1:]; len(operands) > 0 {
			o.operands = operands
		}
	}
	return o, nil
}
