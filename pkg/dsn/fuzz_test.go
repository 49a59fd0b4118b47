package dsn

import (
	"strings"
	"testing"
)

// FuzzDiagnose checks that any reason text splits without panicking and
// that the diagnostic always names its type.
func FuzzDiagnose(f *testing.F) {
	f.Add("host mx.example[192.0.2.1] said: 550 5.1.1 no (in reply to RCPT TO command)")
	f.Add("host [said: ")
	f.Add("connect to x: refused")
	f.Fuzz(func(t *testing.T, reason string) {
		remote, diag := Diagnose(reason)
		if remote == "" && diag != "X-Postfix; "+reason {
			t.Errorf("Diagnose(%q) without a remote MTA gave %q", reason, diag)
		}
		if remote != "" && !strings.HasPrefix(diag, "smtp; ") {
			t.Errorf("Diagnose(%q) = %q, %q", reason, remote, diag)
		}
	})
}
