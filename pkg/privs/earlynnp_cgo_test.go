//go:build cgo

package privs

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestEarlyNoNewPrivs runs this test binary again with master's request in
// its environment: the flag must be set before any Go code runs.
func TestEarlyNoNewPrivs(t *testing.T) {
	if os.Getenv("PRIVS_TEST_EARLY_CHILD") == "1" {
		set, err := HasNoNewPrivs()
		if err != nil || !set {
			t.Fatalf("no_new_privs at start = %v, %v; want set by the constructor", set, err)
		}
		return
	}
	if set, err := HasNoNewPrivs(); err != nil || set {
		t.Skipf("no_new_privs already set (%v) for this test process", err)
	}
	for _, tt := range []struct {
		env  []string
		want string
	}{
		{[]string{"POSTERN_MASTER=1", EarlyNoNewPrivsEnv + "=1"}, "PASS"},
		// Without master's variable too, nothing happens early.
		{[]string{EarlyNoNewPrivsEnv + "=1"}, "no_new_privs at start = false"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEarlyNoNewPrivs$", "-test.v")
		cmd.Env = append(os.Environ(), append(tt.env, "PRIVS_TEST_EARLY_CHILD=1")...)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("environment %q: output\n%s\nwant it to contain %q", tt.env, out, tt.want)
		}
	}
}
