// regexp_test.go checks the regexp table against answers taken from the real Postfix 3.7 postmap.
package maps

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ruleTableCase is one table source with the lookups and open-time
// warnings the real postmap gave for it. FILE in a warning stands for the
// table's path. inline, when set, is the name of an inline table instead.
type ruleTableCase struct {
	name     string
	source   string
	inline   string
	fatal    string
	found    map[string]string
	notFound []string
	warnings []string
}

// checkRuleTableCases opens each case as a typ table and compares every
// lookup and warning with the expectations.
func checkRuleTableCases(t *testing.T, typ string, cases []ruleTableCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.inline
			if name == "" {
				name = filepath.Join(t.TempDir(), "table")
				if err := os.WriteFile(name, []byte(tc.source), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			table, err := Open(typ+":"+name, Options{})
			if tc.fatal != "" {
				if err == nil || err.Error() != tc.fatal {
					t.Fatalf("open error = %v, want %q", err, tc.fatal)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer table.Close()
			var warnings []string
			for _, w := range WarningsOf(table) {
				if tc.inline == "" {
					w = strings.ReplaceAll(w, name, "FILE")
				}
				warnings = append(warnings, w)
			}
			if !slices.Equal(warnings, tc.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", warnings, tc.warnings)
			}
			for key, want := range tc.found {
				got, ok, err := table.Lookup(key)
				if err != nil || !ok || got != want {
					t.Errorf("Lookup(%q) = %q, %v, %v; want %q, true, nil", key, got, ok, err, want)
				}
			}
			for _, key := range tc.notFound {
				if got, ok, err := table.Lookup(key); err != nil || ok {
					t.Errorf("Lookup(%q) = %q, %v, %v; want not found", key, got, ok, err)
				}
			}
		})
	}
}

// TestRegexpTableLikePostfix holds cases whose expectations are the real
// postmap -q answers and warnings.
func TestRegexpTableLikePostfix(t *testing.T) {
	checkRuleTableCases(t, "regexp", regexpCasesFromPostfix)
}

// TestRegexpInlineLikePostfix holds inline regexp:{...} cases answered by
// the real postmap.
func TestRegexpInlineLikePostfix(t *testing.T) {
	checkRuleTableCases(t, "regexp", regexpInlineCasesFromPostfix)
}

// TestRegexpRefusedConstructs covers what glibc accepts but Go's RE2
// engine cannot do; Postern skips such rules with a warning.
func TestRegexpRefusedConstructs(t *testing.T) {
	checkRuleTableCases(t, "regexp", []ruleTableCase{{
		name:     "back-references",
		source:   "/^(a)\\1$/ r1\n/^\\(b\\)\\1$/x r2\n/a/ r3\n",
		found:    map[string]string{"aa": "r3"},
		notFound: []string{"bb"},
		warnings: []string{
			`regexp map FILE, line 1: back-reference "\1" is not supported by Postern`,
			`regexp map FILE, line 2: back-reference "\1" is not supported by Postern`,
		},
	}, {
		name:     "word start and end",
		source:   "/\\<ab/ r1\n/ab\\>/ r2\n/\\bab\\b/ r3\n",
		found:    map[string]string{"x ab y": "r3"},
		notFound: []string{"xab"},
		warnings: []string{
			`regexp map FILE, line 1: word-boundary operator "\<" is not supported by Postern; use "\b"`,
			`regexp map FILE, line 2: word-boundary operator "\>" is not supported by Postern; use "\b"`,
		},
	}, {
		name:     "repetition counts above 1000",
		source:   "/^a{1001}$/ r1\n/^a{1000}$/ r2\n",
		found:    map[string]string{strings.Repeat("a", 1000): "r2"},
		notFound: []string{strings.Repeat("a", 1001)},
		warnings: []string{"regexp map FILE, line 1: repetition count above 1000 is not supported by Postern"},
	}, {
		name:     "buffer anchors",
		source:   "/\\`a/ r1\n/b\\'/ r2\n",
		found:    map[string]string{"ax": "r1", "xb": "r2"},
		notFound: []string{"xa", "bx"},
	}})
}

func TestRegexpOpenMissingFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "absent")
	_, err := Open("regexp:"+name, Options{})
	if err == nil || err.Error() != "open "+name+": No such file or directory" || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open error = %v", err)
	}
}

