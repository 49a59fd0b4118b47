package maillog

import "testing"

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":                        "plain text",
		"evil\rX-Injected: yes\x00\x1b[31m": "evil?X-Injected: yes??[31m",
		"a\nfake: line\ttab\x7f":            "a?fake: line?tab?",
		"caf\xc3\xa9 \xff":                  "caf\xc3\xa9 ?",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
