// DNS block and allow lists: reject_rbl_client, permit_dnswl_client,
// reject_rhsbl_client, _reverse_client, _helo, _sender, _recipient and
// permit_rhswl_client, with "domain=127.0.0.[2..11]" reply filters, the
// TXT record as $rbl_reason, rbl_reply_maps and default_rbl_reply.

package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/maps"
)

// rblSettings are the reply templates of the DNS lists.
type rblSettings struct {
	replyMaps    []maps.Table // rbl_reply_maps
	defaultReply string       // default_rbl_reply, unexpanded
}

// read reads rbl_reply_maps and default_rbl_reply.
func (r *rblSettings) read(cfg *config.Config, tables *tableOpener) error {
	var p struct {
		ReplyMaps    []string `param:"rbl_reply_maps"`
		DefaultReply string   `param:"default_rbl_reply"`
	}
	if err := cfg.Fill(&p); err != nil {
		return err
	}
	for _, spec := range p.ReplyMaps {
		r.replyMaps = append(r.replyMaps, tables.get(spec))
	}
	r.defaultReply = p.DefaultReply
	return nil
}

// dnsxlResult is what a list says about a name: not listed, unknown (the
// lookup failed), or listed with the TXT text.
type dnsxlResult struct {
	listed, soft bool
	txt          string
}

// rblTXTLimit bounds the TXT text, as Postfix's RBL_TXT_LIMIT.
const rblTXTLimit = 500

// findDNSXL answers from the session's cache, or asks the DNS.
func (e *evaluation) findDNSXL(prefix, spec string) dnsxlResult {
	key := prefix + "." + spec
	if res, ok := e.s.dnsxl[key]; ok {
		return res
	}
	res := e.c.findDNSXL(prefix, spec)
	if e.s.dnsxl == nil {
		e.s.dnsxl = map[string]dnsxlResult{}
	}
	e.s.dnsxl[key] = res
	return res
}

// findDNSXL queries "prefix.domain" (the domain without its "=filter")
// and applies the filter to the A records.
func (c *Checker) findDNSXL(prefix, spec string) dnsxlResult {
	domain, filter, hasFilter := strings.Cut(spec, "=")
	query := prefix + "." + domain
	rrs, st := c.lookup(query, dns.TypeA)
	switch st {
	case dnsx.Retry:
		c.warn(fmt.Sprintf("%s: RBL lookup error: Host or domain name not found. Name service error for name=%s type=A: Host not found, try again", query, query))
		return dnsxlResult{soft: true}
	case dnsx.NotFound:
		return dnsxlResult{}
	}
	if hasFilter {
		matched := false
		for _, rr := range rrs {
			if a, ok := rr.(*dns.A); ok && ipMatch(filter, a.A.String()) {
				matched = true
			}
		}
		if !matched {
			return dnsxlResult{}
		}
	}
	res := dnsxlResult{listed: true}
	txts, st := c.lookup(query, dns.TypeTXT)
	if st == dnsx.Found {
		var b strings.Builder
		for i, rr := range txts {
			t := strings.Join(rr.(*dns.TXT).Txt, "")
			if left := rblTXTLimit - b.Len(); len(t) > left {
				t = t[:left]
			}
			b.WriteString(t)
			if i+1 < len(txts) && rblTXTLimit-b.Len() > 3 {
				b.WriteString(" / ")
			}
			if b.Len() >= rblTXTLimit {
				break
			}
		}
		res.txt = b.String()
	}
	return res
}

// ipMatch matches an IPv4 address against a pattern such as
// "127.0.0.[2..11]" or "127.0.[0;1].[2;4..6]"; a bad pattern matches
// nothing.
func ipMatch(pattern, ip string) bool {
	pats := splitOctets(pattern)
	octets := strings.Split(ip, ".")
	if len(pats) != 4 || len(octets) != 4 {
		return false
	}
	for i, p := range pats {
		n, err := strconv.Atoi(octets[i])
		if err != nil || !octetMatch(p, n) {
			return false
		}
	}
	return true
}

// splitOctets splits a pattern at the dots outside brackets.
func splitOctets(pattern string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				out = append(out, pattern[start:i])
				start = i + 1
			}
		}
	}
	return append(out, pattern[start:])
}

// octetMatch matches one octet: a number, or [a;b..c;...].
func octetMatch(p string, n int) bool {
	if !strings.HasPrefix(p, "[") {
		v, err := strconv.Atoi(p)
		return err == nil && v == n
	}
	if !strings.HasSuffix(p, "]") {
		return false
	}
	for _, item := range strings.Split(p[1:len(p)-1], ";") {
		lo, hi, isRange := strings.Cut(item, "..")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return false
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return false
			}
		}
		if n >= a && n <= b {
			return true
		}
	}
	return false
}

// reverseOctets is the DNSBL query prefix of an address: "4.3.2.1", or
// the nibbles of an IPv6 address.
func reverseOctets(address string) (string, bool) {
	ip, err := netip.ParseAddr(address)
	if err != nil {
		return "", false
	}
	arpa := dnsx.ReverseName(ip)
	arpa = strings.TrimSuffix(arpa, ".in-addr.arpa.")
	arpa = strings.TrimSuffix(arpa, ".ip6.arpa.")
	return arpa, true
}

