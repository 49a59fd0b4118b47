// fuzz_test.go fuzzes the main.cf parser, the editor and the $name expander:
// no input may panic, and results keep their basic invariants.

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseMainCF(f *testing.F) {
	for _, seed := range []string{
		"myhostname = mx.example\n",
		"a = 1\n  b\n# c\n\td\n",
		"  leading\nx=1\n",
		"xyz\n",
		"=x\n",
		"a = 1\r\nb = 2",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		settings, err := ParseMainCF("main.cf", []byte(data), func(string) {})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "main.cf, line ") {
				t.Errorf("error without file and line: %v", err)
			}
			return
		}
		for _, s := range settings {
			if s.Name == "" || strings.ContainsAny(s.Name, " \t\r\n\v\f=") {
				t.Errorf("bad name %q", s.Name)
			}
			if s.Value != trimRightSpace(s.Value) {
				t.Errorf("value %q keeps trailing whitespace", s.Value)
			}
		}
		// Editing any file must keep it parseable to the same settings
		// except the one edited.
		path := filepath.Join(t.TempDir(), "main.cf")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := SetInMainCF(path, []Setting{{Name: "fuzz_param", Value: "v"}}, nil); err != nil {
			t.Fatal(err)
		}
		edited, _ := os.ReadFile(path)
		after, err := ParseMainCF("main.cf", edited, nil)
		if err != nil {
			t.Fatalf("edited file no longer parses: %v", err)
		}
		if len(after) != len(settings)+1 && !hasSetting(settings, "fuzz_param") {
			t.Errorf("edit changed the settings: %d before, %d after", len(settings), len(after))
		}
	})
}

func hasSetting(settings []Setting, name string) bool {
	for _, s := range settings {
		if s.Name == name {
			return true
		}
	}
	return false
}

func FuzzExpand(f *testing.F) {
	for _, seed := range []string{
		"${relayhost:noRelay} ${myhostname?yes} ${relayhost?{set}:{unset}} $$x ${{10} > {9}?{num}:{lex}}",
		"${{$compatibility_level} <level {2} ? {subnet} : {host}}",
		"$a ${b?{x}:{y}} $(c:z)",
		"${{3.6.1} >=level {3.10}}",
		"${x:{a}:{b}}",
		"${",
	} {
		f.Add(seed)
	}
	fakeHostForFuzz := func() (string, error) { return "mx.test.example", nil }
	f.Fuzz(func(t *testing.T, text string) {
		saved := hostname
		hostname = fakeHostForFuzz
		defer func() { hostname = saved }()
		c := Defaults("/nonexistent")
		c.Set("a", "$b")
		c.Set("b", "${a?x}")
		c.Set("loop", "$loop")
		got, err := c.Expand(text)
		if err == nil && !strings.Contains(text, "$") && got != text {
			t.Errorf("text without $ changed: %q -> %q", text, got)
		}
		c.Set("fuzzed", text)
		_ = c.Scan(func(string) {}, func(error) {})
		_, _ = c.UserParameters()
	})
}
