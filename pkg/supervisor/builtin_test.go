package supervisor

import (
	"testing"
)

func TestSkipReason(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ line, want string }{
		{"rewrite unix - - y - - trivial-rewrite", "service rewrite: trivial-rewrite is built into cleanup and qmgr; not started"},
		{"defer unix - - y - 0 bounce", "service defer: bounce is built into qmgr; not started"},
		{"showq unix n - y - - showq", ""},
		{"postlog unix-dgram n - n - 1 postlogd", ""},
		// Postern's own daemons run even when the binary is missing:
		// starting them fails as in Postfix.
		{"maildrop unix - n n - - pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}", ""},
		{"verify unix - - y - 1 verify", ""},
		{"postscreen inet n - y - 1 postscreen", "service postscreen: postscreen is not provided by Postern (no " + dir + "/postscreen); not started"},
		{"smtp inet n - y - - smtpd", ""},
		{"error unix - - y - - error", "service error: error is built into qmgr; not started"},
		{"retry unix - - y - - error", "service retry: error is built into qmgr; not started"},
		{"discard unix - - y - - discard", "service discard: discard is built into qmgr; not started"},
		{"lmtp unix - - y - - lmtp", ""},
	}
	for _, tt := range tests {
		if got := skipReason(parseEntry(t, tt.line), dir); got != tt.want {
			t.Errorf("skipReason(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}
