// access(5) tables: the lookup keys for addresses, host names and client
// addresses, and the meaning of the values found.

package policy

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/resolve"
)

// lookupKey is one access-table query. Partial keys (parent domains,
// user@, network prefixes) are skipped for regexp-like tables.
type lookupKey struct {
	key     string
	partial bool
}

// domainKeys returns a host or domain name and its parents: "a.b.c",
// then "b.c", "c" when smtpd_access_maps is in
// parent_domain_matches_subdomains, else ".b.c", ".c".
func domainKeys(c *Checker, name string, partial bool) []lookupKey {
	name = strings.TrimSuffix(addr.FoldDomain(name), ".")
	if name == "" {
		return nil
	}
	keys := []lookupKey{{key: name, partial: partial}}
	for rest := name; !strings.HasPrefix(name, "["); {
		dot := strings.IndexByte(rest, '.')
		if dot < 0 || dot == len(rest)-1 {
			break
		}
		key := rest[dot:]
		if c.parentAccess {
			key = rest[dot+1:]
		}
		keys = append(keys, lookupKey{key: key, partial: true})
		rest = rest[dot+1:]
	}
	return keys
}

// clientKeys returns the queries of check_client_access: the host name
// and its parents (unless the name is unknown), then the address and its
// shorter forms ("1.2.3.4", "1.2.3", "1.2", "1"; IPv6 loses ":piece" at a
// time).
func clientKeys(c *Checker, s Session) []lookupKey {
	var keys []lookupKey
	if name := s.clientName(); name != "unknown" {
		keys = domainKeys(c, name, false)
	}
	address := s.ClientAddr
	if ip, err := netip.ParseAddr(address); err == nil {
		address = ip.Unmap().WithZone("").String()
	}
	if address == "" {
		return keys
	}
	keys = append(keys, lookupKey{key: address})
	delim := byte('.')
	if strings.Contains(address, ":") {
		delim = ':'
	}
	for rest := address; ; {
		i := strings.LastIndexByte(rest, delim)
		if i <= 0 {
			break
		}
		rest = rest[:i]
		keys = append(keys, lookupKey{key: rest, partial: true})
	}
	return keys
}

// addressKeys returns the queries of check_sender_access and
// check_recipient_access for the rewritten address: user+ext@domain,
// user@domain, the domain and its parents, user+ext@, user@. The null
// sender is looked up as smtpd_null_access_lookup_key.
func (e *evaluation) addressKeys(internal string, sender bool) ([]lookupKey, error) {
	if sender && internal == "" {
		return []lookupKey{{key: e.c.nullAccessKey}}, nil
	}
	var res *resolve.Result
	if sender {
		r, err := e.c.resolver.Resolve(internal)
		if err != nil {
			return nil, err
		}
		res = &r
	} else {
		r, err := e.resolvedRecipient()
		if err != nil {
			return nil, err
		}
		res = r
	}
	local, domain := res.Address.Local, res.Address.Domain
	base := resolve.StripExtension(local, e.c.delimiter)
	keys := []lookupKey{{key: local + "@" + domain}}
	if base != local {
		keys = append(keys, lookupKey{key: base + "@" + domain, partial: true})
	}
	keys = append(keys, domainKeys(e.c, domain, true)...)
	keys = append(keys, lookupKey{key: local + "@", partial: true})
	if base != local {
		keys = append(keys, lookupKey{key: base + "@", partial: true})
	}
	return keys, nil
}

// checkAccess queries the table with each key in turn; the first entry
// found decides (DUNNO included: it stops the search).
func (e *evaluation) checkAccess(t maps.Table, keys []lookupKey, ctx replyContext, depth int) (Decision, error) {
	fixed := fixedKeys(t)
	for _, k := range keys {
		if k.partial && !fixed {
			continue
		}
		value, found, err := t.Lookup(k.key)
		if err != nil {
			e.c.warn(fmt.Sprintf("%s: table lookup problem: %v", t.Spec(), err))
			return Decision{}, err
		}
		if found {
			return e.accessResult(t.Spec(), k.key, value, ctx, depth)
		}
	}
	return Decision{}, nil
}

// serverConfigError is Postfix's reply when the configuration is wrong.
var serverConfigError = Decision{Action: Defer, Code: 451, DSN: "4.3.5", Text: "Server configuration error"}

