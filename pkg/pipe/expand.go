// Expanding the argv= words: $name, ${name}, ${name?text} and
// ${name:text} with pipe(8)'s macros; a word that names a recipient macro
// becomes one word per recipient.

package pipe

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
)

// recipientMacros depend on the recipient.
var recipientMacros = map[string]bool{
	"recipient": true, "original_recipient": true, "user": true,
	"extension": true, "mailbox": true, "domain": true,
}

// messageMacros are the names of the macros that do not.
var messageMacros = []string{
	"sender", "nexthop", "size", "queue_id", "envid", "client_address", "client_helo",
	"client_hostname", "client_port", "client_protocol", "sasl_method", "sasl_sender", "sasl_username",
}

// Recipient is one recipient of a delivery as the macros see it.
type Recipient struct {
	Address, Original string
}

// recipientValues are the recipient macros of r under flags.
func recipientValues(r Recipient, flags Flags, extensions addr.Extensions) map[string]string {
	fold := func(a string) string {
		local, domain := a, ""
		if i := strings.LastIndexByte(a, '@'); i >= 0 {
			local, domain = a[:i], a[i+1:]
		}
		if flags.FoldUser {
			local = strings.ToLower(local)
		}
		if flags.FoldHost {
			domain = strings.ToLower(domain)
		}
		return local + "@" + domain
	}
	rcpt := fold(r.Address)
	orig := r.Original
	if orig == "" {
		orig = r.Address
	}
	orig = fold(orig)
	local, domain := rcpt, ""
	if i := strings.LastIndexByte(rcpt, '@'); i >= 0 {
		local, domain = rcpt[:i], rcpt[i+1:]
	}
	user, extension, _ := extensions.Split(local)
	quote := func(a string) string {
		if flags.QuoteLocal {
			return addr.Split(a).String()
		}
		return a
	}
	return map[string]string{
		"recipient": quote(rcpt), "original_recipient": quote(orig), "user": user,
		"extension": extension, "mailbox": local, "domain": domain,
	}
}

// expandArgv expands argv with the message macros msg and the recipients.
// The error names an unknown macro.
func expandArgv(argv []string, msg map[string]string, rcpts []map[string]string) ([]string, error) {
	var out []string
	for _, word := range argv {
		perRecipient := false
		_, err := expand(word, func(name string) (string, bool) {
			if recipientMacros[name] {
				perRecipient = true
				return "", true
			}
			v, ok := msg[name]
			return v, ok
		})
		if err != nil {
			return nil, err
		}
		if !perRecipient {
			w, _ := expand(word, func(name string) (string, bool) { v, ok := msg[name]; return v, ok })
			out = append(out, w)
			continue
		}
		for _, rv := range rcpts {
			w, _ := expand(word, func(name string) (string, bool) {
				if v, ok := rv[name]; ok {
					return v, true
				}
				v, ok := msg[name]
				return v, ok
			})
			out = append(out, w)
		}
	}
	return out, nil
}

// expand replaces the macros in word; lookup reports unknown names.
func expand(word string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for i := 0; i < len(word); i++ {
		ch := word[i]
		if ch != '$' || i+1 == len(word) {
			b.WriteByte(ch)
			continue
		}
		i++
		switch {
		case word[i] == '$':
			b.WriteByte('$')
		case word[i] == '{' || word[i] == '(':
			closer := byte('}')
			if word[i] == '(' {
				closer = ')'
			}
			end := strings.IndexByte(word[i:], closer)
			if end < 0 {
				return "", fmt.Errorf("missing '%c' in %q", closer, word)
			}
			inner := word[i+1 : i+end]
			i += end
			name, alt, op := inner, "", byte(0)
			if j := strings.IndexAny(inner, "?:"); j >= 0 {
				name, alt, op = inner[:j], inner[j+1:], inner[j]
			}
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("unknown macro name: %q", name)
			}
			switch {
			case op == '?' && v != "":
				v = alt
			case op == '?':
				v = ""
			case op == ':' && v == "":
				v = alt
			}
			b.WriteString(v)
		default:
			j := i
			for j < len(word) && (word[j] == '_' || word[j] >= 'a' && word[j] <= 'z' || word[j] >= 'A' && word[j] <= 'Z' || word[j] >= '0' && word[j] <= '9') {
				j++
			}
			if j == i {
				b.WriteByte('$')
				i--
				continue
			}
			name := word[i:j]
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("unknown macro name: %q", name)
			}
			b.WriteString(v)
			i = j - 1
		}
	}
	return b.String(), nil
}
