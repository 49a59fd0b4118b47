package dsn

import "testing"

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"5.1.1": true, "2.0.0": true, "4.7.123": true, "5.123.1": true,
		"3.0.0": false, "5.1": false, "5.1.1.1": false, "55.1.1": false, "5..1": false,
		"5.1234.1": false, "5.+1.0": false, "5.1.x": false, "": false, "5.1.1 ": false,
	} {
		if got := Valid(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}