func TestRegexpFilesAndSpec(t *testing.T) {
	name := filepath.Join(t.TempDir(), "table")
	if err := os.WriteFile(name, []byte("/a/ b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	table, err := Open("regexp:"+name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := FilesOf(table); !slices.Equal(got, []string{name}) {
		t.Errorf("Files() = %q, want [%q]", got, name)
	}
	if table.Spec() != "regexp:"+name {
		t.Errorf("Spec() = %q", table.Spec())
	}
	inline, err := Open("regexp:{ {/a/ b} }", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := FilesOf(inline); got != nil {
		t.Errorf("inline Files() = %q, want none", got)
	}
}

// regexpCasesFromPostfix: expectations are Postfix 3.7's postmap -q output.
var regexpCasesFromPostfix = []ruleTableCase{
	{
		name:     "verified address rewrite and $$",
		source:   "/^(.*)@example\\.com$/ ${1}@example.net\n/^(abc)(def)$/ $2-$1 $$x\n",
		found:    map[string]string{"JOE@EXAMPLE.COM": "JOE@example.net", "abcdef": "def-abc $x"},
		notFound: []string{"joe@example.org"},
	},
	{
		name:   "case-insensitive by default, i flag turns it off",
		source: "/abc/i r1\n/abc/ r2\n",
		found:  map[string]string{"abc": "r1", "ABC": "r2", "xAbCx": "r2"},
	},
	{
		name:     "x flag selects basic syntax",
		source:   "/^a+$/x r1\n/^b\\{2\\}$/x r2\n/^\\(c\\)*d$/x r3 $1\n/^*e/x r4\n/^f\\+$/x r5\n/g\\|h/x r6\n/i$j/x r7\n",
		found:    map[string]string{"a+": "r1", "bb": "r2", "ccd": "r3 c", "*e": "r4", "fff": "r5", "h": "r6", "i$j": "r7"},
		notFound: []string{"aa", "b{2}"},
	},
	{
		name:     "extended syntax by default",
		source:   "/^a b c$/ r1\n/^x{2}$/ r2\n/^(p|q)+$/ r3\n",
		found:    map[string]string{"a b c": "r1", "xx": "r2", "pqp": "r3"},
		notFound: []string{"x{2}"},
	},
	{
		name:     "m flag and newlines",
		source:   "/^a.c$/ r1\n/^a$/m r2\n/^b[^x]c$/m r3\n/^d[^x]e$/ r4\n",
		found:    map[string]string{"a\nc": "r1", "b\na": "r2", "d\ne": "r4"},
		notFound: []string{"b\nc"},
	},
	{
		name:     "first match wins and the whole key is matched",
		source:   "/example/ first\n/example\\.com$/ second\n",
		found:    map[string]string{"user@example.com": "first", "EXAMPLE": "first"},
		notFound: []string{"other"},
	},
	{
		name:     "bracket expressions",
		source:   "/^[]a]+$/ r1\n/^[^]a]+$/ r2\n/^[a-]+$/ r3\n/^[[.b.][=c=]]+$/ r4\n/^[[:digit:][:upper:]]+$/i r5\n/^[[:upper:]]+$/ r6\n",
		found:    map[string]string{"a]": "r1", "bc": "r2", "-a": "r3", "12A": "r5", "xyz": "r2"},
		notFound: []string{"12a", "]b"},
	},
	{
		name:     "escapes: \\d is not a digit class",
		source:   "/^\\d$/ r1\n/^x\\d$/i r2\n/^\\w\\s\\W$/ r3\n/^a\\.b$/ r4\n",
		found:    map[string]string{"xd": "r2", "a .": "r3", "a.b": "r4"},
		notFound: []string{"d", "1", "a b", "axb"},
	},
	{
		name:   "bytes are matched one by one",
		source: "/^.$/ r1\n/^..$/ r2\n/^é$/ r3\n",
		found:  map[string]string{"é": "r2", "É": "r2", "a": "r1"},
	},
	{
		name:   "leftmost-longest submatches",
		source: "/^(a|ab)(c|bcd)(d*)$/ [$1][$2][$3]\n/^(.*)@(.*)$/ $2!$1\n/x(y+|yy)(y*)/ [$1][$2]\n/^(q*)(q*)$/ [$1][$2]\n",
		found:  map[string]string{"abcd": "[a][bcd][]", "a@b@c": "c!a@b", "xyyy": "[yyy][]", "qqq": "[qqq][]"},
	},
	{
		name:   "replacement forms",
		source: "/(a)(b)/ <$(1)> <${2}>$1 $$1 ${1}x\n/(c)(d)?/ [$2]\n/(e)|(f)/ [$1][$2]\n",
		found:  map[string]string{"ab": "<a> <b>a $1 ax", "c": "[]", "f": "[][f]"},
	},
	{
		name:   "replacement errors",
		source: "/(b)/ $\n/(b)/ ${1\n/(b)/ $x\n/(b)/ $0\n/(b)/ $10\n/(b)/ ${10}\n/(b)/ $1$\n/(b)/ $1${}\n/(b)/ $1$(1\n/(b)/ $1$(1}\n/(b)/ ${1:x}\n/(b)/ $1x\n/(b)/ ok\n",
		found:  map[string]string{"b": "ok"},
		warnings: []string{
			"empty macro name: \"$\"",
			"regexp map FILE, line 1: bad replacement syntax: skipping this rule",
			"truncated macro reference: \"${1\"",
			"regexp map FILE, line 2: bad replacement syntax: skipping this rule",
			"regexp map FILE, line 3: non-numeric replacement index \"x\"",
			"regexp map FILE, line 3: bad replacement syntax: skipping this rule",
			"regexp map FILE, line 4: out-of-range replacement index \"0\"",
			"regexp map FILE, line 4: bad replacement syntax: skipping this rule",
			"regexp map FILE, line 5: out of range replacement index \"10\": skipping this rule",
			"regexp map FILE, line 6: out of range replacement index \"10\": skipping this rule",
			"empty macro name: \"$1$\"",
			"regexp map FILE, line 7: bad replacement syntax: skipping this rule",
			"empty macro name: \"$1${}\"",
			"regexp map FILE, line 8: bad replacement syntax: skipping this rule",
			"truncated macro reference: \"$1$(1\"",
			"regexp map FILE, line 9: bad replacement syntax: skipping this rule",
			"truncated macro reference: \"$1$(1}\"",
			"regexp map FILE, line 10: bad replacement syntax: skipping this rule",
			"regexp map FILE, line 11: non-numeric replacement index \"1:x\"",
			"regexp map FILE, line 11: bad replacement syntax: skipping this rule",
			"regexp map FILE, line 12: non-numeric replacement index \"1x\"",
			"regexp map FILE, line 12: bad replacement syntax: skipping this rule",
		},
	},
	{
		name:   "negative patterns",
		source: "!/(a)/ $1\n!/(a)/ $$1 r1\n! /b/ r2\n!!/c/ r3\n",
		found:  map[string]string{"x": "$1 r1", "a": "r2", "b": "$1 r1", "c": "$1 r1"},
		warnings: []string{
			"regexp map FILE, line 1: $number found in negative match replacement text: skipping this rule",
		},
	},
	{
		name:     "delimiters",
		source:   "#a/b#i r1\n|a\\|b| r2\n/a\\/b/ r3\n/c\\\\/d/ r4\n,e\\,f, r5\n",
		found:    map[string]string{"a/b": "r3", "a|b": "r2", "e,f": "r5"},
		notFound: []string{"a"},
		warnings: []string{
			"regexp map FILE, line 4: unknown regexp option \"d\": skipping this rule",
		},
	},
	{
		name:     "line syntax errors",
		source:   "abc r1\n/abc r2\n/abc/q r3\n/abc/r4\n!\nxax r5\n/x/ r6\n",
		found:    map[string]string{"x": "r6"},
		notFound: []string{"abc"},
		warnings: []string{
			"regexp map FILE, line 1: ignoring unrecognized request",
			"regexp map FILE, line 2: no closing regexp delimiter \"/\": skipping this rule",
			"regexp map FILE, line 3: unknown regexp option \"q\": skipping this rule",
			"regexp map FILE, line 4: unknown regexp option \"r\": skipping this rule",
			"regexp map FILE, line 5: no regexp: skipping this rule",
			"regexp map FILE, line 6: ignoring unrecognized request",
		},
	},
	{
		name:   "empty result",
		source: "/^a$/\n/b/ r2\n",
		found:  map[string]string{"a": "", "b": "r2"},
		warnings: []string{
			"regexp map FILE, line 1: no replacement text: using empty string",
		},
	},
	{
		name:     "if and endif nest",
		source:   "if /a/\nif !/c/\n/b/ r1\nendif\n/./ r2\nendif\n/z/ r3\n",
		found:    map[string]string{"ab": "r1", "abc": "r2", "z": "r3", "az": "r2"},
		notFound: []string{"x", "b"},
	},
	{
		name:     "if and endif keywords",
		source:   "IF /a/\n/b/ r1\nENDIF\nif/c/\n/d/ r2\nendif\nifx\nif\n/e/ r3\nendif\n",
		found:    map[string]string{"ab": "r1", "cd": "r2", "e": "r3"},
		notFound: []string{"b", "d"},
		warnings: []string{
			"regexp map FILE, line 7: ignoring unrecognized request",
			"regexp map FILE, line 8: no regexp: skipping this rule",
			"regexp map FILE, line 10: ignoring ENDIF without matching IF",
		},
	},
	{
		name:     "if extra text and indentation",
		source:   "if /a/ junk\n/b/ r1\nendif\nif /c/\n /d/ r2\nendif\n",
		found:    map[string]string{"ab": "r1"},
		notFound: []string{"b", "cd", "d"},
		warnings: []string{
			"regexp map FILE, line 1: ignoring extra text after IF statement: \"junk\"",
			"regexp map FILE, line 1: do not prepend whitespace to statements between IF and ENDIF",
			"regexp map FILE, line 4: ignoring extra text after IF statement: \"/d/ r2\"",
			"regexp map FILE, line 4: do not prepend whitespace to statements between IF and ENDIF",
		},
	},
	{
		name:     "unbalanced if and endif",
		source:   "endif\n/b/ r1\nif /a/\n/c/ r2\nendif x\n/c/ r3\nif /d/\nif /e/\n/f/ r4\n",
		found:    map[string]string{"b": "r1", "c": "r3", "ac": "r2", "def": "r4"},
		notFound: []string{"f"},
		warnings: []string{
			"regexp map FILE, line 1: ignoring ENDIF without matching IF",
			"regexp map FILE, line 5: ignoring extra text after ENDIF",
			"regexp map FILE, line 8: IF has no matching ENDIF",
			"regexp map FILE, line 7: IF has no matching ENDIF",
		},
	},
	{
		name:   "continuation lines and comments",
		source: "/a/ r1\n r2\n# comment\n\n   r3\n/b/ r4\t \r\n",
		found:  map[string]string{"a": "r1 r2   r3", "b": "r4"},
	},
	{
		name:     "leading whitespace at the start",
		source:   "# c\n  /a/ r1\n/b/ r2\n",
		found:    map[string]string{"b": "r2"},
		notFound: []string{"a"},
		warnings: []string{
			"FILE: logical line must not start with whitespace: \"  /a/ r1\"",
		},
	},
	{
		name:     "invalid patterns",
		source:   "/^a(?=b)/ r1\n/^a(?:b)/ r1\n/^a[/ r1\n/^a(/ r1\n/^a{1,2/ r1\n/^a{2,1}/ r1\n/*a/ r1\n/a|*b/ r1\n/[z-a]/ r1\n/[[:foo:]]/ r1\n/a\\/ r1\n/[[.hyphen.]]/ r1\n/[[:alpha:]-z]/ r1\n/x{/ r1\n/x{}/ r1\n/a{32768}/ r1\n/^(a/ $x\n/(a/\n/[a/ r1\n",
		notFound: []string{"ab", "a"},
		warnings: []string{
			"regexp map FILE, line 1: Invalid preceding regular expression",
			"regexp map FILE, line 2: Invalid preceding regular expression",
			"regexp map FILE, line 3: Invalid regular expression",
			"regexp map FILE, line 4: Unmatched ( or \\(",
			"regexp map FILE, line 5: Unmatched \\{",
			"regexp map FILE, line 6: Invalid content of \\{\\}",
			"regexp map FILE, line 7: Invalid preceding regular expression",
			"regexp map FILE, line 8: Invalid preceding regular expression",
			"regexp map FILE, line 9: Invalid range end",
			"regexp map FILE, line 10: Invalid character class name",
			"regexp map FILE, line 11: no closing regexp delimiter \"/\": skipping this rule",
			"regexp map FILE, line 12: Invalid collation character",
			"regexp map FILE, line 13: Invalid range end",
			"regexp map FILE, line 14: Unmatched \\{",
			"regexp map FILE, line 15: Invalid content of \\{\\}",
			"regexp map FILE, line 16: Regular expression too big",
			"regexp map FILE, line 17: non-numeric replacement index \"x\"",
			"regexp map FILE, line 17: bad replacement syntax: skipping this rule",
			"regexp map FILE, line 18: no replacement text: using empty string",
			"regexp map FILE, line 18: Unmatched ( or \\(",
			"regexp map FILE, line 19: Unmatched [, [^, [:, [., or [=",
		},
	},
	{
		name:   "operators glibc accepts",
		source: "/^a)$/ r1\n/^b**$/ r2\n/^cd*?$/ r3\n/^()e$/ r4\n/^f||g$/ r5\n/^h{,2}$/ r6\n/^(|i)j$/ r7\n",
		found:  map[string]string{"a)": "r1", "bbb": "r2", "cd": "r3", "e": "r4", "g": "r5", "hh": "r5", "j": "r5", "ij": "r5"},
	},
}

// regexpInlineCasesFromPostfix: expectations are Postfix 3.7's postmap -q output.
var regexpInlineCasesFromPostfix = []ruleTableCase{
	{
		name:     "inline rules",
		inline:   "{ {/^(a)b$/ r1 $1}, {/y/ r2} }",
		found:    map[string]string{"ab": "r1 a", "xyz": "r2"},
		notFound: []string{"q"},
	},
	{
		name:     "inline replacement check",
		inline:   "{ {/^(a)b$/ $2}, {/y/ r2} }",
		found:    map[string]string{"xyz": "r2"},
		notFound: []string{"ab"},
		warnings: []string{
			"regexp map { {/^(a)b$/ $2}, {/y/ r2} }, line 1: out of range replacement index \"2\": skipping this rule",
		},
	},
	{
		name:   "inline $$",
		inline: "{ {/^(a)b$/ $$1} }",
		found:  map[string]string{"ab": "$1"},
	},
	{
		name:     "inline if and endif",
		inline:   "{ {if /a/}, {/b/ r1}, {endif} }",
		found:    map[string]string{"ab": "r1"},
		notFound: []string{"b"},
	},
	{
		name:   "inline comma and braces in results",
		inline: "{ {/^(a)b/ r,1}, {/b/ { r2 } } }",
		found:  map[string]string{"ab": "r,1", "b": "{ r2 }"},
	},
	{
		name:     "inline empty table",
		inline:   "{ }",
		notFound: []string{"ab"},
	},
	{
		name:   "inline empty item counts as a line",
		inline: "{ {  } , , {/a(/ r1}, {/b/ r2}}",
		found:  map[string]string{"ab": "r2"},
		warnings: []string{
			"regexp map { {  } , , {/a(/ r1}, {/b/ r2}}, line 2: Unmatched ( or \\(",
		},
	},
	{
		name:   "inline item without brace",
		inline: "{ /^(a)b$/ r1 }",
		fatal:  "regexp map: no '{' at start of text in \"/^(a)b$/\"",
	},
	{
		name:   "inline missing outer brace",
		inline: "{ {/^(a)b/ r1} ",
		fatal:  "regexp map: missing '}' in \"{ {/^(a)b/ r1} \"",
	},
	{
		name:   "inline missing item brace",
		inline: "{ {/a/ r1 }, {/b/ {r2 }",
		fatal:  "regexp map: missing '}' in \"{ {/a/ r1 }, {/b/ {r2 }\"",
	},
	{
		name:   "inline text after item",
		inline: "{{/a/ r1}x}",
		fatal:  "regexp map: syntax error after '}' in \"{/a/ r1}x\"",
	},
	{
		name:   "inline text after table",
		inline: "{{/a/ r1}}x",
		fatal:  "regexp map: syntax error after '}' in \"{{/a/ r1}}x\"",
	},
	{
		name:   "inline items not separated",
		inline: "{ {/a/ r1}{/b/ r2} }",
		fatal:  "regexp map: syntax error after '}' in \"{/a/ r1}{/b/ r2}\"",
	},
}
