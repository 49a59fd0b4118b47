// Quoting of local parts between the internal and the external form, as
// Postfix's quote_822_local does.

package addr

import "strings"

// rfc822Specials are the characters that cannot appear unquoted in a local
// part. The dot is handled separately: it is fine between atoms.
const rfc822Specials = "()<>@,;:\\\".[]"

// NeedsQuoting reports whether a local part in internal form must be
// quoted in the external form: it is empty, contains a special, a space or
// a control character, or has a leading, trailing or doubled dot. 8-bit
// bytes do not need quoting (SMTPUTF8).
func NeedsQuoting(local string) bool {
	if local == "" {
		return true
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c == '.':
			if i == 0 || i == len(local)-1 || local[i-1] == '.' {
				return true
			}
		case c <= ' ' || c == 0x7f:
			return true
		case strings.IndexByte(rfc822Specials, c) >= 0:
			return true
		}
	}
	return false
}

// QuoteLocal returns the external form of a local part: unchanged when it
// is a dot-atom, else the whole part in double quotes with '"' and '\'
// escaped by a backslash.
func QuoteLocal(local string) string {
	if !NeedsQuoting(local) {
		return local
	}
	var b strings.Builder
	b.Grow(len(local) + 2)
	b.WriteByte('"')
	for i := 0; i < len(local); i++ {
		if c := local[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(local[i])
	}
	b.WriteByte('"')
	return b.String()
}
