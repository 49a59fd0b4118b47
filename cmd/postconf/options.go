// options.go parses postconf's command line the way getopt does: bundled
// flags (-nx, -dh), -c DIR and -o name=value with their argument attached
// or separate, options ending at the first operand or "--".
package main

import (
	"fmt"
	"strings"
)

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
						return nil, fmt.Errorf("option requires an argument -- '%c'", f)
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
				return nil, fmt.Errorf("invalid option -- '%c'", f)
			}
			o.flags[f] = true
			if f == 'M' || f == 'F' || f == 'P' {
				if o.masterMode != 0 && o.masterMode != f {
					return nil, fmt.Errorf("specify one of -M, -F and -P")
				}
				o.masterMode = f
			}
		}
	}
	o.args = argv[i:]
	return o, o.check()
}

// check rejects combinations postconf refuses.
func (o *options) check() error {
	if o.flags['d'] && o.flags['n'] {
		return fmt.Errorf("specify one of -d -n")
	}
	if o.flags['h'] && o.flags['H'] {
		return fmt.Errorf("specify one of -h -H")
	}
	edit := o.flags['e']
	for _, a := range o.args {
		if strings.Contains(a, "=") && o.masterMode == 0 {
			edit = true
		}
	}
	o.flags['e'] = edit
	var modes []string
	for _, f := range []byte("eX#") {
		if o.flags[f] {
			modes = append(modes, "-"+string(f))
		}
	}
	if len(modes) > 1 {
		return fmt.Errorf("specify one of %s", strings.Join(modes, " "))
	}
	return nil
}
