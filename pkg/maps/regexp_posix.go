// regexp_posix.go translates POSIX (glibc) regular expressions, as regexp_table(5) reads them, into Go regexp syntax.

package maps

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// The dialect is glibc's regcomp() in the C locale, as Postfix 3.7 on
// Linux uses it, checked against the real library:
//
//   - ERE by default, BRE (\( \) \{ \} \| \+ \?) with the x flag; bracket
//     expressions with [:class:], [.c.] and [=c=]; ranges by byte value
//     (compared in upper case under REG_ICASE, as glibc does); \w \W \s
//     \S \b \B \` \'; matching is byte by byte, never UTF-8 aware.
//   - Any other escaped character is literal: \d is "d", not a digit.
//     Like glibc, with case folding on (the default) an escaped lower-case
//     letter such as \d matches nothing at all.
//   - Perl syntax is not POSIX and fails as in glibc: (?=, (?!, (?<=, (?:,
//     (?>, and a+ followed by + or ? are plain POSIX (stacked repetition).
//   - Refused because Go's RE2 engine cannot run them, with a warning
//     that skips the rule: back-references \1-\9, the word-edge operators
//     \< and \>, repetition counts above 1000, and groups nested more
//     than a few hundred deep ("Regular expression too big").
//   - Matching is leftmost-longest like POSIX, but the positions of $n
//     can differ from glibc's for groups that match the empty string or
//     are repeated around empty matches.

// posixFlags are the regcomp() options a regexp table rule selects.
type posixFlags struct {
	extended bool // ERE (REG_EXTENDED); false means BRE
	icase    bool // REG_ICASE
	newline  bool // REG_NEWLINE: '.' and [^...] skip '\n', ^ and $ match at line ends
}

// glibc's regerror() texts, used so that warnings read as Postfix's do.
var (
	errPrecedingRE    = errors.New("Invalid preceding regular expression")
	errUnmatchedParn  = errors.New(`Unmatched ( or \(`)
	errUnmatchedBrkt  = errors.New("Unmatched [, [^, [:, [., or [=")
	errUnmatchedBrace = errors.New(`Unmatched \{`)
	errBadBrace       = errors.New(`Invalid content of \{\}`)
	errRangeEnd       = errors.New("Invalid range end")
	errClassName      = errors.New("Invalid character class name")
	errCollation      = errors.New("Invalid collation character")
	errTrailingBS     = errors.New("Trailing backslash")
	errTooBig         = errors.New("Regular expression too big")
	errBadPattern     = errors.New("Invalid regular expression")
)

// posixDupMax is glibc's RE_DUP_MAX; goRepeatMax is the largest count Go's
// regexp accepts in x{n,m}.
const (
	posixDupMax = 0x7fff
	goRepeatMax = 1000
)

// maxGroupDepth bounds group nesting, as Go's regexp parser does, so that
// a hostile pattern cannot recurse without limit.
const maxGroupDepth = 1000

// compilePOSIX compiles a POSIX pattern. The result matches keys that were
// passed through bytesAsRunes, so that matching is byte-wise as in the C
// locale Postfix runs in. It also returns the number of capture groups.
func compilePOSIX(pattern string, fl posixFlags) (*regexp.Regexp, int, error) {
	p := &posixParser{src: pattern, fl: fl}
	var out strings.Builder
	if fl.newline {
		out.WriteString("(?m)")
	}
	out.WriteString("(?:")
	if err := p.parseAlternation(&out, 0); err != nil {
		return nil, 0, err
	}
	out.WriteString(")")
	re, err := regexp.Compile(out.String())
	if err != nil {
		return nil, 0, errTooBig
	}
	re.Longest()
	return re, p.groups, nil
}

// posixParser walks one pattern; pos indexes src.
type posixParser struct {
	src    string
	pos    int
	fl     posixFlags
	groups int
}

func (p *posixParser) eof() bool { return p.pos >= len(p.src) }

// atBRECloser reports whether the BRE text at pos ends a branch (\) or \|).
func (p *posixParser) atBRECloser() bool {
	return strings.HasPrefix(p.src[p.pos:], `\)`) || strings.HasPrefix(p.src[p.pos:], `\|`)
}

// parseAlternation parses branches separated by | (ERE) or \| (BRE) until
// the end of the pattern or the close of the group at depth.
func (p *posixParser) parseAlternation(out *strings.Builder, depth int) error {
	for {
		if err := p.parseBranch(out, depth); err != nil {
			return err
		}
		switch {
		case p.fl.extended && !p.eof() && p.src[p.pos] == '|':
			p.pos++
		case !p.fl.extended && strings.HasPrefix(p.src[p.pos:], `\|`):
			p.pos += 2
		default:
			return nil
		}
		out.WriteString("|")
	}
}

