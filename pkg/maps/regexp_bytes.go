// regexp_bytes.go holds the byte sets, C-locale character classes and byte-to-rune mapping behind regexp tables.

package maps

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

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
