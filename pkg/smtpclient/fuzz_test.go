// Fuzz test: reply parsing never panics and round-trips its text.

package smtpclient

import (
	"bufio"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/dsn"
)

func FuzzReadReply(f *testing.F) {
	f.Add("250 ok\r\n")
	f.Add("250-a\r\n250 b\r\n")
	f.Add("5")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := readReply(bufio.NewReader(strings.NewReader(in)))
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 599 || len(r.Lines) == 0 {
			t.Fatalf("accepted bad reply %+v from %q", r, in)
		}
		if status := r.DSN(); !dsn.Valid(status) && !strings.HasSuffix(status, ".0.0") {
			t.Fatalf("bad DSN %q", status)
		}
	})
}
