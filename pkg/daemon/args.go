// Parsing the daemon command line that master passes, as getopt(3) reads it.

package daemon

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/getopt"
)

// Options is a daemon's command line:
//
//	COMMAND -c CONFIGDIR -n SERVICE -t TYPE [-u] [-r] [-p MAXPROC] [-w WAKEUP]
//	        [-o name=value]... [-v]... [-D] [-S -L ENDPOINT] [OPERANDS...]
type Options struct {
	ConfigDir    string   // -c: configuration directory ("" means $MAIL_CONFIG or /etc/postfix)
	Service      string   // -n: the master.cf service name
	Transport    string   // -t: inet, unix, unix-dgram, fifo or pass
	Unprivileged bool     // -u: master.cf unpriv=y, drop to mail_owner when root
	Chroot       bool     // -r: master.cf chroot=y, chroot into queue_directory when root
	MaxProc      int      // -p: the service's concurrency limit, 0 = unlimited
	Wakeup       int      // -w: master's wakeup interval in seconds, 0 = none
	Overrides    []string // -o: "name=value" parameter overrides, in order
	Verbose      int      // -v: how many times given
	Debug        bool     // -D: master.cf asks for the debugger (not supported; logged)
	StandAlone   bool     // -S: not started by master; listen on -L, no ready pipe
	Listen       string   // -L: the stand-alone endpoint, "unix:PATH" or "inet:HOST:PORT"
	Operands     []string // the words after the options
}

// optstring is the daemon's getopt option string: the letters followed
// by ':' take a value.
const optstring = "c:n:p:t:w:o:L:urvDS"

// ParseArgs parses args (without argv[0]). Options end at "--" or at the
// first word that does not start with "-"; flags may be bundled ("-uv") and
// a value may follow its letter in the same word ("-p5", "-oname=value").
// Errors are worded as Postfix's daemons word them; a bad value of an
// option is reported before a bad option that follows it.
func ParseArgs(args []string) (*Options, error) {
	o := &Options{}
	parsed, operands, parseErr := getopt.Parse(args, optstring)
	for _, opt := range parsed {
		if err := o.set(opt.Letter, opt.Arg); err != nil {
			return nil, err
		}
	}
	if parseErr != nil {
		return nil, daemonWording(parseErr)
	}
	o.Operands = append([]string(nil), operands...)
	return o, nil
}

// daemonWording rewords a getopt complaint as Postfix's daemons word it.
func daemonWording(err error) error {
	var bad *getopt.Error
	if !errors.As(err, &bad) {
		return err
	}
	if bad.MissingArgument {
		return fmt.Errorf("option requires an argument: %c", bad.Letter)
	}
	return fmt.Errorf("invalid option: %c", bad.Letter)
}

// set records one option; value is "" for the flags that take none.
func (o *Options) set(letter byte, value string) error {
	switch letter {
	case 'u':
		o.Unprivileged = true
	case 'r':
		o.Chroot = true
	case 'v':
		o.Verbose++
	case 'D':
		o.Debug = true
	case 'S':
		o.StandAlone = true
	case 'c':
		o.ConfigDir = value
	case 'n':
		o.Service = value
	case 't':
		o.Transport = value
	case 'L':
		o.Listen = value
	case 'p', 'w':
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return fmt.Errorf("bad -%c option value: %s", letter, value)
		}
		if letter == 'p' {
			o.MaxProc = n
		} else {
			o.Wakeup = n
		}
	case 'o':
		override, err := normalizeOverride(value)
		if err != nil {
			return fmt.Errorf("invalid \"-o %s\" option value: %v", value, err)
		}
		o.Overrides = append(o.Overrides, override)
	}
	return nil
}

// normalizeOverride turns an -o value ("name=value", "name = value", or
// "{ name = value }" as written in master.cf) into "name=value".
func normalizeOverride(value string) (string, error) {
	text := strings.TrimSpace(value)
	if strings.HasPrefix(text, "{") {
		if !strings.HasSuffix(text, "}") {
			return "", fmt.Errorf("missing '}'")
		}
		text = text[1 : len(text)-1]
	}
	name, val, err := config.SplitNameValue(text)
	if err != nil {
		return "", err
	}
	return name + "=" + val, nil
}
