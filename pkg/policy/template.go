// Reply templates (default_rbl_reply, rbl_reply_maps, smtpd_reject_footer):
// $name, ${name}, $(name), ${name?text}, ${name:text} and $$, expanded
// with the session's attributes and, for other names, main.cf parameters.
// Values are inserted as they are, never expanded again, so text from
// DNS or clients cannot inject macros.

package policy

import (
	"fmt"
	"strings"
)

// expandTemplate expands t with lookup; a name lookup does not know is
// empty. It fails on unbalanced braces or a "$" without a name.
func expandTemplate(t string, lookup func(name string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] != '$' {
			b.WriteByte(t[i])
			continue
		}
		i++
		if i >= len(t) {
			return "", fmt.Errorf("trailing $ in %q", t)
		}
		switch t[i] {
		case '$':
			b.WriteByte('$')
		case '{', '(':
			closer := byte('}')
			if t[i] == '(' {
				closer = ')'
			}
			end := matchBrace(t, i, t[i], closer)
			if end < 0 {
				return "", fmt.Errorf("unbalanced %c in %q", t[i], t)
			}
			inner := t[i+1 : end]
			i = end
			name, rest := inner, ""
			op := byte(0)
			if k := strings.IndexAny(inner, "?:"); k >= 0 {
				name, op, rest = inner[:k], inner[k], inner[k+1:]
			}
			value, _ := lookup(name)
			switch op {
			case 0:
				b.WriteString(value)
			case '?', ':':
				if (op == '?') == (value != "") {
					expanded, err := expandTemplate(rest, lookup)
					if err != nil {
						return "", err
					}
					b.WriteString(expanded)
				} else if op == ':' {
					b.WriteString(value)
				}
			}
		default:
			j := i
			for j < len(t) && isNameByte(t[j]) {
				j++
			}
			if j == i {
				return "", fmt.Errorf("bad $ in %q", t)
			}
			value, _ := lookup(t[i:j])
			b.WriteString(value)
			i = j - 1
		}
	}
	return b.String(), nil
}

// matchBrace returns the index of the closer matching t[open].
func matchBrace(t string, open int, opener, closer byte) int {
	depth := 0
	for i := open; i < len(t); i++ {
		switch t[i] {
		case opener:
			depth++
		case closer:
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// SessionAttr returns a session attribute by its smtpd macro name
// (client_address, client_name, helo_name, ...), for reply templates.
func (s *Session) SessionAttr(name string) (string, bool) {
	switch name {
	case "client_address":
		return s.ClientAddr, true
	case "client_name":
		return s.clientName(), true
	case "client_port":
		return s.ClientPort, true
	case "reverse_client_name":
		return s.reverseName(), true
	case "helo_name":
		return s.Helo, true
	case "server_address":
		return s.ServerAddr, true
	case "server_port":
		return s.ServerPort, true
	case "sasl_method":
		return s.SASLMethod, true
	case "sasl_username":
		return s.SASLUser, true
	case "sasl_sender":
		return s.SASLSender, true
	}
	return "", false
}
