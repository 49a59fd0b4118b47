// What every 4XX and 5XX reply gets: smtpd_reject_footer, and
// soft_bounce turning 5XX into 4XX.

package smtpd

import (
	"strings"
)

// withFooter appends smtpd_reject_footer to an error reply, as Postfix's
// smtp_reply_footer does: each "\n" in the footer starts a new reply line
// with the same code and enhanced status code, "\c" at the start
// continues the last line; $client_address and the like are expanded.
// A footer from smtpd_reject_footer_maps, looked up by the whole reply,
// comes first.
func (s *session) withFooter(reply string) string {
	footer := s.set.RejectFooter
	for _, t := range s.set.RejectFooterMaps {
		v, found, err := t.Lookup(reply)
		if err != nil {
			s.srv.Log.Warning("%s lookup error for \"%s\"", t.Spec(), reply)
			break
		}
		if found {
			footer = v
			break
		}
	}
	if footer == "" || len(reply) < 4 {
		return reply
	}
	lines := strings.Split(reply, "\r\n")
	last := lines[len(lines)-1]
	code := last[:3]
	dsn := ""
	if f := strings.Fields(last[4:]); len(f) > 0 && isEnhancedCode(f[0]) {
		dsn = f[0] + " "
	}
	expanded, ok := s.expandFooter(footer)
	if !ok {
		return reply
	}
	var b strings.Builder
	b.WriteString(reply)
	for i, part := range strings.Split(expanded, `\n`) {
		if i == 0 && strings.HasPrefix(part, `\c`) {
			b.WriteString(part[2:])
			continue
		}
		b.WriteString("\r\n" + code + " " + dsn + part)
	}
	// Every line but the last is a continuation line.
	out := strings.Split(b.String(), "\r\n")
	for i := range out[:len(out)-1] {
		if len(out[i]) > 3 {
			out[i] = out[i][:3] + "-" + out[i][4:]
		}
	}
	return strings.Join(out, "\r\n")
}

// expandFooter expands the session macros of a footer.
func (s *session) expandFooter(footer string) (string, bool) {
	ps := s.syncPolicy()
	var b strings.Builder
	for i := 0; i < len(footer); i++ {
		c := footer[i]
		if c != '$' || i+1 >= len(footer) {
			b.WriteByte(c)
			continue
		}
		rest := footer[i+1:]
		name, skip := "", 0
		switch {
		case rest[0] == '$':
			b.WriteByte('$')
			i++
			continue
		case rest[0] == '{' || rest[0] == '(':
			end := strings.IndexAny(rest, "})")
			if end < 0 {
				return "", false
			}
			name, skip = rest[1:end], end+1
		default:
			n := 0
			for n < len(rest) && (rest[n] == '_' || rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] >= '0' && rest[n] <= '9') {
				n++
			}
			name, skip = rest[:n], n
		}
		v, ok := ps.SessionAttr(name)
		if !ok && s.set.Params != nil {
			v = s.set.Params(name)
		}
		b.WriteString(v)
		i += skip
	}
	return b.String(), true
}

// isEnhancedCode reports whether w looks like X.Y.Z.
func isEnhancedCode(w string) bool {
	parts := strings.Split(w, ".")
	if len(parts) != 3 || (w[0] != '2' && w[0] != '4' && w[0] != '5') {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// softBounce turns each 5XX line (and its 5.X.X code) into 4XX.
func softBounce(reply string) string {
	lines := strings.Split(reply, "\r\n")
	for i, l := range lines {
		if len(l) > 0 && l[0] == '5' {
			b := []byte(l)
			b[0] = '4'
			if len(b) > 4 && b[4] == '5' {
				b[4] = '4'
			}
			lines[i] = string(b)
		}
	}
	return strings.Join(lines, "\r\n")
}
