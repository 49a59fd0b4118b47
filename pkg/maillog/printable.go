// Making log text safe: no control character or broken UTF-8 from the network reaches a log line raw.

package maillog

import (
	"strings"
	"unicode/utf8"
)

// Printable replaces control characters (CR, LF, NUL, ESC, TAB, DEL ...)
// and bytes that are not valid UTF-8 with '?', as Postfix's msg_output
// does with every line it logs, so that a client cannot forge a log
// line or send escape sequences to a terminal.
func Printable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size <= 1, r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
			b.WriteByte('?')
		default:
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}
