// regexp_bracket.go parses POSIX bracket expressions ([a-z], [^]x], [[:alpha:]]) with glibc's rules and errors.

package maps

import "strings"

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
	for first := true; ; first = false {
		if p.eof() {
			return "", false, errUnmatchedBrkt
		}
		if p.src[p.pos] == ']' && !first {
			p.pos++
			break
		}
		start, err := p.parseBracketElement(first, false)
		if err != nil {
			return "", false, err
		}
		if start.endpoint && p.eof() {
			return "", false, errUnmatchedBrkt
		}
		// A class cannot start a range: its '-' is taken as the next
		// element, which must then be the last.
		if !start.endpoint || !p.atRangeDash() {
			if start.badCollation {
				return "", false, errCollation
			}
			s = s.union(start.set)
			continue
		}
		p.pos++ // the '-'
		end, err := p.parseBracketElement(false, true)
		if err != nil {
			return "", false, err
		}
		if start.badCollation || end.badCollation {
			return "", false, errCollation
		}
		low, high := start.char, end.char
		if p.fl.icase {
			// glibc compares REG_ICASE ranges in upper case.
			low, high = asciiUpper(low), asciiUpper(high)
		}
		if high < low {
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

// atRangeDash reports whether a '-' that makes a range starts at pos:
// one followed by ']' is a literal instead.
func (p *posixParser) atRangeDash() bool {
	return strings.HasPrefix(p.src[p.pos:], "-") && !strings.HasPrefix(p.src[p.pos:], "-]")
}

// bracketElement is one item of a bracket expression. Only a plain byte
// or a collating symbol [.c.] may be an end of a range (endpoint). A
// collating symbol of more than one byte (badCollation) is an error, but
// glibc reports it only after looking at what follows.
type bracketElement struct {
	set          byteSet
	char         byte
	endpoint     bool
	badCollation bool
}

// parseBracketElement parses a byte, [.c.], [=c=] or [:class:]. A '-'
// that neither starts the list (first) nor ends a range (rangeEnd) must
// come right before the closing ']'; a class cannot end a range.
func (p *posixParser) parseBracketElement(first, rangeEnd bool) (bracketElement, error) {
	var el bracketElement
	rest := p.src[p.pos:]
	if rest == "" {
		return el, errUnmatchedBrkt
	}
	if len(rest) >= 2 && rest[0] == '[' && strings.ContainsRune(":.=", rune(rest[1])) {
		kind := rest[1]
		end := strings.Index(rest[2:], string(kind)+"]")
		if end < 0 {
			return el, errUnmatchedBrkt
		}
		if rangeEnd && kind != '.' {
			return el, errRangeEnd
		}
		name := rest[2 : 2+end]
		p.pos += 2 + end + 2
		if kind == ':' {
			set, ok := namedClass(name)
			if !ok {
				return el, errClassName
			}
			el.set = set
			return el, nil
		}
		if kind == '.' {
			el.endpoint = true
			el.badCollation = len(name) != 1
		} else if len(name) != 1 {
			return el, errCollation
		}
		if len(name) > 0 {
			el.char = name[0]
			el.set.add(el.char)
		}
		return el, nil
	}
	if rest[0] == '-' && !first && !rangeEnd && !strings.HasPrefix(rest, "-]") {
		return el, errRangeEnd
	}
	p.pos++
	el.char = rest[0]
	el.set.add(el.char)
	el.endpoint = true
	return el, nil
}

func asciiUpper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
