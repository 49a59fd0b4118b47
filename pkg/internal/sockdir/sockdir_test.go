package sockdir

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A socket binds in New's directory when TMPDIR is long, and the
// directory is gone once the test is over.
func TestNewHoldsASocketWhateverTMPDIR(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("x", 120))
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", long)
	var dir string
	t.Run("a_subtest_whose_name_is_long_enough_to_matter_for_t_TempDir", func(t *testing.T) {
		dir = New(t)
		if !strings.HasPrefix(dir, Base+"/") {
			t.Fatalf("New = %s, not under %s", dir, Base)
		}
		l, err := net.Listen("unix", filepath.Join(dir, "a-socket-name"))
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s after the test: %v, want it removed", dir, err)
	}
}
