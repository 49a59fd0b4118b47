// regexp.go implements the "regexp" table type of regexp_table(5): ordered POSIX patterns, first match wins.

package maps

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

func init() { Register("regexp", openRegexp) }

// regexpRuleKind tells a pattern rule from the IF and ENDIF statements.
type regexpRuleKind int

const (
	regexpMatch regexpRuleKind = iota
	regexpIf
	regexpEndif
)

// regexpRule is one accepted line of a regexp table.
type regexpRule struct {
	kind   regexpRuleKind
	re     *regexp.Regexp
	negate bool
	result []replacementPart
	// skipTo is, for an IF, the index of the rule after its ENDIF (or
	// the end of the table when the ENDIF is missing).
	skipTo int
}

// regexpTable is an opened regexp table.
type regexpTable struct {
	spec     string
	files    []string
	rules    []regexpRule
	warnings []string
}

// openRegexp opens regexp:/path or the inline form regexp:{ {/re/ r}, ... }.
func openRegexp(name string, opts Options) (Table, error) {
	t := &regexpTable{spec: "regexp:" + name}
	b := newRegexpBuilder(t, name)
	b.noSubstitution = opts.NoRegexpSubstitution
	if strings.HasPrefix(name, "{") {
		items, err := splitInlineRules(name)
		if err != nil {
			return nil, fmt.Errorf("regexp map: %w", err)
		}
		for i, item := range items {
			if item != "" { // an empty {} still counts as a line
				b.addLine(item, i+1)
			}
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, describeErrno(err))
		}
		defer f.Close()
		if err := b.readSource(f); err != nil {
			return nil, err
		}
		t.files = []string{name}
	}
	b.finish()
	return t, nil
}

// Lookup returns the result of the first rule that matches the whole key.
func (t *regexpTable) Lookup(key string) (string, bool, error) {
	subject := bytesAsRunes(key)
	for i := 0; i < len(t.rules); i++ {
		rule := &t.rules[i]
		switch rule.kind {
		case regexpEndif:
			continue
		case regexpIf:
			if rule.re.MatchString(subject) == rule.negate {
				i = rule.skipTo - 1
			}
			continue
		}
		if rule.negate {
			if !rule.re.MatchString(subject) {
				return expandReplacement(rule.result, subject, nil), true, nil
			}
			continue
		}
		if m := rule.re.FindStringSubmatchIndex(subject); m != nil {
			return expandReplacement(rule.result, subject, m), true, nil
		}
	}
	return "", false, nil
}

func (t *regexpTable) Spec() string       { return t.spec }
func (t *regexpTable) Close() error       { return nil }
func (t *regexpTable) Files() []string    { return t.files }
func (t *regexpTable) Warnings() []string { return t.warnings }

// regexpBuilder turns source lines into rules, pairing IF with ENDIF.
type regexpBuilder struct {
	table          *regexpTable
	name           string
	openIfs        []regexpOpenIf
	noSubstitution bool // Options.NoRegexpSubstitution
}

// regexpOpenIf is an IF still waiting for its ENDIF.
type regexpOpenIf struct{ rule, line int }

func newRegexpBuilder(t *regexpTable, name string) *regexpBuilder {
	return &regexpBuilder{table: t, name: name}
}

// readSource adds the rules of a regexp table source file.
func (b *regexpBuilder) readSource(r io.Reader) error {
	return ReadLogicalLines(r, b.name, func(l LogicalLine) {
		b.addLine(strings.TrimRight(l.Text, " \t\r\n\f\v"), l.Line)
	}, func(w string) { b.table.warnings = append(b.table.warnings, w) })
}

// warn records a warning about a line, in Postfix's words.
func (b *regexpBuilder) warn(line int, format string, args ...any) {
	b.table.warnings = append(b.table.warnings,
		fmt.Sprintf("regexp map %s, line %d: ", b.name, line)+fmt.Sprintf(format, args...))
}

// addLine parses one logical line: a rule, IF or ENDIF.
func (b *regexpBuilder) addLine(text string, line int) {
	switch {
	case hasKeyword(text, "if"):
		b.addIf(text[len("if"):], line)
	case hasKeyword(text, "endif"):
		b.addEndif(text[len("endif"):], line)
	case text != "" && (text[0] == '!' || !isASCIIAlnum(text[0])):
		b.addRule(text, line)
	default:
		b.warn(line, "ignoring unrecognized request")
	}
}

func (b *regexpBuilder) addIf(text string, line int) {
	pat, ok := b.parsePattern(text, line)
	if !ok {
		return
	}
	if pat.rest != "" {
		b.warn(line, "ignoring extra text after IF statement: \"%s\"", pat.rest)
		b.warn(line, "do not prepend whitespace to statements between IF and ENDIF")
	}
	re, _, ok := b.compile(pat, line)
	if !ok {
		return
	}
	b.openIfs = append(b.openIfs, regexpOpenIf{rule: len(b.table.rules), line: line})
	b.table.rules = append(b.table.rules, regexpRule{kind: regexpIf, re: re, negate: pat.negate})
}

