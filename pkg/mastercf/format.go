// Printing entries the way "postconf -M", "-F" and "-P" print them.

package mastercf

import (
	"sort"
	"strings"
)

// Layout of postconf's output: the column where each of the first eight
// fields starts, the indent of folded lines, and the longest folded line.
var columnStops = [...]int{0, 11, 17, 25, 33, 41, 49, 57}

const (
	foldIndent = "    "
	// argLineLimit bounds lines of folded arguments (-Mf, -Ff command).
	argLineLimit = 79
	// valueLineLimit bounds a "name = value" line (-Pf, and the first word
	// of a -Ff value).
	valueLineLimit = 80
)

// FieldNames returns the master.cf fields as "postconf -F" names them, in
// order: service, type, private, unprivileged, chroot, wakeup, process_limit,
// command.
func FieldNames() []string { return append([]string(nil), columns[:]...) }

// lineBuilder writes text while tracking the current column as postconf
// counts it.
type lineBuilder struct {
	b   strings.Builder
	col int
	// fresh is set while a folded line holds nothing but its indent.
	fresh bool
}

func (l *lineBuilder) write(s string) {
	l.b.WriteString(s)
	l.col += len(s)
	l.fresh = l.fresh && s == ""
}

func (l *lineBuilder) newline() {
	l.b.WriteString("\n" + foldIndent)
	l.col = len(foldIndent)
	l.fresh = true
}

// writeArgs appends the command's argument units. When folding, each "-o"
// override sits on a line of its own and a unit goes to a new line when it
// would pass argLineLimit; like postconf, that test leaves out the braces
// around a word with blanks (so such a line can reach two columns more).
func (l *lineBuilder) writeArgs(items []argItem, fold bool) {
	breakNext := false
	for _, it := range items {
		switch {
		case fold && (it.override || breakNext):
			l.newline()
		case fold && l.col+1+it.width > argLineLimit:
			l.newline()
		case !l.fresh:
			l.write(" ")
		}
		l.write(it.text)
		breakNext = it.override
	}
}

func (e *Entry) argItems() []argItem {
	words := e.words
	if words == nil {
		words = e.Args
	}
	items, _ := readArgs(words, func(string) {})
	return items
}

// Format returns the entry as "postconf -M" prints it (with fold, as
// "postconf -Mf"), ending in a newline.
func (e *Entry) Format(fold bool) string {
	var l lineBuilder
	for i, field := range e.columnValues() {
		if i > 0 {
			if l.col+1 > columnStops[i] {
				l.write(" ")
			} else {
				l.write(strings.Repeat(" ", columnStops[i]-l.col))
			}
		}
		l.write(field)
	}
	l.writeArgs(e.argItems(), fold)
	l.b.WriteString("\n")
	return l.b.String()
}

func (e *Entry) columnValues() [8]string {
	return [8]string{e.Service, string(e.Type), e.Private, e.Unprivileged,
		e.Chroot, e.Wakeup, e.ProcessLimit, e.Command}
}

// Field returns the value "postconf -F" shows for a field named in
// FieldNames: the column as written, or for "command" the command and its
// arguments. ok is false for an unknown field name.
func (e *Entry) Field(name string) (value string, ok bool) {
	for i, field := range columns {
		if field != name {
			continue
		}
		value = e.columnValues()[i]
		if name == "command" {
			for _, it := range e.argItems() {
				value += " " + it.text
			}
		}
		return value, true
	}
	return "", false
}

// FormatField returns "service/type/name = value" as "postconf -F" prints it
// (with fold, as "postconf -Ff"), ending in a newline. name must be one of
// FieldNames().
func (e *Entry) FormatField(name string, fold bool) string {
	var l lineBuilder
	l.write(e.Key() + "/" + name + " = ")
	// postconf moves a value that does not fit onto the next line even
	// without -f; only the arguments after a command fold with -f alone.
	first := e.columnValues()[indexOfField(name)]
	if l.col+len(first) > valueLineLimit {
		l.newline()
	}
	l.write(first)
	if name == "command" {
		l.writeArgs(e.argItems(), fold)
	}
	l.b.WriteString("\n")
	return l.b.String()
}

func indexOfField(name string) int {
	for i, field := range columns {
		if field == name {
			return i
		}
	}
	return len(columns) - 1
}

// Parameters returns the entry's "-o" overrides as "postconf -P" lists them:
// sorted by name, a repeated name keeping its last value.
func (e *Entry) Parameters() []Option {
	byName := make(map[string]string, len(e.Options))
	for _, o := range e.Options {
		byName[o.Name] = o.Value
	}
	out := make([]Option, 0, len(byName))
	for name, value := range byName {
		out = append(out, Option{Name: name, Value: value})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// FormatParameter returns "service/type/name = value" as "postconf -P"
// prints it (with fold, as "postconf -Pf"), ending in a newline. Like
// postconf, it separates the words of the value by single spaces.
func (e *Entry) FormatParameter(p Option, fold bool) string {
	return FormatNameValue(e.Key()+"/"+p.Name, p.Value, fold)
}

// FormatNameValue prints "name = value" as postconf prints a parameter: the
// words of the value separated by single spaces and, with fold, lines kept
// within 80 columns where the words allow, continued with a 4-space indent.
func FormatNameValue(name, value string, fold bool) string {
	var l lineBuilder
	l.write(name)
	for _, word := range append([]string{"="}, splitBlanks(value)...) {
		if fold && l.col+1+len(word) > valueLineLimit {
			l.newline()
			l.write(word)
		} else {
			l.write(" " + word)
		}
	}
	l.b.WriteString("\n")
	return l.b.String()
}

// splitBlanks splits s into the words between master.cf blanks.
func splitBlanks(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && strings.IndexByte(blanks, byte(r)) >= 0 })
}
