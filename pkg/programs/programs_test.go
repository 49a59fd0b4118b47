package programs

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every daemon that make build links to the multi-call binary, and that
// install.sh installs, has its main function here, and no other name has.
func TestNamesAreTheBuiltAndInstalledDaemons(t *testing.T) {
	for _, file := range []struct{ path, pattern string }{
		{"../../Makefile", `(?m)^DAEMONS\s*=\s*(.*)$`},
		{"../../scripts/install.sh", `(?m)^daemons="(.*)"$`},
	} {
		data, err := os.ReadFile(file.path)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(file.pattern).FindSubmatch(data)
		if m == nil {
			t.Fatalf("%s: no daemon list", file.path)
		}
		listed := strings.Fields(string(m[1]))
		slices.Sort(listed)
		if got := Names(); !slices.Equal(got, listed) {
			t.Errorf("Names() = %v, %s lists %v", got, file.path, listed)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, name := range Names() {
		if main, ok := Lookup(name); !ok || main == nil {
			t.Errorf("Lookup(%q): found %v, function nil %v", name, ok, main == nil)
		}
	}
	for _, name := range []string{"", "postern", "postfix", "sendmail", "smtpd.old", "/usr/lib/postfix/sbin/smtpd"} {
		if _, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) found a daemon", name)
		}
	}
}
