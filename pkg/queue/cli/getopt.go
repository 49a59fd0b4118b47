// POSIX getopt for the queue commands: clustered flags, "-c dir" or "-cdir", "--" ends options.
package cli

import "fmt"

// Option is one parsed option: its letter and, for letters followed by ':'
// in the option string, its argument.
type Option struct {
	Letter byte
	Arg    string
}

// Getopt parses args (without the program name) against optstring as
// POSIX getopt does, stopping at the first non-option. It returns the
// options in order and the remaining operands. The error is worded like
// glibc's: "invalid option -- 'x'" or "option requires an argument -- 'c'".
func Getopt(args []string, optstring string) ([]Option, []string, error) {
	var opts []Option
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
			letter := arg[j]
			takesArg, known := optionSpec(optstring, letter)
			if !known {
				return nil, nil, fmt.Errorf("invalid option -- '%c'", letter)
			}
			if !takesArg {
				opts = append(opts, Option{Letter: letter})
				continue
			}
			value := arg[j+1:]
			if value == "" {
				if i+1 >= len(args) {
					return nil, nil, fmt.Errorf("option requires an argument -- '%c'", letter)
				}
				i++
				value = args[i]
			}
			opts = append(opts, Option{Letter: letter, Arg: value})
			break
		}
	}
	return opts, args[i:], nil
}

func optionSpec(optstring string, letter byte) (takesArg, known bool) {
	if letter == ':' {
		return false, false
	}
	for k := 0; k < len(optstring); k++ {
		if optstring[k] == letter {
			return k+1 < len(optstring) && optstring[k+1] == ':', true
		}
	}
	return false, false
}
