// Parsing sendmail's command line: the Sendmail options Postfix's sendmail
// accepts, its usage errors and the checks between options and modes.

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
	modeAliases             // -bi, -I or called as newaliases
	modeFlush               // -q
	modeDaemon              // -bd, -bl: start the mail system
	modeIgnore              // -bh, -bH: nothing to do
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
	aliasMap   string // -oA: the alias table newaliases builds
	flushSite  string // -qR
	flushID    string // -qI
	queueTime  bool   // -q with an interval: nothing to do but in daemon mode
	dsnNotify  bool   // a valid -N
	dsnRet     bool   // a valid -R
	recipients []string
}

// optionLetters are the options of Postfix's sendmail, a letter followed by
// ':' taking a value (in the same word or the next). Postern's -c takes the
// configuration directory, as with every Postern command.
const optionLetters = "A:B:C:F:GIL:N:O:R:UV:X:b:c:e:f:h:imno:p:r:q:tvx"

// usageError is a fatal error of the command line: "fatal: TEXT".
type usageError string

func (e usageError) Error() string { return string(e) }

// getopt walks a command line as the C library's getopt does with
// optionLetters and a leading '+': options end at the first word that is
// not one, or after "--". A bad option is reported on diag
// ("sendmail: invalid option -- 'k'") and returned as '?'.
type getopt struct {
	name string
	args []string
	word int // the word being read
	pos  int // the next letter in it; 0 at the start of a word
	diag func(string)
}

// atWordStart returns the word about to be read when no letters of the
// previous one are left, and "" otherwise or at the end.
func (g *getopt) atWordStart() string {
	if g.pos != 0 || g.word >= len(g.args) {
		return ""
	}
	return g.args[g.word]
}

// skipWord passes over the word about to be read.
func (g *getopt) skipWord() { g.word++ }

// next returns the next option letter and its value; ok is false when the
// options end.
func (g *getopt) next() (letter byte, value string, ok bool) {
	if g.pos == 0 {
		if g.word >= len(g.args) {
			return 0, "", false
		}
		w := g.args[g.word]
		if w == "--" {
			g.word++
			return 0, "", false
		}
		if len(w) < 2 || w[0] != '-' {
			return 0, "", false
		}
		g.pos = 1
	}
	w := g.args[g.word]
	letter = w[g.pos]
	g.pos++
	atEnd := g.pos >= len(w)
	i := strings.IndexByte(optionLetters, letter)
	if letter == ':' || i < 0 {
		g.diag(fmt.Sprintf("%s: invalid option -- '%c'", g.name, letter))
		if atEnd {
			g.word, g.pos = g.word+1, 0
		}
		return '?', "", true
	}
	if i+1 >= len(optionLetters) || optionLetters[i+1] != ':' {
		if atEnd {
			g.word, g.pos = g.word+1, 0
		}
		return letter, "", true
	}
	if !atEnd {
		value = w[g.pos:]
		g.word, g.pos = g.word+1, 0
		return letter, value, true
	}
	g.word, g.pos = g.word+1, 0
	if g.word >= len(g.args) {
		g.diag(fmt.Sprintf("%s: option requires an argument -- '%c'", g.name, letter))
		return '?', "", true
	}
	value = g.args[g.word]
	g.word++
	return letter, value, true
}

// configDirOption finds the -C or -c value before main.cf is read, as
// Postfix's sendmail does in a first pass over the options (which reports
// bad options a first time).
func configDirOption(name string, args []string, diag func(string)) string {
	g := &getopt{name: name, args: args, diag: diag}
	dir := ""
	for {
		if g.atWordStart() == "-q" {
			g.skipWord()
			continue
		}
		letter, value, ok := g.next()
		if !ok {
			return dir
		}
		if letter == 'C' || letter == 'c' {
			dir = value
		}
	}
}

// parseArgs parses args (without argv[0]) for the program called name as
// Postfix's sendmail does: options first, then recipients. Bad options
// are reported on diag; warn gets the "warning:" texts; verpFilter is
// verp_delimiter_filter. A usageError is the fatal error to exit with.
func parseArgs(name string, args []string, diag func(string), warn func(string), verpFilter string) (*options, error) {
	o := &options{}
	switch name {
	case "mailq":
		o.mode = modeMailq
	case "newaliases":
		o.mode = modeAliases
	}
	g := &getopt{name: name, args: args, diag: diag}
	for {
		switch w := g.atWordStart(); {
		case w == "-q":
			if o.mode == modeDaemon {
				warn("ignoring -q option in daemon mode")
			} else {
				o.mode = modeFlush
			}
			g.skipWord()
			continue
		case w == "-V" && g.word+1 < len(args) && len(args[g.word+1]) == 2:
			warn("option -V is deprecated with Postfix 2.3; specify -XV instead")
			args[g.word] = "-XV"
		case strings.HasPrefix(w, "-V") && len(w) == 4:
			warn(fmt.Sprintf("option %s is deprecated with Postfix 2.3; specify -X%s instead", w, w[1:]))
			args[g.word] = "-X" + w[1:]
		}
		if g.atWordStart() == "-XV" {
			g.skipWord()
			continue
		}
		letter, value, ok := g.next()
		if !ok {
			break
		}
		if err := o.apply(name, letter, value, warn, verpFilter); err != nil {
			return nil, err
		}
	}
	o.recipients = args[g.word:]
	return o, o.check()
}

