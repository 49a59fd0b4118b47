// options.go parses postconf's command line the way getopt does: bundled
// flags (-nx, -dh), -c DIR and -o name=value with their argument attached
// or separate, options ending at the first operand or "--".
package main

import (
	"fmt"
	"strings"
)

// usageError is a bad command line: getopt's complaint, then the usage.
type usageError struct{ complaint string }

func (e *usageError) Error() string { return usage }

// options are the parsed command-line flags.
type options struct {
	configDir  string
	overrides  []string
	flags      map[byte]bool
	masterMode byte // 'M', 'F' or 'P' when one of those was given
	args       []string
}

// flagsWithArgument take a value: -c DIR, -o name=value.
const flagsWithArgument = "co"

// knownFlags are the single-letter flags postconf accepts.
const knownFlags = "aAdefFhHmMnPxX#"

func parseOptions(argv []string) (*options, error) {
	o := &options{flags: map[byte]bool{}}
	i := 0
	for ; i < len(argv); i++ {
		arg := argv[i]
		if arg == "--" {
			i++
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			break
		}
		for j := 1; j < len(arg); j++ {
			f := arg[j]
			if strings.IndexByte(flagsWithArgument, f) >= 0 {
				value := arg[j+1:]
				if value == "" {
					if i+1 >= len(argv) {
						return nil, &usageError{fmt.Sprintf("option requires an argument -- '%c'", f)}
					}
					i++
					value = argv[i]
				}
				if f == 'c' {
					o.configDir = value
				} else {
					o.overrides = append(o.overrides, value)
				}
				break
			}
			if strings.IndexByte(knownFlags, f) < 0 {
				return nil, &usageError{fmt.Sprintf("invalid option -- '%c'", f)}
			}
			o.flags[f] = true
			if f == 'M' || f == 'F' || f == 'P' {
				o.masterMode = f
			}
		}
	}
	o.args = argv[i:]
	return o, o.check()
}

// flagOrder is the order in which postconf names conflicting flags.
const flagOrder = "aAdeFfhHmMnPxX#"

// commandFlags select what postconf does; at most one may be given.
const commandFlags = "aAeFmMPX#"

// check rejects the combinations postconf refuses, with its messages.
func (o *options) check() error {
	for _, a := range o.args {
		if strings.Contains(a, "=") && o.masterMode == 0 {
			o.flags['e'] = true
		}
	}
	if c := o.present(commandFlags); len(c) > 1 {
		return fmt.Errorf("specify one of %s", strings.Join(c, " "))
	}
	for _, pair := range []string{"dn", "hH"} {
		if c := o.present(pair); len(c) > 1 {
			return fmt.Errorf("specify one of %s", strings.Join(c, " "))
		}
	}
	command := o.present(commandFlags)
	if len(command) == 0 {
		return nil
	}
	cmd := command[0][1]
	switch cmd {
	case 'e', 'X', '#':
		if c := o.present("dfhHnx" + string(cmd)); len(c) > 1 {
			return fmt.Errorf("specify one of %s", strings.Join(c, " "))
		}
		if len(o.args) == 0 && cmd == 'e' {
			return fmt.Errorf("-e requires name=value argument")
		}
		if len(o.args) == 0 {
			return fmt.Errorf("missing service argument")
		}
	case 'a', 'A', 'm':
		if c := o.present("dfhHnx"); len(c) > 0 {
			return fmt.Errorf("with option -%c, do not specify %s", cmd, c[0])
		}
	case 'M', 'F', 'P':
		if c := o.present("dhHn"); len(c) > 0 {
			return fmt.Errorf("with option -%c, do not specify %s", cmd, c[0])
		}
	}
	return nil
}

// present lists the flags among set that were given, as "-x" strings in
// postconf's order.
func (o *options) present(set string) []string {
	var out []string
	for i := 0; i < len(flagOrder); i++ {
		f := flagOrder[i]
		if o.flags[f] && strings.IndexByte(set, f) >= 0 {
			out = append(out, "-"+string(f))
		}
	}
	return out
}

// usage is postconf's synopsis, printed after a bad option.
const usage = "usage: postconf [-a (server SASL types)] [-A (client SASL types)] [-c config_dir] " +
	"[-d (parameter defaults)] [-e (edit configuration)] [-f (fold lines)] [-F (master.cf fields)] " +
	"[-h (no names)] [-H (no values)] [-m (map types)] [-M (master.cf)] [-n (non-default parameters)] " +
	"[-o name=value (override parameter value)] [-P (master.cf parameters)] [-x (expand parameter values)] " +
	"[-X (exclude)] [-# (comment-out)] [name...]"
