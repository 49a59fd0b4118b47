// cidr_test.go checks the cidr table against answers taken from the real Postfix 3.7 postmap.
package maps

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCIDRTableLikePostfix holds cases whose expectations are the real
// postmap -q answers and warnings.
func TestCIDRTableLikePostfix(t *testing.T) {
	checkRuleTableCases(t, "cidr", cidrCasesFromPostfix)
}

func TestCIDROpenMissingFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "absent")
	_, err := Open("cidr:"+name, Options{})
	if err == nil || err.Error() != "open "+name+": No such file or directory" {
		t.Fatalf("open error = %v", err)
	}
}

func TestCIDRFilesAndSpec(t *testing.T) {
	name := filepath.Join(t.TempDir(), "table")
	if err := os.WriteFile(name, []byte("10.0.0.0/8 ten\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	table, err := Open("cidr:"+name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := FilesOf(table); !slices.Equal(got, []string{name}) {
		t.Errorf("Files() = %q, want [%q]", got, name)
	}
	if table.Spec() != "cidr:"+name {
		t.Errorf("Spec() = %q", table.Spec())
	}
}

// cidrCasesFromPostfix: expectations are Postfix 3.7's postmap -q output.
var cidrCasesFromPostfix = []ruleTableCase{
	{
		name:     "networks and bare addresses",
		source:   "192.168.1.0/24 r1\n10.0.0.1 r2\n2001:db8::/32 r3\n[2001:db9::]/32 r4\n::1 r5\n",
		found:    map[string]string{"192.168.1.7": "r1", "10.0.0.1": "r2", "2001:db8::1": "r3", "2001:DB8::1": "r3", "2001:db9::1": "r4", "::1": "r5"},
		notFound: []string{"10.0.0.2"},
	},
	{
		name:     "keys that are not addresses",
		source:   "0.0.0.0/0 v4\n::/0 v6\n",
		notFound: []string{"[::1]", "abc", "192.168.001.7", "fe80::1%eth0", "", " 1.2.3.4", "1.2.3.4 "},
	},
	{
		name:     "IPv4-mapped addresses are IPv6",
		source:   "::ffff:1.2.3.4 r1\n1.2.3.0/24 r2\n",
		found:    map[string]string{"1.2.3.4": "r2", "::ffff:1.2.3.4": "r1"},
		notFound: []string{"::ffff:1.2.3.5"},
	},
	{
		name:     "first match in file order",
		source:   "10.1.0.0/16 narrow\n10.0.0.0/8 wide\n10.1.2.3 host\n",
		found:    map[string]string{"10.1.2.3": "narrow", "10.2.0.1": "wide"},
		notFound: []string{"11.0.0.1"},
	},
	{
		name:   "brackets",
		source: "[::1] r1\n[10.0.0.1] r2\n[1.2.3.0/24] r3\n[::2]/127 r4\n",
		found:  map[string]string{"::1": "r1", "10.0.0.1": "r2", "1.2.3.9": "r3", "::3": "r4"},
	},
	{
		name:     "host bits and masks",
		source:   "192.168.1.5/24 r1\n1.2.3.4/0 r1\n1.2.3.4/08 r1\n2001:db8::1/16 r1\n192.168.1.0/33 r1\n2001:db8::1/129 r1\n[1.2.3.4]/33 r1\n0.0.0.0/0 any4\n",
		found:    map[string]string{"192.168.1.7": "any4"},
		notFound: []string{"::1"},
		warnings: []string{
			"cidr map FILE, line 1: non-null host address bits in \"192.168.1.5/24\", perhaps you should use \"192.168.1.0/24\" instead: skipping this rule",
			"cidr map FILE, line 2: non-null host address bits in \"1.2.3.4/0\", perhaps you should use \"0.0.0.0/0\" instead: skipping this rule",
			"cidr map FILE, line 3: non-null host address bits in \"1.2.3.4/08\", perhaps you should use \"1.0.0.0/8\" instead: skipping this rule",
			"cidr map FILE, line 4: non-null host address bits in \"2001:db8::1/16\", perhaps you should use \"2001::/16\" instead: skipping this rule",
			"cidr map FILE, line 5: bad mask length in \"192.168.1.0/33\": skipping this rule",
			"cidr map FILE, line 6: bad mask length in \"2001:db8::1/129\": skipping this rule",
			"cidr map FILE, line 7: bad mask length in \"1.2.3.4/33\": skipping this rule",
		},
	},
	{
		name:     "bad patterns",
		source:   "1.2.3.4/ r1\n010.0.0.0/8 r2\n1.2.3.4/abc r3\n1.2.3.4/32x r4\nfoo r5\nfoo/8 r6\n[::1 r7\n::1] r8\n1.2.3.4/8/8 r9\n1.2.3.4/-1 r10\n1.2.3.4/+8 r11\n[1.2.3.4]x r12\n1.2.3.4.5 r13\n1.2.3.4/ 8 r14\nfe80::1%eth0 r15\n",
		notFound: []string{"1.2.3.4", "10.0.0.1", "::1"},
		warnings: []string{
			"cidr map FILE, line 1: bad mask value in \"1.2.3.4/\": skipping this rule",
			"cidr map FILE, line 2: bad network value in \"010.0.0.0/8\": skipping this rule",
			"cidr map FILE, line 3: bad mask value in \"1.2.3.4/abc\": skipping this rule",
			"cidr map FILE, line 4: bad mask value in \"1.2.3.4/32x\": skipping this rule",
			"cidr map FILE, line 5: bad address pattern: \"foo\": skipping this rule",
			"cidr map FILE, line 6: bad network value in \"foo/8\": skipping this rule",
			"cidr map FILE, line 7: missing ']' character after \"[::1\": skipping this rule",
			"cidr map FILE, line 8: bad address pattern: \"::1]\": skipping this rule",
			"cidr map FILE, line 9: bad mask value in \"1.2.3.4/8/8\": skipping this rule",
			"cidr map FILE, line 10: bad mask value in \"1.2.3.4/-1\": skipping this rule",
			"cidr map FILE, line 11: bad mask value in \"1.2.3.4/+8\": skipping this rule",
			"cidr map FILE, line 12: garbage after \"[1.2.3.4]\": skipping this rule",
			"cidr map FILE, line 13: bad address pattern: \"1.2.3.4.5\": skipping this rule",
			"cidr map FILE, line 14: bad mask value in \"1.2.3.4/\": skipping this rule",
			"cidr map FILE, line 15: bad address pattern: \"fe80::1%eth0\": skipping this rule",
		},
	},
	{
		name:   "missing result",
		source: "1.2.3.0/24\n1.2.3.0/24   \n1.2.3.0/24\tr1  r2 \n",
		found:  map[string]string{"1.2.3.4": "r1  r2"},
		warnings: []string{
			"cidr map FILE, line 1: no lookup result: skipping this rule",
			"cidr map FILE, line 2: no lookup result: skipping this rule",
		},
	},
	{
		name:     "negation",
		source:   "!192.168.1.0/24 r1\n",
		found:    map[string]string{"10.1.1.1": "r1"},
		notFound: []string{"192.168.1.1", "::1"},
	},
	{
		name:     "negation with space and twice",
		source:   "! 10.0.0.0/8 r1\n!!11.0.0.0/8 r2\n",
		found:    map[string]string{"12.0.0.1": "r1", "11.0.0.1": "r1"},
		notFound: []string{"10.0.0.1"},
	},
	{
		name:   "if and endif",
		source: "if 10.0.0.0/8\n10.1.0.0/16 r1\nendif\n0.0.0.0/0 r2\n",
		found:  map[string]string{"10.1.2.3": "r1", "10.2.0.0": "r2", "11.0.0.0": "r2"},
	},
	{
		name:   "if negated and nested",
		source: "if !10.0.0.0/8\nif 11.0.0.0/8\n0.0.0.0/0 r1\nendif\n0.0.0.0/0 r2\nendif\nIF !!10.0.0.0/8\n10.0.0.0/8 r3\nENDIF\n",
		found:  map[string]string{"10.1.2.3": "r3", "11.0.0.1": "r1", "12.0.0.1": "r2"},
	},
	{
		name:   "if and endif errors",
		source: "if 10.0.0.0/8 junk\n10.1.0.0/16 r1\nendif x\nendif\n! 10.0.0.0/8 r2\nif\n!\n",
		found:  map[string]string{"10.1.2.3": "r1", "11.1.1.1": "r2"},
		warnings: []string{
			"cidr map FILE, line 1: bad mask value in \"10.0.0.0/8 junk\": skipping this rule",
			"cidr map FILE, line 3: garbage after ENDIF: skipping this rule",
			"cidr map FILE, line 4: ENDIF without IF: skipping this rule",
			"cidr map FILE, line 6: no address pattern: skipping this rule",
			"cidr map FILE, line 7: no address pattern: skipping this rule",
		},
	},
	{
		name:     "if without endif stays in force",
		source:   "if 10.0.0.0/8\nif 10.1.0.0/16\n0.0.0.0/0 r1\n",
		found:    map[string]string{"10.1.2.3": "r1"},
		notFound: []string{"10.2.0.1"},
		warnings: []string{
			"cidr map FILE, line 2: IF has no matching ENDIF",
			"cidr map FILE, line 1: IF has no matching ENDIF",
		},
	},
	{
		name:   "continuation lines and comments",
		source: "10.0.0.0/8 r1\n  r2\n# x\n\n\tr3\n",
		found:  map[string]string{"10.1.2.3": "r1  r2\tr3"},
	},
	{
		name:     "indented if body is a continuation",
		source:   "if 10.0.0.0/8\n  10.1.0.0/16 r1\nendif\n",
		notFound: []string{"10.1.2.3"},
		warnings: []string{
			"cidr map FILE, line 1: bad mask value in \"10.0.0.0/8  10.1.0.0/16 r1\": skipping this rule",
			"cidr map FILE, line 3: ENDIF without IF: skipping this rule",
		},
	},
	{
		name:     "leading whitespace at the start",
		source:   "  10.0.0.0/8 r1\n11.0.0.0/8 r2\n",
		found:    map[string]string{"11.1.1.1": "r2"},
		notFound: []string{"10.1.2.3"},
		warnings: []string{
			"FILE: logical line must not start with whitespace: \"  10.0.0.0/8 r1\"",
		},
	},
	{
		name:     "the other address family never matches",
		source:   "if !10.0.0.0/8\n::/0 r1\nendif\nif 10.0.0.0/8\n::/0 r2\nendif\n!::/0 r3\n::/0 r4\n",
		found:    map[string]string{"::1": "r4"},
		notFound: []string{"1.2.3.4"},
	},
}