// rblClient implements reject_rbl_client and (allow) permit_dnswl_client.
func (e *evaluation) rblClient(spec string, allow bool) Decision {
	s := e.s
	if allow && e.cannotAllowlist() {
		return Decision{}
	}
	prefix, ok := reverseOctets(s.ClientAddr)
	if !ok {
		return Decision{}
	}
	res := e.findDNSXL(prefix, spec)
	return e.dnsxlDecision(res, spec, s.ClientAddr, classClient, allow)
}

// rhsbl implements the reject_rhsbl_* restrictions and
// permit_rhswl_client for what (a host name, or an address whose domain
// is looked up).
func (e *evaluation) rhsbl(spec, what, class string, allow bool) Decision {
	if allow && e.cannotAllowlist() {
		return Decision{}
	}
	domain := what
	if at := strings.LastIndexByte(what, '@'); at >= 0 {
		domain = what[at+1:]
	}
	if domain == "" || strings.HasPrefix(domain, "[") {
		return Decision{}
	}
	last := domain
	if dot := strings.LastIndexByte(domain, '.'); dot >= 0 {
		last = domain[dot+1:]
	}
	if allDigits(last) || !validASCIIHostname(domain) {
		return Decision{}
	}
	res := e.findDNSXL(domain, spec)
	return e.dnsxlDecision(res, spec, what, class, allow)
}

// cannotAllowlist reports whether an allow list must not act: at RCPT, a
// recipient that would be relayed is never let through by it.
func (e *evaluation) cannotAllowlist() bool {
	if e.s.where != "RCPT" || !e.hasRecipient() {
		return false
	}
	return e.relayCheck("permit_auth_destination").Action != Permit
}

// dnsxlDecision turns a list's answer into the restriction's result.
func (e *evaluation) dnsxlDecision(res dnsxlResult, spec, what, class string, allow bool) Decision {
	switch {
	case allow && res.soft:
		return e.deferIfReject(reject(450, "4.7.1", replyContext{name: what, class: class}, "Service unavailable"))
	case allow:
		return permitIf(res.listed)
	case !res.listed:
		return Decision{}
	}
	return e.rblReply(res, spec, what, class)
}

// rblReply builds the rejection from rbl_reply_maps (looked up with the
// list as written, then without its filter) or default_rbl_reply.
func (e *evaluation) rblReply(res dnsxlResult, spec, what, class string) Decision {
	c := e.c
	domain, _, _ := strings.Cut(spec, "=")
	template := ""
	for _, key := range []string{spec, domain} {
		v, found, err := lookupAll(c.rbl.replyMaps, key)
		if err != nil {
			c.warn(err.Error())
			return serverConfigError
		}
		if found {
			template = v
			break
		}
	}
	vars := map[string]string{
		"rbl_code": strconv.Itoa(c.set.RBLCode), "rbl_domain": domain, "rbl_reason": res.txt,
		"rbl_txt": res.txt, "rbl_what": what, "rbl_class": class,
	}
	lookup := func(name string) (string, bool) {
		if v, ok := vars[name]; ok {
			return v, true
		}
		if v, ok := e.s.SessionAttr(name); ok {
			return v, true
		}
		v, err := c.cfg.Get(name)
		return v, err == nil
	}
	var reply string
	var err error
	if template != "" {
		if reply, err = expandTemplate(template, lookup); err != nil {
			c.warn(fmt.Sprintf("rbl_reject_reply: bad rbl reply template for domain %s: %s", spec, template))
			template = ""
		}
	}
	if template == "" {
		if reply, err = expandTemplate(c.rbl.defaultReply, lookup); err != nil {
			c.warn(fmt.Sprintf("rbl_reject_reply: bad default rbl reply template: %s", c.rbl.defaultReply))
			return serverConfigError
		}
	}
	if len(reply) < 4 || (reply[0] != '4' && reply[0] != '5') || !allDigits(reply[1:3]) || reply[3] != ' ' {
		c.warn(fmt.Sprintf("rbl response code configuration error: %s", reply))
		return Decision{Action: Defer, Code: 450, DSN: "4.7.1", Text: "Service unavailable"}
	}
	code, _ := strconv.Atoi(reply[:3])
	status, text := "4.7.1", strings.TrimSpace(reply[4:])
	if first, rest, _ := strings.Cut(text, " "); dsn.Valid(first) {
		status, text = first, strings.TrimSpace(rest)
	}
	if text == "" {
		text = "Service unavailable"
	}
	return Decision{Action: actionFor(code), Code: code, DSN: dsnForSubject(status, class), Text: text}
}

// lookupAll finds key in the first table that has it.
func lookupAll(tables []maps.Table, key string) (string, bool, error) {
	for _, t := range tables {
		v, found, err := t.Lookup(key)
		if err != nil {
			return "", false, fmt.Errorf("%s: table lookup problem: %w", t.Spec(), err)
		}
		if found {
			return v, true, nil
		}
	}
	return "", false, nil
}