// apply records one option.
func (o *options) apply(name string, letter byte, value string, warn func(string), verpFilter string) error {
	switch letter {
	case '?':
		return usageError(fmt.Sprintf("usage: %s [options]", name))
	case 'n':
		return usageError("-n option not supported")
	case 'B':
		if value != "8BITMIME" && value != "7BIT" {
			return usageError("-B option needs 8BITMIME or 7BIT")
		}
	case 'C', 'c':
		o.configDir = value
	case 'F':
		o.fullName = value
	case 'I':
		o.mode = modeAliases
	case 'N':
		if o.dsnNotify = validNotify(value, warn); !o.dsnNotify {
			warn("bad -N option value -- ignored")
		}
	case 'R':
		if o.dsnRet = strings.EqualFold(value, "full") || strings.EqualFold(value, "hdrs"); !o.dsnRet {
			warn("bad -R option value -- ignored")
		}
	case 'V':
		switch {
		case len(value) > 100:
			warn("too long -V option value -- ignored")
		case !allPrintable(value):
			warn("bad syntax in -V option value -- ignored")
		}
	case 'X':
		if value == "" || value[0] != 'V' {
			return usageError("unsupported: -X" + firstByte(value))
		}
		if d := value[1:]; len(d) != 2 || strings.IndexByte(verpFilter, d[0]) < 0 || strings.IndexByte(verpFilter, d[1]) < 0 {
			return usageError("-V requires two characters from " + verpFilter)
		}
	case 'b':
		return o.applyB(value, warn)
	case 'f', 'r':
		o.sender, o.senderSet = value, true
	case 'i':
		o.ignoreDots = true
	case 'o':
		switch firstByte(value) {
		case "A":
			if len(value) == 1 {
				return usageError("-oA requires pathname")
			}
			o.aliasMap = value[1:]
		case "i":
			o.ignoreDots = true
		}
	case 'q':
		return o.applyQ(value)
	case 't':
		o.extract = true
	case 'v':
		o.verbose++
	}
	// A, G, L, O, U, e, h, m, p and x are Sendmail's; they mean nothing here.
	return nil
}

// applyB records a -b mode; only its first letter counts.
func (o *options) applyB(value string, warn func(string)) error {
	switch firstByte(value) {
	case "d", "l":
		if o.mode == modeFlush {
			warn("ignoring -q option in daemon mode")
		}
		o.mode = modeDaemon
	case "h", "H":
		o.mode = modeIgnore
	case "i":
		o.mode = modeAliases
	case "m":
		o.mode = modeSubmit
	case "p":
		o.mode = modeMailq
	case "s":
		o.mode = modeSMTP
	case "v":
		o.verify = true
	default:
		return usageError("unsupported: -b" + firstByte(value))
	}
	return nil
}

// applyQ records -q with a value: an interval, -qRsite or -qIqueueid.
func (o *options) applyQ(value string) error {
	switch c := firstByte(value); {
	case c >= "0" && c <= "9":
		o.queueTime = true
	case c == "R":
		if o.flushSite = value[1:]; o.flushSite == "" {
			return usageError("specify: -qRsitename")
		}
	case c == "I":
		if o.flushID = value[1:]; o.flushID == "" {
			return usageError("specify: -qIqueueid")
		}
	default:
		return usageError(fmt.Sprintf("-q%s is not implemented", c))
	}
	return nil
}

// check refuses options that do not go together, and recipients in a
// mode that takes none, with Postfix's texts.
func (o *options) check() error {
	switch {
	case o.extract && o.mode != modeSubmit:
		return usageError("-t can be used only in delivery mode")
	case o.flushSite != "" && o.mode != modeSubmit:
		return usageError("-qR can be used only in delivery mode")
	case o.flushID != "" && o.mode != modeSubmit:
		return usageError("-qI can be used only in delivery mode")
	}
	if o.verify {
		switch {
		case o.extract:
			return usageError("-t option cannot be used with -bv")
		case o.dsnNotify:
			return usageError("-N option cannot be used with -bv")
		case o.dsnRet:
			return usageError("-R option cannot be used with -bv")
		case o.verbose == 1:
			return usageError("-v option cannot be used with -bv")
		}
	}
	if o.queueTime && o.mode != modeDaemon || len(o.recipients) == 0 {
		return nil
	}
	switch {
	case o.mode == modeSubmit && o.flushSite != "":
		return usageError("flush site requires no recipient")
	case o.mode == modeSubmit && o.flushID != "":
		return usageError("flush queue_id requires no recipient")
	case o.mode == modeMailq:
		return usageError("display queue mode requires no recipient")
	case o.mode == modeFlush:
		return usageError("flush queue mode requires no recipient")
	case o.mode == modeDaemon:
		return usageError("daemon mode requires no recipient")
	case o.mode == modeAliases:
		return usageError("alias initialization mode requires no recipient")
	case o.mode == modeSMTP:
		return usageError("stand-alone mode requires no recipient")
	}
	return nil
}

// validNotify reports whether v is a -N value: NEVER, or a list of
// SUCCESS, FAILURE and DELAY (any case, separated by commas or white
// space). An unknown word is warned about first.
func validNotify(v string, warn func(string)) bool {
	never, other := false, false
	for _, kw := range strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(", \t\r\n", r) }) {
		switch strings.ToUpper(kw) {
		case "NEVER":
			never = true
		case "SUCCESS", "FAILURE", "DELAY":
			other = true
		default:
			warn(fmt.Sprintf("unknown DSN NOTIFY command value \"%s\" in \"%s\"", kw, v))
			return false
		}
	}
	return never != other
}

// allPrintable reports whether v is printable ASCII.
func allPrintable(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < ' ' || v[i] > '~' {
			return false
		}
	}
	return true
}

// firstByte is the first byte of v as a string, "" when v is empty.
func firstByte(v string) string {
	if v == "" {
		return ""
	}
	return v[:1]
}
