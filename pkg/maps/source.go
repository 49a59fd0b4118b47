// Source-file parsing shared by postmap and texthash: logical lines and
// "key whitespace value" entries, with Postfix's warnings.

package maps

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
)

// LogicalLine is one entry of a Postfix-style source file after comment
// lines and blank lines are dropped and continuation lines (those that
// start with whitespace) are joined on.
type LogicalLine struct {
	// Text is the joined text. Only the newlines are removed: the
	// whitespace that starts a continuation line is kept.
	Text string
	// Line is the number of the line the entry starts on, from 1.
	Line int
}

// ReadLogicalLines reads r and calls fn for every logical line.
// A logical line that starts with whitespace (there is no line before it
// to continue) is reported through warn, in Postfix's words, and skipped.
// file names the input in that warning.
func ReadLogicalLines(r io.Reader, file string, fn func(LogicalLine), warn func(string)) error {
	reader := bufio.NewReader(r)
	var current strings.Builder
	start, lineno := 0, 0
	flush := func() {
		if start == 0 {
			return
		}
		text := current.String()
		if text != "" && isSpace(text[0]) {
			warn(fmt.Sprintf("%s: logical line must not start with whitespace: \"%s\"", file, abbreviate(text, 30)))
		} else {
			fn(LogicalLine{Text: text, Line: start})
		}
		current.Reset()
		start = 0
	}
	for {
		line, err := reader.ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %s: %w", file, err)
		}
		if line == "" && err == io.EOF {
			break
		}
		lineno++
		line = strings.TrimSuffix(line, "\n")
		trimmed := strings.TrimLeft(line, " \t\r\f\v")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if isSpace(line[0]) && start != 0 {
			current.WriteString(line)
			continue
		}
		flush()
		start = lineno
		current.WriteString(line)
	}
	flush()
	return nil
}

// abbreviate shortens s to n bytes followed by "..." as Postfix does in
// its "%.30s..." warnings.
func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// RequireUTF8 wraps fn for ReadLogicalLines so that, when on is set
// (SMTPUTF8 mode), a logical line that is not valid UTF-8 is reported
// through warn in Postfix's words and skipped.
func RequireUTF8(on bool, file string, fn func(LogicalLine), warn func(string)) func(LogicalLine) {
	if !on {
		return fn
	}
	return func(l LogicalLine) {
		if !utf8.ValidString(l.Text) {
			warn(fmt.Sprintf("%s, line %d: non-UTF-8 input \"%s\" -- ignoring this line", file, l.Line, markInvalidUTF8(l.Text)))
			return
		}
		fn(l)
	}
}

// markInvalidUTF8 replaces each byte that is not part of valid UTF-8
// with '?', as Postfix prints such input.
func markInvalidUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte('?')
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// SourceEntry is one "key value" entry of a table source file.
type SourceEntry struct {
	Key   string // as written (quotes kept), not yet case-folded
	Value string // surrounding whitespace removed
	Line  int
}

// SplitKeyValue splits a logical line into key and value. The key ends
// at the first whitespace that is not inside double quotes or escaped by
// a backslash; quotes and backslashes stay part of the key, as in Postfix.
// The problem text, when ok is false, is worded as Postfix words it
// without the file and line prefix.
func SplitKeyValue(text string) (key, value string, problem string, ok bool) {
	quoted := false
	end := len(text)
scan:
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && isSpace(c):
			end = i
			break scan
		}
	}
	if quoted {
		return "", "", fmt.Sprintf("unbalanced '\"' in '%s' -- ignoring this line", text), false
	}
	key = text[:end]
	value = strings.Trim(text[end:], " \t\r\n\f\v")
	if value == "" {
		return "", "", malformedLine, false
	}
	return key, value, "", true
}

// malformedLine is Postfix's complaint about a line without a value.
const malformedLine = "expected format: key whitespace value"

// aliasStyleRecord is Postfix's hint that an aliases file was given to
// postmap; the entry is still used, key colon and all.
const aliasStyleRecord = `record is in "key: value" format; is this an alias file?`

// SourceWarning is a problem found in a source file.
type SourceWarning struct {
	File string
	Line int    // 0 when the warning is not about one line
	Text string // Postfix's words, without the file and line
}

// String formats the warning as "FILE, line N: TEXT".
func (w SourceWarning) String() string {
	if w.Line == 0 {
		return w.Text
	}
	return fmt.Sprintf("%s, line %d: %s", w.File, w.Line, w.Text)
}

// Malformed reports whether the warning is the "expected format" one,
// which texthash words with a trailing "-- ignoring this line" and
// postmap without.
func (w SourceWarning) Malformed() bool { return w.Text == malformedLine }

// ScanSource reads a table source file and calls entry for each entry and
// warn for each skipped or suspicious line, in file order. Duplicates are
// passed on. With utf8Only, lines that are not valid UTF-8 are skipped.
func ScanSource(r io.Reader, file string, utf8Only bool, entry func(SourceEntry), warn func(SourceWarning)) error {
	warnText := func(text string) { warn(SourceWarning{File: file, Text: text}) }
	return ReadLogicalLines(r, file, RequireUTF8(utf8Only, file, func(l LogicalLine) {
		key, value, problem, ok := SplitKeyValue(l.Text)
		if !ok {
			warn(SourceWarning{File: file, Line: l.Line, Text: problem})
			return
		}
		if strings.HasSuffix(key, ":") {
			warn(SourceWarning{File: file, Line: l.Line, Text: aliasStyleRecord})
		}
		entry(SourceEntry{Key: key, Value: value, Line: l.Line})
	}, warnText), warnText)
}

// ParseSource reads a table source file and returns its entries in file
// order, duplicates included, and the warnings about lines it skipped.
func ParseSource(r io.Reader, file string, utf8Only bool) ([]SourceEntry, []SourceWarning, error) {
	var entries []SourceEntry
	var warnings []SourceWarning
	err := ScanSource(r, file, utf8Only,
		func(e SourceEntry) { entries = append(entries, e) },
		func(w SourceWarning) { warnings = append(warnings, w) })
	return entries, warnings, err
}

// FoldKey folds a key to lower case as Postfix does for indexed and
// in-memory tables: ASCII letters only.
func FoldKey(key string) string {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c >= 'A' && c <= 'Z' {
			b := []byte(key)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return key
}

// FoldKeyUTF8 folds a key with Unicode full case folding ("STRAßE" and
// "strasse" become the same key), as Postfix does in SMTPUTF8 mode.
func FoldKeyUTF8(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			return cases.Fold().String(key)
		}
	}
	return FoldKey(key)
}

// Fold folds key as opts say: not at all with NoFold, else with Unicode
// full case folding in UTF8 mode, else ASCII letters only.
func Fold(key string, opts Options) string {
	switch {
	case opts.NoFold:
		return key
	case opts.UTF8:
		return FoldKeyUTF8(key)
	default:
		return FoldKey(key)
	}
}

// usableKey reports whether a lookup key can match anything: it must not
// be empty, nor invalid UTF-8 in UTF8 mode.
func usableKey(key string, opts Options) bool {
	return key != "" && (!opts.UTF8 || utf8.ValidString(key))
}
