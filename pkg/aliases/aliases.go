// Package aliases parses aliases(5) files ("name: value, value") and
// alias values (addresses, |commands, /files, :include:/files), as
// postalias(1) builds them and local(8) delivers them.
package aliases

import (
	"fmt"
	"io"
	"strings"

	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/rfc822"
)

// Entry is one alias.
type Entry struct {
	// Name is the alias name with quotes removed, as written (not folded).
	Name string
	// Value is the normalised value postalias stores: items separated by
	// ", ", words by one space (see NormalizeValue).
	Value string
	// Line is the line the entry starts on.
	Line int
}

// Warning is a problem with one line, which was skipped.
type Warning struct {
	File string
	Line int    // 0 when not about one line
	Text string // Postfix's words
}

// String formats the warning as "FILE, line N: TEXT".
func (w Warning) String() string {
	if w.Line == 0 {
		return w.Text
	}
	return fmt.Sprintf("%s, line %d: %s", w.File, w.Line, w.Text)
}

// Scan reads an aliases file and calls entry for each alias and warn for
// each skipped line, in file order. Continuation lines (starting with
// whitespace) and comment lines work as in other Postfix tables. Lines
// without "name: value" and names that are not local are skipped with a
// warning, and so are lines that are not valid UTF-8 when utf8Only is
// set (SMTPUTF8 mode). Duplicates are passed on; the caller decides.
func Scan(r io.Reader, file string, utf8Only bool, entry func(Entry), warn func(Warning)) error {
	warnText := func(text string) { warn(Warning{File: file, Text: text}) }
	return maps.ReadLogicalLines(r, file, maps.RequireUTF8(utf8Only, file, func(l maps.LogicalLine) {
		name, value, problem := ParseLine(l.Text)
		if problem != "" {
			warn(Warning{File: file, Line: l.Line, Text: problem})
			return
		}
		entry(Entry{Name: name, Value: value, Line: l.Line})
	}, warnText), warnText)
}

// Parse reads a whole aliases file (see Scan).
func Parse(r io.Reader, file string, utf8Only bool) ([]Entry, []Warning, error) {
	var entries []Entry
	var warnings []Warning
	err := Scan(r, file, utf8Only,
		func(e Entry) { entries = append(entries, e) },
		func(w Warning) { warnings = append(warnings, w) })
	return entries, warnings, err
}

// ParseLine splits one logical line "name: value" into the unquoted name
// and the normalised value. problem is Postfix's complaint when the line
// is not a usable alias.
func ParseLine(line string) (name, value, problem string) {
	tokens := tokenize(line)
	colon := -1
	for i, t := range tokens {
		if t.Is(':') {
			colon = i
			break
		}
	}
	if colon <= 0 || colon == len(tokens)-1 {
		return "", "", "need name:value pair"
	}
	for _, t := range tokens[:colon] {
		if t.Is('@') {
			return "", "", "name must be local"
		}
	}
	return externalize(tokens[:colon], true), externalize(tokens[colon+1:], false), ""
}

// NormalizeValue rewrites an alias value as postalias stores it, e.g.
// "a  ,b\t c" becomes "a, b c".
func NormalizeValue(value string) string {
	return externalize(tokenize(value), false)
}

// Kind is what an alias value item delivers to.
type Kind int

const (
	// Address forwards to another address (local or remote).
	Address Kind = iota
	// Command pipes the message to a shell command (|command).
	Command
	// File appends to a file, or a maildir when it ends in "/" (/path).
	File
	// Include reads more items from a file (:include:/path).
	Include
)

func (k Kind) String() string {
	switch k {
	case Command:
		return "command"
	case File:
		return "file"
	case Include:
		return "include"
	default:
		return "address"
	}
}

// Item is one element of an alias value.
type Item struct {
	Kind Kind
	// Text is the command (without "|"), the path (for File and Include,
	// without ":include:"), or the address, all with quotes removed.
	Text string
}

// ParseValue splits an alias value (or a .forward or :include: file's
// contents) into items on commas outside quotes, comments and brackets.
// "|cmd" is a command, "/path" a file, ":include:/path" an include, and
// anything else an address; quotes are removed first, so `"|cmd arg"`
// and `|"cmd arg"` are both the command "cmd arg". For an address,
// comments are dropped and "Name <addr>" gives addr.
func ParseValue(value string) []Item {
	var items []Item
	var group []token
	flush := func() {
		if item, ok := classify(group); ok {
			items = append(items, item)
		}
		group = group[:0]
	}
	for _, t := range tokenize(value) {
		if t.Is(',') {
			flush()
			continue
		}
		group = append(group, t)
	}
	flush()
	return items
}

// classify turns the tokens of one item into an Item.
func classify(tokens []token) (Item, bool) {
	text := externalize(tokens, true)
	switch {
	case text == "":
		return Item{}, false
	case strings.HasPrefix(text, "|"):
		return Item{Kind: Command, Text: text[1:]}, true
	case strings.HasPrefix(text, ":include:"):
		return Item{Kind: Include, Text: strings.TrimSpace(text[len(":include:"):])}, true
	case strings.HasPrefix(text, "/"):
		return Item{Kind: File, Text: text}, true
	}
	address := externalize(addressTokens(tokens), true)
	if address == "" {
		return Item{}, false
	}
	return Item{Kind: Address, Text: address}, true
}

// addressTokens drops comments and, for "phrase <route-addr>", keeps
// only what is inside the angle brackets.
func addressTokens(tokens []token) []token {
	var kept []token
	for _, t := range tokens {
		if t.Kind != rfc822.Comment {
			kept = append(kept, t)
		}
	}
	open, close := -1, -1
	for i, t := range kept {
		if t.Is('<') && open < 0 {
			open = i
		} else if t.Is('>') && open >= 0 {
			close = i
			break
		}
	}
	if open >= 0 && close > open {
		return kept[open+1 : close]
	}
	return kept
}
