// cidr.go implements the "cidr" table type of cidr_table(5): network/prefix patterns, first match in file order.

package maps

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

func init() { Register("cidr", openCIDR) }

// cidrRuleKind tells a pattern rule from the IF and ENDIF statements.
type cidrRuleKind int

const (
	cidrMatch cidrRuleKind = iota
	cidrIf
	cidrEndif
)

// cidrRule is one accepted line of a cidr table.
type cidrRule struct {
	kind   cidrRuleKind
	prefix netip.Prefix
	negate bool
	result string
	// skipTo is, for an IF, the index of the rule after its ENDIF (or
	// the end of the table when the ENDIF is missing).
	skipTo int
}

// cidrTable is an opened cidr table.
type cidrTable struct {
	spec     string
	name     string // the file, or the {...} text of an inline table
	files    []string
	rules    []cidrRule
	warnings []string
}

// openCIDR opens cidr:/path or the inline form cidr:{ {net result}, ... }.
func openCIDR(name string, _ Options) (Table, error) {
	if strings.HasPrefix(name, "{") {
		items, err := splitInlineRules(name)
		if err != nil {
			return nil, fmt.Errorf("cidr map: %w", err)
		}
		t := &cidrTable{spec: "cidr:" + name, name: name}
		var openIfs []cidrOpenIf
		for i, item := range items {
			if item != "" { // an empty {} still counts as a line
				openIfs = t.addLine(item, i+1, openIfs)
			}
		}
		t.closeOpenIfs(openIfs)
		return t, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", name, describeErrno(err))
	}
	defer f.Close()
	t, err := readCIDR(f, name)
	if err != nil {
		return nil, err
	}
	t.files = []string{name}
	return t, nil
}

// readCIDR parses the cidr table source read from r; name is its file.
func readCIDR(r io.Reader, name string) (*cidrTable, error) {
	t := &cidrTable{spec: "cidr:" + name, name: name}
	var openIfs []cidrOpenIf
	err := ReadLogicalLines(r, name, func(l LogicalLine) {
		openIfs = t.addLine(strings.TrimRight(l.Text, " \t\r\n\f\v"), l.Line, openIfs)
	}, func(w string) { t.warnings = append(t.warnings, w) })
	if err != nil {
		return nil, err
	}
	t.closeOpenIfs(openIfs)
	return t, nil
}

// closeOpenIfs reports IFs left open, innermost first; they stay in force
// to the end of the table.
func (t *cidrTable) closeOpenIfs(openIfs []cidrOpenIf) {
	for i := len(openIfs) - 1; i >= 0; i-- {
		t.warn(openIfs[i].line, "IF has no matching ENDIF")
		t.rules[openIfs[i].rule].skipTo = len(t.rules)
	}
}

// cidrOpenIf is an IF still waiting for its ENDIF.
type cidrOpenIf struct{ rule, line int }

// warn records a warning about a line, in Postfix's words.
func (t *cidrTable) warn(line int, format string, args ...any) {
	t.warnings = append(t.warnings,
		fmt.Sprintf("cidr map %s, line %d: ", t.name, line)+fmt.Sprintf(format, args...))
}

// addLine parses one logical line and returns the IFs still open.
func (t *cidrTable) addLine(text string, line int, openIfs []cidrOpenIf) []cidrOpenIf {
	switch {
	case hasKeyword(text, "endif"):
		if strings.TrimLeft(text[len("endif"):], " \t") != "" {
			t.warn(line, "garbage after ENDIF: skipping this rule")
			return openIfs
		}
		if len(openIfs) == 0 {
			t.warn(line, "ENDIF without IF: skipping this rule")
			return openIfs
		}
		t.rules = append(t.rules, cidrRule{kind: cidrEndif})
		t.rules[openIfs[len(openIfs)-1].rule].skipTo = len(t.rules)
		return openIfs[:len(openIfs)-1]
	case hasKeyword(text, "if"):
		negate, pattern := cidrNegation(text[len("if"):])
		prefix, ok := t.parsePrefix(pattern, line)
		if !ok {
			return openIfs
		}
		openIfs = append(openIfs, cidrOpenIf{rule: len(t.rules), line: line})
		t.rules = append(t.rules, cidrRule{kind: cidrIf, prefix: prefix, negate: negate})
		return openIfs
	}
	negate, rest := cidrNegation(text)
	pattern, result := rest, ""
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		pattern, result = rest[:i], strings.TrimLeft(rest[i:], " \t")
	}
	prefix, ok := t.parsePrefix(pattern, line)
	if !ok {
		return openIfs
	}
	if result == "" {
		t.warn(line, "no lookup result: skipping this rule")
		return openIfs
	}
	t.rules = append(t.rules, cidrRule{kind: cidrMatch, prefix: prefix, negate: negate, result: result})
	return openIfs
}

