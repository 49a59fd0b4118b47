// The postfix command line: getopt-style options, a command, its operands.
package main

import "fmt"

type options struct {
	configDir string
	command   string
	operands  []string
}

// parseArgs reads "[-c config_dir] [-Dv] command [operands]". Options end
// at the first word that is not one.
func parseArgs(args []string) (options, error) {
	var o options
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
			switch arg[j] {
			case 'c':
				value := arg[j+1:]
				if value == "" {
					i++
					if i == len(args) {
						return o, fmt.Errorf("option requires an argument -- 'c'")
					}
					value = args[i]
				}
				o.configDir = value
				j = len(arg)
			case 'v', 'D':
				// Accepted as Postfix accepts them; nothing to pass on yet.
			default:
				return o, fmt.Errorf("invalid option -- '%c'", arg[j])
			}
		}
	}
	if i < len(args) {
		o.command = args[i]
		if rest := args[i+1:]; len(rest) > 0 {
			o.operands = rest
		}
	}
	return o, nil
}
