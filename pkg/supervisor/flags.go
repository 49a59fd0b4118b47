// master's command line, read the way Postfix's master reads it.

package supervisor

import (
	"errors"

	"github.com/postern/postern/pkg/getopt"
)

// MasterUsage is master's usage message.
const MasterUsage = "usage: master [-Ddistvw] [-c config_dir]"

// MasterOptions are master's command-line options.
type MasterOptions struct {
	ConfigDir string // -c
	// Debug (-d): stay in the foreground with standard error attached,
	// and echo log lines there.
	Debug bool
	// Foreground (-s, -i): stay in the foreground, as `postfix start-fg`
	// runs master, without echoing the log to standard error.
	Foreground bool
	Test       bool // -t: exit 0 when no master runs, 1 when one does
	Wait       bool // -w: start master in the background and wait for it
	Verbose    int  // -v, repeatable
	DebugPeer  bool // -D: accepted for compatibility; Postern has no debugger hook
}

// ParseMasterArgs reads getopt-style options ("-dv", "-c dir", "-cdir").
// master takes no operands; a bad option or any operand is a usage error.
func ParseMasterArgs(args []string) (MasterOptions, error) {
	var o MasterOptions
	parsed, operands, err := getopt.Parse(args, "c:dDistvw")
	for _, opt := range parsed {
		switch opt.Letter {
		case 'c':
			o.ConfigDir = opt.Arg
		case 'd':
			o.Debug = true
		case 's', 'i':
			o.Foreground = true
		case 't':
			o.Test = true
		case 'w':
			o.Wait = true
		case 'v':
			o.Verbose++
		case 'D':
			o.DebugPeer = true
		}
	}
	if err != nil || len(operands) > 0 {
		return o, errors.New(MasterUsage)
	}
	return o, nil
}

// BackgroundArgs are the arguments `master -w` gives the background
// master: the same options without -w.
func (o MasterOptions) BackgroundArgs() []string {
	var args []string
	if o.ConfigDir != "" {
		args = append(args, "-c", o.ConfigDir)
	}
	for i := 0; i < o.Verbose; i++ {
		args = append(args, "-v")
	}
	if o.DebugPeer {
		args = append(args, "-D")
	}
	return args
}