// parseBranch parses a sequence of pieces.
func (p *posixParser) parseBranch(out *strings.Builder, depth int) error {
	branchStart := true
	afterAnchor := false
	for !p.eof() {
		c := p.src[p.pos]
		if p.fl.extended {
			if c == '|' || (c == ')' && depth > 0) {
				return nil
			}
		} else if p.atBRECloser() {
			if p.src[p.pos+1] == ')' && depth == 0 {
				return errUnmatchedParn
			}
			return nil
		}
		atom, repeatable, err := p.parseAtom(depth, branchStart, afterAnchor)
		if err != nil {
			return err
		}
		afterAnchor = !repeatable
		atom, err = p.parseRepetitions(atom, repeatable)
		if err != nil {
			return err
		}
		out.WriteString(atom)
		branchStart = false
	}
	return nil
}

// isRepetition reports whether a repetition operator starts at pos.
func (p *posixParser) isRepetition() bool {
	if p.eof() {
		return false
	}
	rest := p.src[p.pos:]
	if p.fl.extended {
		return strings.ContainsRune("*+?{", rune(rest[0]))
	}
	return rest[0] == '*' || strings.HasPrefix(rest, `\{`) ||
		strings.HasPrefix(rest, `\+`) || strings.HasPrefix(rest, `\?`)
}

// parseRepetitions applies any repetition operators that follow an atom.
// Stacked operators (a**, a+?) repeat the repeated atom, as in POSIX.
func (p *posixParser) parseRepetitions(atom string, repeatable bool) (string, error) {
	if !repeatable && !p.fl.extended {
		return atom, nil // the operator is a literal (see parseBREAtom)
	}
	repeated := false
	for p.isRepetition() {
		if !repeatable || (repeated && !p.fl.extended && !p.atBREPlusOrQuestion()) {
			return "", errPrecedingRE
		}
		op, err := p.parseRepetitionOp()
		if err != nil {
			return "", err
		}
		if repeated {
			atom = "(?:" + atom + ")"
		}
		atom += op
		repeated = true
	}
	return atom, nil
}

// atBREPlusOrQuestion reports whether \+ or \? starts at pos: unlike '*'
// and \{, glibc lets these follow another repetition in a BRE.
func (p *posixParser) atBREPlusOrQuestion() bool {
	return strings.HasPrefix(p.src[p.pos:], `\+`) || strings.HasPrefix(p.src[p.pos:], `\?`)
}

// parseRepetitionOp consumes one operator and returns its Go form.
func (p *posixParser) parseRepetitionOp() (string, error) {
	c := p.src[p.pos]
	if c == '\\' {
		p.pos++
		c = p.src[p.pos]
	}
	p.pos++
	switch c {
	case '*', '+', '?':
		return string(c), nil
	}
	return p.parseInterval()
}

// intervalToken is what ended a number inside an interval.
type intervalToken int

const (
	intervalClose intervalToken = iota // } (ERE) or \} (BRE)
	intervalComma
	intervalEnd // the pattern ended
)

// readIntervalNumber reads up to the next close, comma or end of pattern,
// as glibc does: -1 when there were no digits, -2 when anything but
// digits came before the stop, else the number (capped past posixDupMax).
func (p *posixParser) readIntervalNumber() (int, intervalToken) {
	n := -1
	for {
		if p.eof() {
			return -2, intervalEnd
		}
		c := p.src[p.pos]
		switch {
		case p.fl.extended && c == '}':
			p.pos++
			return n, intervalClose
		case !p.fl.extended && strings.HasPrefix(p.src[p.pos:], `\}`):
			p.pos += 2
			return n, intervalClose
		case c == ',':
			p.pos++
			return n, intervalComma
		case c == '\\' && p.pos+1 < len(p.src):
			// An escaped comma still separates; any other escape is bad.
			p.pos += 2
			if p.src[p.pos-1] == ',' {
				return n, intervalComma
			}
			n = -2
		case c >= '0' && c <= '9' && n != -2:
			p.pos++
			n = min(max(n, 0)*10+int(c-'0'), posixDupMax+1)
		default:
			p.pos++
			n = -2
		}
	}
}

// parseInterval parses the body of {n}, {n,}, {,m} or {n,m} after the
// opening brace, with glibc's error for each malformed form.
func (p *posixParser) parseInterval() (string, error) {
	low, tok := p.readIntervalNumber()
	if low == -1 {
		if tok != intervalComma {
			return "", errBadBrace
		}
		low = 0
	}
	high := low
	if low != -2 {
		switch tok {
		case intervalComma:
			high, tok = p.readIntervalNumber()
			if tok == intervalComma {
				return "", errBadBrace
			}
		case intervalEnd:
			high = -2
		}
	}
	if low == -2 || high == -2 {
		if tok == intervalEnd {
			return "", errUnmatchedBrace
		}
		return "", errBadBrace
	}
	if high != -1 && low > high {
		return "", errBadBrace
	}
	if low > posixDupMax || high > posixDupMax {
		return "", errTooBig
	}
	if low > goRepeatMax || high > goRepeatMax {
		return "", fmt.Errorf("repetition count above %d is not supported by Postern", goRepeatMax)
	}
	if high == -1 {
		return fmt.Sprintf("{%d,}", low), nil
	}
	return fmt.Sprintf("{%d,%d}", low, high), nil
}

