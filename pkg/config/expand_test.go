// expand_test.go checks $name expansion against what Postfix's postconf -x
// prints for the same values.

package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// testConfig returns a configuration with the given settings on a host
// called mx.test.example.
func testConfig(t *testing.T, settings ...string) *Config {
	t.Helper()
	fakeHost(t, "mx.test.example")
	c := Defaults(t.TempDir())
	for _, s := range settings {
		if err := c.Override(s); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func fakeHost(t *testing.T, name string) {
	t.Helper()
	saved := hostname
	hostname = func() (string, error) { return name, nil }
	t.Cleanup(func() { hostname = saved })
}

func TestExpand(t *testing.T) {
	c := testConfig(t, "foo=1", "empty=", "indirect=$foo", "blank=$empty")
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"$foo ${foo} $(foo)", "1 1 1"},
		{"$foo.b $foo-b ${foo}x", "1.b 1-b 1x"},
		{"$$x $${y} x$$", "$x ${y} x$"},
		{"$indirect", "1"},
		{"$undefined|", "|"},
		// The reference's verified example (relayhost empty).
		{"${relayhost:noRelay} ${myhostname?yes} ${relayhost?{set}:{unset}} $$x ${{10} > {9}?{num}:{lex}}", "noRelay yes unset $x num"},
		{"${foo?yes}${empty?yes}|${foo:no}${empty:no}", "yes|no"},
		{"${foo?{a}:{b}} ${empty?{a}:{b}}", "a b"},
		{"[${foo? a }] [${foo?{ a  b }}] [${empty:{ x }}]", "[ a ] [ a  b ] [ x ]"},
		{"${  foo  ? { a } : { b } }", " a "},
		{"${empty?{a}:b} ${empty?{a}: b}", "b  b"},
		{"${foo?{$myhostname}:{x}}", "mx.test.example"},
		{"$(empty:x) $(foo?y)", "x y"},
		// The test is on the raw value: $empty is non-empty text.
		{"${blank?set}", "set"},
		{"${{a} == {a}} ${{a} == {b}} ${{a} != {b}}", "true  true"},
		{"${{1} == {1} ? {a} : {b}} ${{a} < {b}?{lt}:{ge}} ${{10} < {9}?{x}:{y}}", "a lt y"},
		{"${{10} != {010}?{ne}:{eq}} ${{abc} <= {abd} ? {le} : {gt}}", "eq le"},
		{"${{ 1 }=={1}?{ yes }:{no}}", "no"},
		{"${{3.6} <level {3.10} ? {lt}:{ge}} ${{3.6} <=level {3.6} ? {le}:{gt}}", "lt le"},
		{"${{2} >=level {1.5} ? {ge}:{lt}} ${{3.6.1}>level{3.6}} ${{03}==level{3}}", "ge true true"},
		{"${{a}=={a}?{x}}|${{a}=={a}:{x}}|${{a}=={b}:{x}}|${{a}=={b}?a}", "x||x|"},
		{"${{$foo} == {1} ? {one} : {other}}", "one"},
		{"${{$compatibility_level} <level {2} ? {subnet} : {host}}", "host"},
		{"${x?a}b}", "b}"},
	}
	for _, tt := range tests {
		got, err := c.Expand(tt.in)
		if err != nil {
			t.Errorf("Expand(%q) error: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpandErrors(t *testing.T) {
	c := testConfig(t, "a=$b", "b=$a")
	tests := []struct{ in, want string }{
		{"$a", `unreasonable macro call nesting: "b"`},
		{"${foo", `truncated macro reference: "${foo"`},
		{"x ${foo?{x}:{y}", `truncated macro reference: "x ${foo?{x}:{y}"`},
		{"abc $!x", `empty macro name: "abc $!x"`},
		{"${myhostname?{abc $}}", `empty macro name: "abc $"`},
		{"$(a}", `truncated macro reference: "$(a}"`},
		{"$", `empty macro name: "$"`},
		{"$!x", `empty macro name: "$!x"`},
		{"${a-b}", `attribute name syntax error at: "...a>>>-b"`},
		{"${abcdef-b}", `attribute name syntax error at: "...abcdef>>>-b"`},
		{"${$x}", `attribute name syntax error at: "...>>>$x"`},
		{"${a)}", `attribute name syntax error at: "...a>>>)"`},
		{"${x:{a}:{b}}", `unexpected input at: "...a}>>>:{b}"`},
		{"${relayhost?{a}:{b}:{c}}", `unexpected input at: "...b}>>>:{c}"`},
		{"${myhostname?{a}x}", `":" expected at: "...a}>>>x"`},
		{"${{1} =~ {1} ? {a} : {b}}", `"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...1}>>>=~ {1} ? {a} : {b}"`},
		{"${{abcdef} = {b}}", `"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...abcdef}>>>= {b}"`},
		{"${{a}}", `"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...a}>>>"`},
		{"${{a} == b}", `"{expression}" expected at: "...{a} ==>>> b"`},
		{"${{a} == {b} x}", `"?" or ":" expected at: "...}>>>x"`},
		{"${{a} == {b} ? {a} x}", `":" expected at: "...a}>>>x"`},
		{"${{a} <lev {b}}", `bad operator suffix at: "...<>>>lev"`},
		{"${{a} <level {b}}", `malformed compatibility level syntax: "a"`},
		{"${{3.x} <level {3}?{a}:{b}}", `malformed compatibility level syntax: "3.x"`},
		{"${{ 3 }<level{2}}", `malformed compatibility level syntax: " 3 "`},
	}
	for _, tt := range tests {
		_, err := c.Expand(tt.in)
		var ee *ExpandError
		if !errors.As(err, &ee) || ee.Detail != tt.want || !errors.Is(err, ErrMacro) {
			t.Errorf("Expand(%q) error = %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := c.Expand("${{99999999999999999999} > {9}}"); err == nil || err.Error() != "mac_exp_eval: bad conversion: 99999999999999999999" {
		t.Errorf("overflowing number: error = %v", err)
	}
}

// TestNestingLimit checks the depth at which Postfix gives up: a chain of
// 100 references expands, one of 101 does not.
func TestNestingLimit(t *testing.T) {
	chain := func(n int) *Config {
		var s []string
		for i := 1; i <= n; i++ {
			s = append(s, fmt.Sprintf("p%d=$p%d", i, i+1))
		}
		return testConfig(t, s...)
	}
	if got, err := chain(100).Expand("$p1"); err != nil || got != "" {
		t.Errorf("100 levels: %q, %v", got, err)
	}
	if _, err := chain(101).Expand("$p1"); err == nil || !strings.Contains(err.Error(), `nesting: "p102"`) {
		t.Errorf("101 levels: error = %v", err)
	}
}

func TestExpandReportingAndVars(t *testing.T) {
	c := testConfig(t, "home_mailbox=Maildir/")
	var undefined []string
	got, err := c.ExpandReporting("$home/$home_mailbox $nope ${nope2?x}", map[string]string{"home": "/home/u"},
		func(n string) { undefined = append(undefined, n) })
	if err != nil || got != "/home/u/Maildir/  " {
		t.Errorf("got %q, %v", got, err)
	}
	if !reflect.DeepEqual(undefined, []string{"nope", "nope2"}) {
		t.Errorf("undefined = %q", undefined)
	}
}

func TestScan(t *testing.T) {
	c := testConfig(t, "myorigin=$a ${b?{$c}:{$d}} ${{$e} == {1}} $lmtp_per_record_deadline", "forward_path=$raw_is_skipped", "relayhost=$myorigin")
	var undefined []string
	if err := c.Scan(func(n string) { undefined = append(undefined, n) }, nil); err != nil {
		t.Fatal(err)
	}
	// myorigin is scanned itself and again through relayhost; a legacy
	// name that a default refers to is not reported.
	want := []string{"a", "b", "c", "d", "e", "a", "b", "c", "d", "e"}
	if !reflect.DeepEqual(undefined, want) {
		t.Errorf("undefined = %q, want %q", undefined, want)
	}
	// Parameters that are not built in are only checked one level deep, so
	// a loop among them alone is no error; reaching it from a built-in is.
	loop := testConfig(t, "a=$b", "b=$a", "c=$undefined_c")
	undefined = nil
	if err := loop.Scan(func(n string) { undefined = append(undefined, n) }, nil); err != nil || len(undefined) != 1 {
		t.Errorf("loop among user parameters: Scan error = %v, undefined %q", err, undefined)
	}
	var userErrors []error
	bad := testConfig(t, "foo=${a-b}", "relayhost=${relayhost?{a}:{b}}")
	if err := bad.Scan(nil, func(err error) { userErrors = append(userErrors, err) }); err != nil || len(userErrors) != 1 {
		t.Errorf("syntax error in a user parameter: Scan error = %v, reported %v", err, userErrors)
	}
	loop.Set("relayhost", "$a")
	if err := loop.Scan(nil, nil); !errors.Is(err, ErrMacro) {
		t.Errorf("loop reached from relayhost: Scan error = %v", err)
	}
}

func TestUserParameters(t *testing.T) {
	c := testConfig(t, "foo=$bar", "bar=1", "x=${{$y} == {1}}", "y=1", "smtpd_per_record_deadline=yes", "unusedp=1", "mua=2", "relayhost=r")
	used, unused := c.UserParameters("$mua")
	names := func(s []Setting) (n []string) {
		for _, x := range s {
			n = append(n, x.Name)
		}
		return n
	}
	if got := names(used); !reflect.DeepEqual(got, []string{"bar", "mua", "smtpd_per_record_deadline", "y"}) {
		t.Errorf("used = %q", got)
	}
	if got := names(unused); !reflect.DeepEqual(got, []string{"foo", "unusedp", "x"}) {
		t.Errorf("unused = %q", got)
	}
}

// TestExpansionBounds checks that values doubling at every level fail
// instead of exhausting memory.
func TestExpansionBounds(t *testing.T) {
	var s []string
	for i := 1; i < 40; i++ {
		s = append(s, fmt.Sprintf("p%d=$p%d$p%d", i, i+1, i+1))
	}
	s = append(s, "p40=x", "relayhost=$p1")
	c := testConfig(t, s...)
	if _, err := c.Expand("$p1"); !errors.Is(err, ErrMacro) {
		t.Errorf("Expand: error = %v", err)
	}
	if err := c.Scan(nil, nil); !errors.Is(err, ErrMacro) {
		t.Errorf("Scan: error = %v", err)
	}
}
