// options.go reads postconf's command line (getopt-style, via pkg/getopt)
// and rejects the flag combinations postconf refuses.

package main

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/getopt"
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

// optstring is postconf's getopt option string: -c DIR and -o name=value
// take a value, the other letters are flags.
const optstring = "aAbc:defFhHmMno:PtxX#"

func parseOptions(argv []string) (*options, error) {
	parsed, operands, err := getopt.Parse(argv, optstring)
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	o := &options{flags: map[byte]bool{}, args: operands}
	for _, opt := range parsed {
		switch opt.Letter {
		case 'c':
			o.configDir = opt.Arg
		case 'o':
			o.overrides = append(o.overrides, opt.Arg)
		default:
			o.flags[opt.Letter] = true
			if opt.Letter == 'M' || opt.Letter == 'F' || opt.Letter == 'P' {
				o.masterMode = opt.Letter
			}
		}
	}
	return o, o.check()
}

// flagOrder is the order in which postconf names conflicting flags.
const flagOrder = "aAbdeFfhHmMnPtxX#"

// commandFlags select what postconf does; at most one may be given.
const commandFlags = "aAeFmMPX#"

// check rejects the combinations postconf refuses, with its messages.
func (o *options) check() error {
	for _, a := range o.args {
		if strings.Contains(a, "=") && o.masterMode == 0 {
			o.flags['e'] = true
		}
	}
	if o.flags['b'] || o.flags['t'] {
		return o.checkTemplates()
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

// checkTemplates rejects what postconf refuses with -b and -t.
func (o *options) checkTemplates() error {
	if o.flags['b'] && o.flags['t'] {
		return fmt.Errorf("specify one of -b and -t")
	}
	cmd := byte('b')
	if o.flags['t'] {
		cmd = 't'
	}
	if c := o.present(commandFlags); len(c) > 0 && !o.flags['e'] {
		return fmt.Errorf("specify one of %s", strings.Join(o.present(commandFlags+string(cmd)), " "))
	}
	if c := o.present("dfhHnxe"); len(c) > 0 {
		return fmt.Errorf("with option -%c, do not specify %s", cmd, c[0])
	}
	if len(o.overrides) > 0 {
		return fmt.Errorf("with option -%c, do not specify -o", cmd)
	}
	if len(o.args) > 1 {
		return fmt.Errorf("options -b and -t require at most one template file")
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
const usage = "usage: postconf [-a (server SASL types)] [-A (client SASL types)] [-b (bounce templates)] [-c config_dir] " +
	"[-d (parameter defaults)] [-e (edit configuration)] [-f (fold lines)] [-F (master.cf fields)] " +
	"[-h (no names)] [-H (no values)] [-m (map types)] [-M (master.cf)] [-n (non-default parameters)] " +
	"[-o name=value (override parameter value)] [-P (master.cf parameters)] [-t (bounce templates)] [-x (expand parameter values)] " +
	"[-X (exclude)] [-# (comment-out)] [name...]"