// parseAtom parses one atom and says whether a repetition may follow it.
// afterAnchor tells that the previous atom was an anchor such as ^ or \b.
func (p *posixParser) parseAtom(depth int, branchStart, afterAnchor bool) (string, bool, error) {
	c := p.src[p.pos]
	if !p.fl.extended {
		return p.parseBREAtom(depth, branchStart, afterAnchor)
	}
	switch c {
	case '(':
		p.pos++
		return p.parseGroup(depth, ")")
	case '*', '+', '?', '{':
		return "", false, errPrecedingRE
	case '^':
		p.pos++
		return "^", false, nil
	case '$':
		p.pos++
		return "$", false, nil
	case '.':
		p.pos++
		return p.anyByte(), true, nil
	case '[':
		p.pos++
		return p.parseBracket()
	case '\\':
		return p.parseEscape()
	}
	p.pos++
	return p.literal(c), true, nil
}

// parseBREAtom parses an atom of a basic regular expression. In a BRE,
// *, \+ and \? at the start of a branch or after an anchor are literal.
func (p *posixParser) parseBREAtom(depth int, branchStart, afterAnchor bool) (string, bool, error) {
	c := p.src[p.pos]
	rest := p.src[p.pos:]
	switch {
	case strings.HasPrefix(rest, `\(`):
		p.pos += 2
		return p.parseGroup(depth, `\)`)
	case strings.HasPrefix(rest, `\{`):
		return "", false, errPrecedingRE
	case c == '*' && (branchStart || afterAnchor):
		p.pos++
		return p.literal(c), true, nil
	case (strings.HasPrefix(rest, `\+`) || strings.HasPrefix(rest, `\?`)) && (branchStart || afterAnchor):
		p.pos += 2
		return p.literal(rest[1]), true, nil
	case c == '^' && branchStart:
		p.pos++
		return "^", false, nil
	case c == '$' && (p.pos+1 == len(p.src) || strings.HasPrefix(p.src[p.pos+1:], `\)`) || strings.HasPrefix(p.src[p.pos+1:], `\|`)):
		p.pos++
		return "$", false, nil
	case c == '.':
		p.pos++
		return p.anyByte(), true, nil
	case c == '[':
		p.pos++
		return p.parseBracket()
	case c == '\\':
		return p.parseEscape()
	}
	p.pos++
	return p.literal(c), true, nil
}

// parseGroup parses a capture group after its opening token.
func (p *posixParser) parseGroup(depth int, closer string) (string, bool, error) {
	if depth >= maxGroupDepth {
		return "", false, errTooBig
	}
	p.groups++
	var inner strings.Builder
	if err := p.parseAlternation(&inner, depth+1); err != nil {
		return "", false, err
	}
	if !strings.HasPrefix(p.src[p.pos:], closer) {
		return "", false, errUnmatchedParn
	}
	p.pos += len(closer)
	return "(" + inner.String() + ")", true, nil
}

// parseEscape parses a backslash sequence that is not a BRE operator.
func (p *posixParser) parseEscape() (string, bool, error) {
	p.pos++
	if p.eof() {
		return "", false, errTrailingBS
	}
	c := p.src[p.pos]
	p.pos++
	switch c {
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "", false, fmt.Errorf(`back-reference "\%c" is not supported by Postern`, c)
	case '<', '>':
		return "", false, fmt.Errorf(`word-boundary operator "\%c" is not supported by Postern; use "\b"`, c)
	case 'w':
		return byteSetClass(p.foldSet(wordBytes())), true, nil
	case 'W':
		return byteSetClass(p.foldSet(wordBytes()).complement()), true, nil
	case 's':
		return byteSetClass(classBytes("space")), true, nil
	case 'S':
		return byteSetClass(classBytes("space").complement()), true, nil
	case 'b':
		return `\b`, false, nil
	case 'B':
		return `\B`, false, nil
	case '`':
		return `\A`, false, nil
	case '\'':
		return `\z`, false, nil
	}
	if p.fl.icase && c >= 'a' && c <= 'z' {
		// glibc with REG_ICASE: an escaped ordinary lower-case letter
		// (\d, \q, ...) matches nothing.
		return byteSetClass(byteSet{}), true, nil
	}
	return p.literal(c), true, nil
}

// anyByte is '.', which skips newline only under REG_NEWLINE.
func (p *posixParser) anyByte() string {
	var s byteSet
	s = s.complement()
	if p.fl.newline {
		s.remove('\n')
	}
	return byteSetClass(s)
}

// literal matches one byte, in either case under REG_ICASE.
func (p *posixParser) literal(c byte) string {
	var s byteSet
	s.add(c)
	return byteSetClass(p.foldSet(s))
}

// foldSet adds the other case of each ASCII letter under REG_ICASE.
func (p *posixParser) foldSet(s byteSet) byteSet {
	if !p.fl.icase {
		return s
	}
	for c := 'a'; c <= 'z'; c++ {
		upper := byte(c - 'a' + 'A')
		if s.has(byte(c)) || s.has(upper) {
			s.add(byte(c))
			s.add(upper)
		}
	}
	return s
}
