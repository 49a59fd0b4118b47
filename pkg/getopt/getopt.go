// Package getopt parses command lines the way getopt(3) does, for the Postern commands.
//
// An option string such as "c:d:fi" lists the option letters; a letter
// followed by ':' takes an argument, given in the same word ("-cDIR") or
// as the next word ("-c DIR"). Letters without an argument may be
// clustered ("-fi"), and a word "--" ends the options. Parse stops at the
// first operand, as POSIX getopt does; ParseGNU, like GNU getopt, goes on
// past operands and collects options wherever they stand. A word "-" is an
// operand. Errors are worded as glibc words them; callers add their
// program name.
package getopt

import "fmt"

// Option is one parsed option: its letter and, for a letter that takes
// one, its argument.
type Option struct {
	Letter byte
	Arg    string
}

// Error is a bad option on the command line.
type Error struct {
	Letter          byte // the offending option letter
	MissingArgument bool // the letter takes an argument and none followed
}

// Error words the problem as glibc's getopt does.
func (e *Error) Error() string {
	if e.MissingArgument {
		return fmt.Sprintf("option requires an argument -- '%c'", e.Letter)
	}
	return fmt.Sprintf("invalid option -- '%c'", e.Letter)
}

// Parse parses args (without the program name) against optstring as
// POSIX getopt does: options end at "--" or at the first operand. It
// returns the options in order and the operands. On a bad option it
// returns an *Error, the options parsed before the bad one, and no
// operands.
func Parse(args []string, optstring string) ([]Option, []string, error) {
	return parse(args, optstring, false)
}

// ParseGNU is Parse, except that options may also follow operands, as GNU
// getopt permits; the operands keep their order, and "--" still ends the
// options.
func ParseGNU(args []string, optstring string) ([]Option, []string, error) {
	return parse(args, optstring, true)
}

func parse(args []string, optstring string, permute bool) ([]Option, []string, error) {
	var opts []Option
	var operands []string // the operands before the options ended, when permuting
	i := 0
	for ; i < len(args); i++ {
		word := args[i]
		if word == "--" {
			i++
			break
		}
		if len(word) < 2 || word[0] != '-' {
			if !permute {
				break
			}
			operands = append(operands, word)
			continue
		}
		for j := 1; j < len(word); j++ {
			letter := word[j]
			takesArg, known := lookup(optstring, letter)
			if !known {
				return opts, nil, &Error{Letter: letter}
			}
			if !takesArg {
				opts = append(opts, Option{Letter: letter})
				continue
			}
			value := word[j+1:]
			if value == "" {
				if i+1 >= len(args) {
					return opts, nil, &Error{Letter: letter, MissingArgument: true}
				}
				i++
				value = args[i]
			}
			opts = append(opts, Option{Letter: letter, Arg: value})
			break
		}
	}
	if !permute {
		return opts, args[i:], nil
	}
	return opts, append(operands, args[i:]...), nil
}

// lookup reports whether letter is in optstring and whether it takes an
// argument. ':' is never an option letter.
func lookup(optstring string, letter byte) (takesArg, known bool) {
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
