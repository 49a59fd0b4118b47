// Command-line option parsing in the style of getopt(3), which postmap
// and postalias use: clustered flags (-fq key), options anywhere.
package tablecmd

import "fmt"

// option is one parsed command-line option.
type option struct {
	flag byte
	arg  string
}

// getopt parses args against spec ("c:d:fi...": a colon marks an option
// that takes an argument). Like GNU getopt it accepts options after
// operands; "--" ends the options.
func getopt(args []string, spec string) (opts []option, operands []string, err error) {
	takesArg := map[byte]bool{}
	known := map[byte]bool{}
	for i := 0; i < len(spec); i++ {
		known[spec[i]] = true
		if i+1 < len(spec) && spec[i+1] == ':' {
			takesArg[spec[i]] = true
			i++
		}
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			operands = append(operands, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			operands = append(operands, arg)
			continue
		}
		for j := 1; j < len(arg); j++ {
			c := arg[j]
			if !known[c] || c == ':' {
				return nil, nil, fmt.Errorf("invalid option -- '%c'", c)
			}
			if !takesArg[c] {
				opts = append(opts, option{flag: c})
				continue
			}
			if j+1 < len(arg) {
				opts = append(opts, option{flag: c, arg: arg[j+1:]})
			} else if i+1 < len(args) {
				i++
				opts = append(opts, option{flag: c, arg: args[i]})
			} else {
				return nil, nil, fmt.Errorf("option requires an argument -- '%c'", c)
			}
			break
		}
	}
	return opts, operands, nil
}