// cidrNegation strips leading '!' signs (each one inverts the pattern)
// and the whitespace around them.
func cidrNegation(text string) (negate bool, rest string) {
	rest = strings.TrimLeft(text, " \t")
	for strings.HasPrefix(rest, "!") {
		negate = !negate
		rest = strings.TrimLeft(rest[1:], " \t")
	}
	return negate, rest
}

// parsePrefix parses "addr", "addr/len", "[addr]", "[addr]/len" or
// "[addr/len]", warning as Postfix does when the pattern is unusable.
func (t *cidrTable) parsePrefix(pattern string, line int) (netip.Prefix, bool) {
	if pattern == "" {
		t.warn(line, "no address pattern: skipping this rule")
		return netip.Prefix{}, false
	}
	if strings.HasPrefix(pattern, "[") {
		end := strings.IndexByte(pattern, ']')
		if end < 0 {
			t.warn(line, "missing ']' character after \"%s\": skipping this rule", pattern)
			return netip.Prefix{}, false
		}
		if after := pattern[end+1:]; after != "" && after[0] != '/' {
			t.warn(line, "garbage after \"%s\": skipping this rule", pattern[:end+1])
			return netip.Prefix{}, false
		}
		pattern = pattern[1:end] + pattern[end+1:]
	}
	addrText, maskText, hasMask := strings.Cut(pattern, "/")
	if !hasMask {
		addr, err := parseTableAddr(pattern)
		if err != nil {
			t.warn(line, "bad address pattern: \"%s\": skipping this rule", pattern)
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(addr, addr.BitLen()), true
	}
	if maskText == "" || strings.Trim(maskText, "0123456789") != "" {
		t.warn(line, "bad mask value in \"%s\": skipping this rule", pattern)
		return netip.Prefix{}, false
	}
	addr, err := parseTableAddr(addrText)
	if err != nil {
		t.warn(line, "bad network value in \"%s\": skipping this rule", pattern)
		return netip.Prefix{}, false
	}
	bits, err := strconv.Atoi(maskText)
	if err != nil || bits > addr.BitLen() {
		t.warn(line, "bad mask length in \"%s\": skipping this rule", pattern)
		return netip.Prefix{}, false
	}
	prefix := netip.PrefixFrom(addr, bits)
	if masked := prefix.Masked(); masked.Addr() != addr {
		t.warn(line, "non-null host address bits in \"%s\", perhaps you should use \"%s\" instead: skipping this rule", pattern, masked)
		return netip.Prefix{}, false
	}
	return prefix, true
}

// parseTableAddr parses an IPv4 or IPv6 address without a zone.
func parseTableAddr(text string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(text)
	if err != nil {
		return netip.Addr{}, err
	}
	if addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("address %q has a zone", text)
	}
	return addr, nil
}

// Lookup returns the result of the first rule whose network holds the
// address key. A key that is not an address is not found.
func (t *cidrTable) Lookup(key string) (string, bool, error) {
	addr, err := parseTableAddr(key)
	if err != nil {
		return "", false, nil
	}
	for i := 0; i < len(t.rules); i++ {
		rule := &t.rules[i]
		switch rule.kind {
		case cidrEndif:
		case cidrIf:
			if !rule.matches(addr) {
				i = rule.skipTo - 1
			}
		case cidrMatch:
			if rule.matches(addr) {
				return rule.result, true, nil
			}
		}
	}
	return "", false, nil
}

// matches reports whether addr satisfies the rule's pattern. A pattern of
// the other address family never matches, even when negated.
func (r *cidrRule) matches(addr netip.Addr) bool {
	if r.prefix.Addr().Is4() != addr.Is4() {
		return false
	}
	return r.prefix.Contains(addr) != r.negate
}

func (t *cidrTable) Spec() string       { return t.spec }
func (t *cidrTable) Close() error       { return nil }
func (t *cidrTable) Files() []string    { return t.files }
func (t *cidrTable) Warnings() []string { return t.warnings }
