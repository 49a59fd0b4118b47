// Parsing sendmail's command line, with the Sendmail options Postfix accepts.

package main

import (
	"fmt"
	"strings"
)

// mode is what the command was asked to do.
type mode int

const (
	modeSubmit  mode = iota // -bm (the default): read a message and queue it
	modeSMTP                // -bs: SMTP on standard input and output
	modeMailq               // -bp or called as mailq
	modeAliases             // -bi or called as newaliases
	modeFlush               // -q
)

// options is the parsed command line.
type options struct {
	mode       mode
	configDir  string // -C (file or directory) or -c
	sender     string // -f or -r
	senderSet  bool
	fullName   string // -F
	extract    bool   // -t
	ignoreDots bool   // -i, -oi
	verbose    int    // -v
	verify     bool   // -bv: report on the recipients, deliver nothing
	recipients []string
}

// valueOptions take a value, in the same word or the next.
const valueOptions = "BCFLNRVXcfhr"

// parseArgs parses args (without argv[0]) as Postfix's sendmail does:
// options first, then recipients; "--" ends the options. Errors are
// usage errors.
func parseArgs(args []string) (*options, error) {
	o := &options{}
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
		letter := arg[1]
		value := arg[2:]
		if strings.IndexByte(valueOptions, letter) >= 0 && value == "" {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("option requires an argument -- '%c'", letter)
			}
			i++
			value = args[i]
		}
		if err := o.apply(letter, value); err != nil {
			return nil, err
		}
	}
	o.recipients = args[i:]
	return o, nil
}

// apply records one option.
func (o *options) apply(letter byte, value string) error {
	switch letter {
	case 'b':
		switch value {
		case "m", "":
			o.mode = modeSubmit
		case "s":
			o.mode = modeSMTP
		case "p":
			o.mode = modeMailq
		case "i":
			o.mode = modeAliases
		case "v":
			o.mode, o.verify = modeSubmit, true
		default:
			return fmt.Errorf("unsupported: -b%s", value)
		}
	case 'C', 'c':
		o.configDir = value
	case 'f', 'r':
		o.sender, o.senderSet = value, true
	case 'F':
		o.fullName = value
	case 't':
		o.extract = true
	case 'i':
		o.ignoreDots = true
	case 'o':
		// -oi is -i; Sendmail's other -o options mean nothing here.
		if value == "i" {
			o.ignoreDots = true
		}
	case 'q':
		// -q flushes; -qR, -qS and -q<interval> are accepted and ignored
		// as by Postfix, which has no queue-run options.
		if value == "" {
			o.mode = modeFlush
		}
	case 'v':
		o.verbose++
	case 'B', 'L', 'N', 'R', 'V', 'X', 'h', 'U', 'm', 'n', 'e', 'd', 'A', 'G':
		// Sendmail options Postfix accepts and ignores.
	default:
		return fmt.Errorf("invalid option -- '%c'", letter)
	}
	return nil
}
