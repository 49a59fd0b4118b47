// Fuzz test: no master.cf text makes the parser or the printers panic.

package mastercf

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	f.Add("smtp inet n - y - - smtpd\n")
	f.Add("relay unix - - y - - smtp\n  -o syslog_name=postfix/$service_name\n#c\n  -o { a = b c }\n")
	f.Add("foo unix - - - 1000? 0 x -vo a=b -o{c=d} {e f} -- {g\n")
	f.Add("   -o x=y\nfoo unix\n")
	f.Add("x inet y - - - - x {a}}\n")
	f.Fuzz(func(t *testing.T, text string) {
		strict, strictErr := Parse(strings.NewReader(text), "master.cf")
		lenient, lenientErr := ParseLenient(strings.NewReader(text), "master.cf")
		if strictErr == nil && lenientErr != nil {
			t.Fatalf("strict parse accepted what lenient parse refused: %v", lenientErr)
		}
		if strictErr == nil && len(strict.Entries) != len(lenient.Entries) {
			t.Fatalf("strict %d entries, lenient %d", len(strict.Entries), len(lenient.Entries))
		}
		if lenientErr != nil {
			if !strings.HasPrefix(lenientErr.Error(), "master.cf: line ") {
				t.Fatalf("error without file and line: %v", lenientErr)
			}
			return
		}
		for _, e := range lenient.Entries {
			if e.Line < 1 || !validType(string(e.Type)) {
				t.Fatalf("bad entry %+v", e)
			}
			e.WakeupTime()
			if e.MaxProc(100) < 0 {
				t.Fatalf("%s: negative process limit", e.Key())
			}
			e.Operands()
			for _, fold := range []bool{false, true} {
				if out := e.Format(fold); !strings.HasSuffix(out, "\n") || !strings.HasPrefix(out, e.Service) {
					t.Fatalf("Format(%v) = %q", fold, out)
				}
				for _, field := range FieldNames() {
					e.FormatField(field, fold)
				}
				for _, p := range e.Parameters() {
					e.FormatParameter(p, fold)
				}
			}
		}
		if len(lenient.Services()) > len(lenient.Entries) {
			t.Fatal("more services than entries")
		}
	})
}