// accessResult interprets an access-table value.
func (e *evaluation) accessResult(spec, key, value string, ctx replyContext, depth int) (Decision, error) {
	c := e.c
	value = strings.TrimSpace(value)
	if value == "" {
		c.warn(fmt.Sprintf("access table %s entry %s has empty value", spec, key))
		return serverConfigError, nil
	}
	word, rest, _ := strings.Cut(value, " ")
	rest = strings.TrimSpace(rest)
	switch upper := strings.ToUpper(word); {
	case allDigits(word) && (len(word) != 3 || rest == "" || (word[0] != '4' && word[0] != '5')):
		return Decision{Action: Permit}, nil
	case upper == "OK":
		return Decision{Action: Permit}, nil
	case upper == "DUNNO":
		return Decision{}, nil
	case upper == "REJECT":
		return accessReject(c.accessReject, "5.7.1", ctx, rest), nil
	case upper == "DEFER":
		return accessReject(c.accessDefer, "4.7.1", ctx, rest), nil
	case upper == "DEFER_IF_PERMIT":
		if e.deferIfPermit == nil {
			d := accessReject(c.accessDefer, "4.7.1", ctx, textOr(rest, "Service unavailable"))
			e.deferIfPermit = &d
		}
		return Decision{}, nil
	case upper == "DEFER_IF_REJECT":
		if e.deferIfReject == nil {
			d := accessReject(c.accessDefer, "4.7.1", ctx, textOr(rest, "Service unavailable"))
			e.deferIfReject = &d
		}
		return Decision{}, nil
	case upper == "HOLD":
		e.hold = true
		return Decision{}, nil
	case upper == "DISCARD":
		e.discard = true
		return Decision{Action: Permit}, nil
	case upper == "WARN" || upper == "INFO":
		c.warn(actionLog(strings.ToLower(upper), e.s, fmt.Sprintf("<%s>: %s triggers %s %s", ctx.name, ctx.class, upper, rest)))
		return Decision{}, nil
	case upper == "FILTER" || upper == "REDIRECT" || upper == "PREPEND" || upper == "BCC":
		c.warn(fmt.Sprintf("access table %s: action %s is not supported by Postern", spec, upper))
		return serverConfigError, nil
	case len(word) == 3 && allDigits(word) && (word[0] == '4' || word[0] == '5'):
		code := int(word[0]-'0')*100 + int(word[1]-'0')*10 + int(word[2]-'0')
		d := accessReject(code, string(word[0])+".7.1", ctx, rest)
		d.Disconnect = code == 421 || code == 521
		return d, nil
	}
	return e.accessRestrictions(spec, key, value, ctx, depth)
}

// accessRestrictions evaluates restriction names (and restriction
// classes) given as an access-table value.
func (e *evaluation) accessRestrictions(spec, key, value string, ctx replyContext, depth int) (Decision, error) {
	if depth >= maxClassDepth {
		e.c.warn(fmt.Sprintf("access table %s entry %s causes unreasonable recursion", spec, key))
		return serverConfigError, nil
	}
	for _, name := range config.SplitList(value) {
		var r restriction
		switch {
		case tableRestrictions[name]:
			e.c.warn(fmt.Sprintf("access table %s has entry with lookup table: %s", spec, name))
			return serverConfigError, nil
		case simpleRestrictions[name]:
			r = restriction{name: name}
		case e.c.classes[name] != nil:
			r = restriction{name: name, class: e.c.classes[name]}
		default:
			e.c.warn(fmt.Sprintf("unknown smtpd restriction: \"%s\"", name))
			return serverConfigError, nil
		}
		d, err := e.apply(r, ctx, depth+1)
		if err != nil || d.Action != Dunno {
			return d, err
		}
	}
	return Decision{}, nil
}

// accessReject builds an access-table rejection. text may start with an
// enhanced status code, which replaces defaultDSN; empty text becomes
// "Access denied".
func accessReject(code int, defaultDSN string, ctx replyContext, text string) Decision {
	dsn := defaultDSN
	if first, rest, _ := strings.Cut(text, " "); isDSN(first) {
		dsn, text = first, strings.TrimSpace(rest)
	}
	if text == "" {
		text = "Access denied"
	}
	return reject(code, dsn, ctx, text)
}

// textOr returns text, or def when text is empty.
func textOr(text, def string) string {
	if text == "" {
		return def
	}
	return text
}

// isDSN reports whether s is an enhanced status code X.Y.Z (X = 2, 4, 5).
func isDSN(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || strings.IndexByte("245", parts[0][0]) < 0 {
		return false
	}
	return len(parts[1]) <= 3 && allDigits(parts[1]) && len(parts[2]) <= 3 && allDigits(parts[2])
}

// allDigits reports whether s is a non-empty run of decimal digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
