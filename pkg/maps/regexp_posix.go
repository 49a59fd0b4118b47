// regexp_posix.go translates POSIX (glibc) regular expressions, as regexp_table(5) reads them, into Go regexp syntax.
package maps

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

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
	errUnmatchedRParn = errors.New(`Unmatched ) or \)`)
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
	for !p.eof() {
		c := p.src[p.pos]
		if p.fl.extended {
			if c == '|' || (c == ')' && depth > 0) {
				return nil
			}
		} else if p.atBRECloser() {
			if p.src[p.pos+1] == ')' && depth == 0 {
				return errUnmatchedRParn
			}
			return nil
		}
		atom, repeatable, err := p.parseAtom(depth, branchStart)
		if err != nil {
			return err
		}
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
			p.pos += 2
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
func (p *posixParser) parseAtom(depth int, branchStart bool) (string, bool, error) {
	c := p.src[p.pos]
	if !p.fl.extended {
		return p.parseBREAtom(depth, branchStart)
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

// parseBREAtom parses an atom of a basic regular expression.
func (p *posixParser) parseBREAtom(depth int, branchStart bool) (string, bool, error) {
	c := p.src[p.pos]
	rest := p.src[p.pos:]
	switch {
	case strings.HasPrefix(rest, `\(`):
		p.pos += 2
		return p.parseGroup(depth, `\)`)
	case strings.HasPrefix(rest, `\{`):
		return "", false, errPrecedingRE
	case c == '*' && branchStart:
		p.pos++
		return p.literal(c), true, nil
	case c == '^' && branchStart:
		p.pos++
		// A '*' right after a leading anchor is literal in a BRE.
		if !p.eof() && p.src[p.pos] == '*' {
			p.pos++
			return "^" + p.literal('*'), true, nil
		}
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

// parseBracket parses a bracket expression after its '['.
func (p *posixParser) parseBracket() (string, bool, error) {
	var s byteSet
	negate := false
	if !p.eof() && p.src[p.pos] == '^' {
		negate = true
		p.pos++
	}
	if p.eof() {
		return "", false, errBadPattern
	}
	first := true
	for {
		if p.eof() {
			return "", false, errUnmatchedBrkt
		}
		if p.src[p.pos] == ']' && !first {
			p.pos++
			break
		}
		first = false
		low, isClass, err := p.parseBracketElement(&s)
		if err != nil {
			return "", false, err
		}
		if isClass {
			if strings.HasPrefix(p.src[p.pos:], "-") && !strings.HasPrefix(p.src[p.pos:], "-]") {
				return "", false, errRangeEnd
			}
			continue
		}
		if !strings.HasPrefix(p.src[p.pos:], "-") || strings.HasPrefix(p.src[p.pos:], "-]") {
			s.add(low)
			continue
		}
		p.pos++ // the '-'
		high, highIsClass, err := p.parseBracketElement(nil)
		if err != nil {
			return "", false, err
		}
		if highIsClass || high < low {
			return "", false, errRangeEnd
		}
		for c := int(low); c <= int(high); c++ {
			s.add(byte(c))
		}
	}
	s = p.foldSet(s)
	if negate {
		s = s.complement()
		if p.fl.newline {
			s.remove('\n')
		}
	}
	return byteSetClass(s), true, nil
}

// parseBracketElement parses a single byte, [.c.], [=c=] or, when into is
// not nil, a [:class:] whose bytes are added to into (isClass true).
func (p *posixParser) parseBracketElement(into *byteSet) (c byte, isClass bool, err error) {
	rest := p.src[p.pos:]
	if len(rest) >= 2 && rest[0] == '[' && strings.ContainsRune(":.=", rune(rest[1])) {
		kind := rest[1]
		end := strings.Index(rest[2:], string(kind)+"]")
		if end < 0 {
			return 0, false, errUnmatchedBrkt
		}
		name := rest[2 : 2+end]
		p.pos += 2 + end + 2
		if kind == ':' {
			if into == nil {
				return 0, true, nil
			}
			set, ok := namedClass(name)
			if !ok {
				return 0, false, errClassName
			}
			*into = into.union(set)
			return 0, true, nil
		}
		if len(name) != 1 {
			return 0, false, errCollation
		}
		return name[0], false, nil
	}
	p.pos++
	return rest[0], false, nil
}

// byteSet is a set of byte values.
type byteSet [4]uint64

func (s *byteSet) add(c byte)         { s[c/64] |= 1 << (c % 64) }
func (s *byteSet) remove(c byte)      { s[c/64] &^= 1 << (c % 64) }
func (s byteSet) has(c byte) bool     { return s[c/64]&(1<<(c%64)) != 0 }
func (s byteSet) complement() byteSet { return byteSet{^s[0], ^s[1], ^s[2], ^s[3]} }
func (s byteSet) union(t byteSet) byteSet {
	return byteSet{s[0] | t[0], s[1] | t[1], s[2] | t[2], s[3] | t[3]}
}

// byteSetClass writes a set as a Go character class over runes 0-255.
func byteSetClass(s byteSet) string {
	var b strings.Builder
	b.WriteString("[")
	empty := true
	for c := 0; c < 256; {
		if !s.has(byte(c)) {
			c++
			continue
		}
		start := c
		for c < 256 && s.has(byte(c)) {
			c++
		}
		fmt.Fprintf(&b, `\x{%x}-\x{%x}`, start, c-1)
		empty = false
	}
	if empty {
		return `[^\x00-\x{10FFFF}]`
	}
	b.WriteString("]")
	return b.String()
}

// wordBytes is the C locale's \w: letters, digits and underscore.
func wordBytes() byteSet {
	s := classBytes("alnum")
	s.add('_')
	return s
}

// classBytes returns a [:name:] class that is known to exist.
func classBytes(name string) byteSet {
	s, _ := namedClass(name)
	return s
}

// namedClass returns the bytes of a POSIX class in the C locale.
func namedClass(name string) (byteSet, bool) {
	var s byteSet
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	isLower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	test := map[string]func(c byte) bool{
		"alpha":  func(c byte) bool { return isUpper(c) || isLower(c) },
		"upper":  isUpper,
		"lower":  isLower,
		"digit":  isDigit,
		"xdigit": func(c byte) bool { return isDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f' },
		"alnum":  func(c byte) bool { return isUpper(c) || isLower(c) || isDigit(c) },
		"space":  func(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' },
		"blank":  func(c byte) bool { return c == ' ' || c == '\t' },
		"punct":  func(c byte) bool { return c > ' ' && c < 0x7f && !isUpper(c) && !isLower(c) && !isDigit(c) },
		"print":  func(c byte) bool { return c >= ' ' && c < 0x7f },
		"graph":  func(c byte) bool { return c > ' ' && c < 0x7f },
		"cntrl":  func(c byte) bool { return c < ' ' || c == 0x7f },
	}[name]
	if test == nil {
		return s, false
	}
	for c := 0; c < 256; c++ {
		if test(byte(c)) {
			s.add(byte(c))
		}
	}
	return s, true
}

// bytesAsRunes maps each byte of s to the rune of the same value, so that a
// translated pattern matches byte by byte. ASCII strings are returned as is.
func bytesAsRunes(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// runesAsBytes undoes bytesAsRunes for a substring of its result.
func runesAsBytes(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}
