// cidr_test.go checks the cidr table against answers taken from the real Postfix 3.7 postmap.

package maps

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCIDRTableLikePostfix replays the cidr files and inline cidr:{...}
// tables answered by the real postmap.
func TestCIDRTableLikePostfix(t *testing.T) {
	checkRuleTableCases(t, "cidr", loadPostfixCases(t, "cidr"))
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
	inline, err := Open("cidr:{ {10.0.0.0/8 ten} }", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := FilesOf(inline); got != nil {
		t.Errorf("inline Files() = %q, want none", got)
	}
}
