// regexp_test.go checks the regexp table against answers taken from the real Postfix 3.7 postmap.

package maps

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ruleTableCase is one table source with the lookups and open-time
// warnings expected for it. FILE in a warning stands for the table's
// path. Inline, when set, is the name of an inline table instead.
type ruleTableCase struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Source   string            `json:"source"`
	Inline   string            `json:"inline"`
	Fatal    string            `json:"fatal"`
	Found    map[string]string `json:"found"`
	NotFound []string          `json:"notFound"`
	Warnings []string          `json:"warnings"`
}

// postfixCasesFile holds regexp and cidr cases whose expectations are the
// real Postfix 3.7 postmap -q answers and warnings, recorded by running
// it. The differential test under tests/ can replay the same file.
const postfixCasesFile = "testdata/rule_tables_postfix.json"

// loadPostfixCases returns the recorded cases for one table type.
func loadPostfixCases(t *testing.T, typ string) []ruleTableCase {
	t.Helper()
	data, err := os.ReadFile(postfixCasesFile)
	if err != nil {
		t.Fatal(err)
	}
	var all, cases []ruleTableCase
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatalf("%s: %v", postfixCasesFile, err)
	}
	for _, c := range all {
		if c.Type == typ {
			cases = append(cases, c)
		}
	}
	if len(cases) == 0 {
		t.Fatalf("%s has no %s cases", postfixCasesFile, typ)
	}
	return cases
}

// checkRuleTableCases opens each case as a typ table and compares every
// lookup and warning with the expectations.
func checkRuleTableCases(t *testing.T, typ string, cases []ruleTableCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			name := tc.Inline
			if name == "" {
				name = filepath.Join(t.TempDir(), "table")
				if err := os.WriteFile(name, []byte(tc.Source), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			table, err := Open(typ+":"+name, Options{})
			if tc.Fatal != "" {
				if err == nil || err.Error() != tc.Fatal {
					t.Fatalf("open error = %v, want %q", err, tc.Fatal)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer table.Close()
			var warnings []string
			for _, w := range WarningsOf(table) {
				if tc.Inline == "" {
					w = strings.ReplaceAll(w, name, "FILE")
				}
				warnings = append(warnings, w)
			}
			if !slices.Equal(warnings, tc.Warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", warnings, tc.Warnings)
			}
			for key, want := range tc.Found {
				got, ok, err := table.Lookup(key)
				if err != nil || !ok || got != want {
					t.Errorf("Lookup(%q) = %q, %v, %v; want %q, true, nil", key, got, ok, err, want)
				}
			}
			for _, key := range tc.NotFound {
				if got, ok, err := table.Lookup(key); err != nil || ok {
					t.Errorf("Lookup(%q) = %q, %v, %v; want not found", key, got, ok, err)
				}
			}
		})
	}
}

// TestRegexpTableLikePostfix replays the regexp files and inline
// regexp:{...} tables answered by the real postmap.
func TestRegexpTableLikePostfix(t *testing.T) {
	checkRuleTableCases(t, "regexp", loadPostfixCases(t, "regexp"))
}

// TestRegexpRefusedConstructs covers what glibc accepts but Go's RE2
// engine cannot do; Postern skips such rules with a warning.
func TestRegexpRefusedConstructs(t *testing.T) {
	checkRuleTableCases(t, "regexp", []ruleTableCase{{
		Name:     "back-references",
		Source:   "/^(a)\\1$/ r1\n/^\\(b\\)\\1$/x r2\n/a/ r3\n",
		Found:    map[string]string{"aa": "r3"},
		NotFound: []string{"bb"},
		Warnings: []string{
			`regexp map FILE, line 1: back-reference "\1" is not supported by Postern`,
			`regexp map FILE, line 2: back-reference "\1" is not supported by Postern`,
		},
	}, {
		Name:     "word start and end",
		Source:   "/\\<ab/ r1\n/ab\\>/ r2\n/\\bab\\b/ r3\n",
		Found:    map[string]string{"x ab y": "r3"},
		NotFound: []string{"xab"},
		Warnings: []string{
			`regexp map FILE, line 1: word-boundary operator "\<" is not supported by Postern; use "\b"`,
			`regexp map FILE, line 2: word-boundary operator "\>" is not supported by Postern; use "\b"`,
		},
	}, {
		Name:     "repetition counts above 1000",
		Source:   "/^a{1001}$/ r1\n/^a{1000}$/ r2\n",
		Found:    map[string]string{strings.Repeat("a", 1000): "r2"},
		NotFound: []string{strings.Repeat("a", 1001)},
		Warnings: []string{"regexp map FILE, line 1: repetition count above 1000 is not supported by Postern"},
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
