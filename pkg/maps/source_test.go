// Tests of source-file parsing against what Postfix 3.7's postmap does.

package maps

import (
	"reflect"
	"strings"
	"testing"
)

func TestScanSource(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		entries  []SourceEntry
		warnings []string
	}{
		{
			name:    "plain entries and surrounding whitespace",
			input:   "key1 val1\nKEY2   val2  \nk3 v3\r\n",
			entries: []SourceEntry{{"key1", "val1", 1}, {"KEY2", "val2", 2}, {"k3", "v3", 3}},
		},
		{
			name:    "comments and blank lines, indented comment inside a continuation",
			input:   "# c\n  # indented\n\nfoo bar\n  # inside\n  more\n",
			entries: []SourceEntry{{"foo", "bar  more", 4}},
		},
		{
			name:    "continuation keeps whitespace, drops the newline",
			input:   "cont first,   \n   second\n",
			entries: []SourceEntry{{"cont", "first,      second", 1}},
		},
		{
			name:    "blank line does not end a logical line",
			input:   "a b\n\n  c\n",
			entries: []SourceEntry{{"a", "b  c", 1}},
		},
		{
			name:    "value on the continuation line",
			input:   "bad\n  cont\n",
			entries: []SourceEntry{{"bad", "cont", 1}},
		},
		{
			name:  "quoted keys keep their quotes",
			input: "\"quoted key\" qv\n\"a b\"c value\n\"esc\\\"q\" v2\na\"b c\"d v\n\"\" empty\n",
			entries: []SourceEntry{
				{`"quoted key"`, "qv", 1}, {`"a b"c`, "value", 2}, {`"esc\"q"`, "v2", 3},
				{`a"b c"d`, "v", 4}, {`""`, "empty", 5},
			},
		},
		{
			name:     "unbalanced quote",
			input:    "\"unterminated value\nx\"y v\nok v\n",
			entries:  []SourceEntry{{"ok", "v", 3}},
			warnings: []string{`f, line 1: unbalanced '"' in '"unterminated value' -- ignoring this line`, `f, line 2: unbalanced '"' in 'x"y v' -- ignoring this line`},
		},
		{
			name:     "missing value, backslash escapes the space",
			input:    "badline\nz\\ v\nk\tv\\\n  w\n",
			entries:  []SourceEntry{{"k", "v\\  w", 3}},
			warnings: []string{"f, line 1: expected format: key whitespace value", "f, line 2: expected format: key whitespace value"},
		},
		{
			name:     "malformed entry spanning lines is reported at its first line",
			input:    "ok v\nbad2\n\n  # c\n  \nnext v\n",
			entries:  []SourceEntry{{"ok", "v", 1}, {"next", "v", 6}},
			warnings: []string{"f, line 2: expected format: key whitespace value"},
		},
		{
			name:     "first line indented",
			input:    "  start line that is quite long indeed more than thirty chars\n  cont\nok v\n  foo bar\n",
			entries:  []SourceEntry{{"ok", "v  foo bar", 3}},
			warnings: []string{`f: logical line must not start with whitespace: "  start line that is quite lon..."`},
		},
		{
			name:     "short indented first line is not abbreviated",
			input:    "  foo bar\n",
			warnings: []string{`f: logical line must not start with whitespace: "  foo bar"`},
		},
		{
			name:     "aliases-style record",
			input:    "a: b\n",
			entries:  []SourceEntry{{"a:", "b", 1}},
			warnings: []string{`f, line 1: record is in "key: value" format; is this an alias file?`},
		},
		{
			name:    "last line without newline, value with inner whitespace",
			input:   "key2 value # not comment",
			entries: []SourceEntry{{"key2", "value # not comment", 1}},
		},
		{
			name:    "duplicates are passed on",
			input:   "dup one\ndup two\n",
			entries: []SourceEntry{{"dup", "one", 1}, {"dup", "two", 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, warnings, err := ParseSource(strings.NewReader(tt.input), "f", false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(entries, tt.entries) {
				t.Errorf("entries = %+v, want %+v", entries, tt.entries)
			}
			var texts []string
			for _, w := range warnings {
				texts = append(texts, w.String())
			}
			if !reflect.DeepEqual(texts, tt.warnings) {
				t.Errorf("warnings = %q, want %q", texts, tt.warnings)
			}
		})
	}
}

func TestSourceWarningMalformed(t *testing.T) {
	_, warnings, _ := ParseSource(strings.NewReader("lonely\n\"x v\n"), "f", false)
	if len(warnings) != 2 || !warnings[0].Malformed() || warnings[1].Malformed() {
		t.Fatalf("Malformed() wrong for %q", warnings)
	}
}

func TestFoldKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"User@Example.COM", "user@example.com"},
		{"ÄB", "Äb"}, // ASCII only, as Postfix without SMTPUTF8
		{`"Quoted KEY"`, `"quoted key"`},
	}
	for _, tt := range tests {
		if got := FoldKey(tt.in); got != tt.want {
			t.Errorf("FoldKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFoldModes(t *testing.T) {
	tests := []struct {
		in   string
		opts Options
		want string
	}{
		{"STRAßE", Options{}, "straße"},
		{"STRAßE", Options{UTF8: true}, "strasse"},
		{"ΣX", Options{UTF8: true}, "σx"},
		{"MiXed", Options{UTF8: true}, "mixed"},
		{"MiXed", Options{NoFold: true, UTF8: true}, "MiXed"},
	}
	for _, tt := range tests {
		if got := Fold(tt.in, tt.opts); got != tt.want {
			t.Errorf("Fold(%q, %+v) = %q, want %q", tt.in, tt.opts, got, tt.want)
		}
	}
}

func TestScanSourceUTF8(t *testing.T) {
	input := "k\xff v\n\xfe\xff\n  cont\nok v\n"
	for _, tt := range []struct {
		utf8Only bool
		entries  int
		warnings []string
	}{
		{false, 3, nil},
		{true, 1, []string{`f, line 1: non-UTF-8 input "k? v" -- ignoring this line`, `f, line 2: non-UTF-8 input "??  cont" -- ignoring this line`}},
	} {
		entries, warnings, err := ParseSource(strings.NewReader(input), "f", tt.utf8Only)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, w := range warnings {
			texts = append(texts, w.String())
		}
		if len(entries) != tt.entries || !reflect.DeepEqual(texts, tt.warnings) {
			t.Errorf("utf8Only=%v: %d entries, warnings %q; want %d, %q", tt.utf8Only, len(entries), texts, tt.entries, tt.warnings)
		}
	}
}