func (b *regexpBuilder) addEndif(rest string, line int) {
	if len(b.openIfs) == 0 {
		b.warn(line, "ignoring ENDIF without matching IF")
		return
	}
	if strings.TrimLeft(rest, " \t") != "" {
		b.warn(line, "ignoring extra text after ENDIF")
	}
	open := b.openIfs[len(b.openIfs)-1]
	b.openIfs = b.openIfs[:len(b.openIfs)-1]
	b.table.rules = append(b.table.rules, regexpRule{kind: regexpEndif})
	b.table.rules[open.rule].skipTo = len(b.table.rules)
}

func (b *regexpBuilder) addRule(text string, line int) {
	pat, ok := b.parsePattern(text, line)
	if !ok {
		return
	}
	if pat.rest == "" {
		b.warn(line, "no replacement text: using empty string")
	}
	result, problems := parseReplacement(pat.rest)
	if len(problems) > 0 {
		for _, p := range problems {
			if p.general {
				b.table.warnings = append(b.table.warnings, p.text)
			} else {
				b.warn(line, "%s", p.text)
			}
		}
		b.warn(line, "bad replacement syntax: skipping this rule")
		return
	}
	maxGroup := highestGroup(result)
	if pat.negate && maxGroup > 0 {
		b.warn(line, "$number found in negative match replacement text: skipping this rule")
		return
	}
	if b.noSubstitution && maxGroup > 0 {
		b.warn(line, "regular expression substitution is not allowed: skipping this rule")
		return
	}
	re, groups, ok := b.compile(pat, line)
	if !ok {
		return
	}
	if maxGroup > groups {
		b.warn(line, "out of range replacement index \"%d\": skipping this rule", maxGroup)
		return
	}
	b.table.rules = append(b.table.rules, regexpRule{kind: regexpMatch, re: re, negate: pat.negate, result: result})
}

// compile compiles a parsed pattern, warning as Postfix does on failure.
func (b *regexpBuilder) compile(pat regexpPattern, line int) (*regexp.Regexp, int, bool) {
	re, groups, err := compilePOSIX(pat.source, pat.flags)
	if err != nil {
		b.warn(line, "%s", err)
		return nil, 0, false
	}
	return re, groups, true
}

// finish reports IFs left open, innermost first; they stay in force to
// the end of the table.
func (b *regexpBuilder) finish() {
	for i := len(b.openIfs) - 1; i >= 0; i-- {
		open := b.openIfs[i]
		b.warn(open.line, "IF has no matching ENDIF")
		b.table.rules[open.rule].skipTo = len(b.table.rules)
	}
}

// regexpPattern is the parsed "[!]/pattern/flags" part of a line.
type regexpPattern struct {
	source string
	flags  posixFlags
	negate bool
	rest   string // the text after the flags, trimmed
}

// parsePattern parses "[!]... DELIM pattern DELIM flags rest".
func (b *regexpBuilder) parsePattern(text string, line int) (regexpPattern, bool) {
	pat := regexpPattern{flags: posixFlags{extended: true, icase: true}}
	text = strings.TrimLeft(text, " \t")
	for strings.HasPrefix(text, "!") {
		pat.negate = !pat.negate
		text = strings.TrimLeft(text[1:], " \t")
	}
	if text == "" {
		b.warn(line, "no regexp: skipping this rule")
		return pat, false
	}
	delim := text[0]
	end := -1
	for i := 1; i < len(text); i++ {
		if text[i] == '\\' && i+1 < len(text) {
			i++
			continue
		}
		if text[i] == delim {
			end = i
			break
		}
	}
	if end < 0 {
		b.warn(line, "no closing regexp delimiter \"%c\": skipping this rule", delim)
		return pat, false
	}
	pat.source = text[1:end]
	i := end + 1
	for ; i < len(text) && text[i] != ' ' && text[i] != '\t'; i++ {
		switch text[i] {
		case 'i':
			pat.flags.icase = !pat.flags.icase
		case 'x':
			pat.flags.extended = !pat.flags.extended
		case 'm':
			pat.flags.newline = !pat.flags.newline
		default:
			b.warn(line, "unknown regexp option \"%c\": skipping this rule", text[i])
			return pat, false
		}
	}
	pat.rest = strings.Trim(text[i:], " \t")
	return pat, true
}

// hasKeyword reports whether text starts with keyword (any case) followed
// by the end of the text or a character that cannot continue a word.
func hasKeyword(text, keyword string) bool {
	if len(text) < len(keyword) || !strings.EqualFold(text[:len(keyword)], keyword) {
		return false
	}
	return len(text) == len(keyword) || !isASCIIAlnum(text[len(keyword)])
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
