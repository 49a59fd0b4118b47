// access(5) tables: the lookup keys for addresses, host names and client
// addresses, and the meaning of the values found.

package policy

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dsn"
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
func (e *evaluation) domainKeys(name string, partial bool) []lookupKey {
	c := e.c
	name = strings.TrimSuffix(addr.FoldDomain(name), ".")
	if name == "" {
		return nil
	}
	keys := []lookupKey{{key: name, partial: partial}}
	for rest := name; !strings.HasPrefix(name, "[") && !validHostAddr(name); {
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

// clientKeys returns the queries of check_client_access (for the
// verified name) and check_reverse_client_hostname_access (for the PTR
// name): the host name and its parents (unless the name is unknown), then
// the address and its shorter forms ("1.2.3.4", "1.2.3", "1.2", "1"; IPv6
// loses ":piece" at a time).
func (e *evaluation) clientKeys(name string) []lookupKey {
	var keys []lookupKey
	if name != "unknown" {
		keys = e.domainKeys(name, false)
	}
	return append(keys, addrKeys(e.s.ClientAddr)...)
}

// addrKeys returns an address and its shorter forms.
func addrKeys(address string) []lookupKey {
	if ip, err := netip.ParseAddr(address); err == nil {
		address = ip.Unmap().WithZone("").String()
	}
	if address == "" {
		return nil
	}
	keys := []lookupKey{{key: address}}
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
		return []lookupKey{{key: e.c.set.NullAccessKey}}, nil
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
	base := e.c.set.Extensions.Strip(local)
	keys := []lookupKey{{key: local + "@" + domain}}
	if base != local {
		keys = append(keys, lookupKey{key: base + "@" + domain, partial: true})
	}
	keys = append(keys, e.domainKeys(domain, true)...)
	keys = append(keys, lookupKey{key: local + "@", partial: true})
	if base != local {
		keys = append(keys, lookupKey{key: base + "@", partial: true})
	}
	return keys, nil
}

// checkAccess queries the table with each key in turn; the first entry
// found decides (DUNNO included: it stops the search). A table that
// cannot be read gives Postfix's "451 4.3.5 ... Server configuration
// error".
func (e *evaluation) checkAccess(t maps.Table, keys []lookupKey, ctx replyContext) Decision {
	d, _ := e.checkAccessFound(t, keys, ctx)
	return d
}

// checkAccessFound is checkAccess that also tells whether an entry was
// found (a DUNNO entry ends the search too).
func (e *evaluation) checkAccessFound(t maps.Table, keys []lookupKey, ctx replyContext) (Decision, bool) {
	fixed := maps.FixedKeys(t.Spec())
	for _, k := range keys {
		if k.partial && !fixed {
			continue
		}
		value, found, err := t.Lookup(k.key)
		if err != nil {
			e.c.warn(fmt.Sprintf("%s: table lookup problem: %v", t.Spec(), err))
			d := reject(451, "4.3.5", ctx, "Server configuration error")
			d.software = true
			return d, true
		}
		if found {
			return e.accessResult(t.Spec(), k.key, value, ctx), true
		}
	}
	return Decision{}, false
}

// accessResult interprets an access-table value.
func (e *evaluation) accessResult(spec, key, value string, ctx replyContext) Decision {
	c, s := e.c, e.s
	value = strings.TrimSpace(value)
	if value == "" {
		c.warn(fmt.Sprintf("access table %s entry %s has empty value", spec, key))
		return Decision{Action: Permit}
	}
	word, rest, _ := strings.Cut(value, " ")
	if i := strings.IndexAny(value, " \t"); i >= 0 {
		word, rest = value[:i], value[i+1:]
	}
	rest = strings.TrimSpace(rest)
	switch upper := strings.ToUpper(word); {
	case upper == "DUNNO":
		return Decision{}
	case upper == "REJECT":
		return accessReject(c.set.AccessReject, "5.7.1", ctx, rest, "Access denied")
	case upper == "DEFER":
		return accessReject(c.set.AccessDefer, "4.7.1", ctx, rest, "Access denied")
	case upper == "INFO" || upper == "WARN":
		c.log(whatsup(strings.ToLower(upper), s.where, s, rest))
		return Decision{}
	case upper == "HOLD" || upper == "DISCARD":
		if !e.canDelegate(spec, upper) || (upper == "HOLD" && s.Hold) {
			return Decision{}
		}
		c.log(whatsup(strings.ToLower(upper), s.where, s, fmt.Sprintf("<%s>: %s %s", ctx.name, ctx.class, textOr(rest, "triggers "+upper+" action"))))
		if upper == "HOLD" {
			s.Hold = true
			return Decision{}
		}
		s.Discard = true
		return Decision{Action: Permit}
	case upper == "PREPEND":
		if !s.Mail {
			c.warn(fmt.Sprintf("access table %s: with smtpd_delay_reject=no, action PREPEND is always skipped in Client host or Helo command restrictions", spec))
			return Decision{}
		}
		if s.where == "END-OF-MESSAGE" {
			c.warn(fmt.Sprintf("access table %s: action PREPEND must be used before smtpd_end_of_data_restrictions", spec))
			return Decision{}
		}
		if !isHeader(rest) {
			c.warn(fmt.Sprintf("access table %s entry \"%s\" requires header: text", spec, key))
			return Decision{}
		}
		s.Prepend = append(s.Prepend, rest)
		return Decision{}
	case upper == "FILTER":
		switch {
		case !e.canDelegate(spec, upper):
		case rest == "":
			c.warn(fmt.Sprintf("access table %s entry \"%s\" has FILTER entry without value", spec, key))
		case !strings.Contains(rest, ":"):
			c.warn(fmt.Sprintf("access table %s entry \"%s\" requires transport:destination", spec, key))
		default:
			c.log(whatsup("filter", s.where, s, fmt.Sprintf("<%s>: %s triggers FILTER %s", ctx.name, ctx.class, rest)))
			s.Filter = rest
		}
		return Decision{}
	case upper == "REDIRECT" || upper == "BCC":
		switch {
		case !e.canDelegate(spec, upper):
		case !strings.Contains(rest, "@"):
			c.warn(fmt.Sprintf("access table %s entry \"%s\" requires user@domain target", spec, key))
		default:
			c.log(whatsup(strings.ToLower(upper), s.where, s, fmt.Sprintf("<%s>: %s triggers %s %s", ctx.name, ctx.class, upper, rest)))
			if upper == "REDIRECT" {
				s.Redirect = rest
			} else {
				s.BCC = append(s.BCC, rest)
			}
		}
		return Decision{}
	case upper == "DEFER_IF_PERMIT":
		return e.deferIfPermit(accessReject(c.set.AccessDefer, "4.7.1", ctx, rest, "Service unavailable"))
	case upper == "DEFER_IF_REJECT":
		return e.deferIfReject(accessReject(c.set.AccessDefer, "4.7.1", ctx, rest, "Service unavailable"))
	case allDigits(value):
		return Decision{Action: Permit}
	case len(word) == 3 && allDigits(word) && rest != "" && (word[0] == '4' || word[0] == '5'):
		code := int(word[0]-'0')*100 + int(word[1]-'0')*10 + int(word[2]-'0')
		d := accessReject(code, string(word[0])+".7.1", ctx, rest, "Access denied")
		d.Disconnect = code == 421 || code == 521
		return d
	case upper == "OK" || upper == "RELAY":
		return Decision{Action: Permit}
	}
	return e.accessRestrictions(spec, key, value, ctx)
}

// canDelegate reports whether HOLD, DISCARD (and the like) can act here:
// not for ETRN, and not before MAIL FROM.
func (e *evaluation) canDelegate(spec, action string) bool {
	switch {
	case e.s.where == "ETRN":
		e.c.warn(fmt.Sprintf("access table %s: action %s is unavailable in smtpd_etrn_restrictions", spec, action))
		return false
	case !e.s.Mail:
		e.c.warn(fmt.Sprintf("access table %s: with smtpd_delay_reject=no, action %s is always skipped in Client host or Helo command restrictions", spec, action))
		return false
	}
	return true
}

// isHeader reports whether text starts with a header name and a colon.
func isHeader(text string) bool {
	colon := strings.IndexByte(text, ':')
	if colon <= 0 {
		return false
	}
	for i := 0; i < colon; i++ {
		if text[i] <= ' ' || text[i] >= 0x7f {
			return false
		}
	}
	return true
}

// accessRestrictions evaluates restriction names (and restriction
// classes) given as an access-table value.
func (e *evaluation) accessRestrictions(spec, key, value string, ctx replyContext) Decision {
	c := e.c
	if strings.Contains(value, ":") {
		c.warn(fmt.Sprintf("access table %s has entry with lookup table: %s", spec, value))
		c.warn("do not specify lookup tables inside SMTPD access maps")
		c.warn("define a restriction class and specify its name instead.")
		return serverConfigError
	}
	if e.s.recursion > 100 {
		c.warn(fmt.Sprintf("access table %s entry %s causes unreasonable recursion", spec, value))
		return serverConfigError
	}
	items := config.SplitList(value)
	var list []restriction
	for i := 0; i < len(items); i++ {
		name := items[i]
		kind, known := restrictionArgs[name]
		if !known && c.classes[name] == nil {
			if lower := strings.ToLower(name); isKnownName(lower) {
				name, kind, known = lower, restrictionArgs[lower], true
			}
		}
		switch {
		case known && kind != argNone:
			if i+1 >= len(items) || !validArg(kind, items[i+1]) {
				c.warn(fmt.Sprintf("restriction %s requires an argument", name))
				return serverConfigError
			}
			i++
			list = append(list, restriction{name: name, arg: items[i]})
		case known:
			list = append(list, restriction{name: name})
		case c.classes[name] != nil:
			list = append(list, restriction{name: name, class: c.classes[name]})
		default:
			c.warn(fmt.Sprintf("unknown smtpd restriction: \"%s\"", name))
			return serverConfigError
		}
	}
	return e.run(list, ctx)
}

// accessReject builds an access-table rejection. text may start with an
// enhanced status code, which replaces defaultDSN (made to fit the
// subject); empty text becomes def.
func accessReject(code int, defaultDSN string, ctx replyContext, text, def string) Decision {
	status := defaultDSN
	if first, rest, _ := strings.Cut(text, " "); dsn.Valid(first) {
		status, text = first, strings.TrimSpace(rest)
	}
	if text == "" {
		text = def
	}
	return reject(code, dsnForSubject(status, ctx.class), ctx, text)
}

// textOr returns text, or def when text is empty.
func textOr(text, def string) string {
	if text == "" {
		return def
	}
	return text
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
