package supervisor

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSkipReason(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "verify"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ line, want string }{
		{"rewrite unix - - y - - trivial-rewrite", "service rewrite: trivial-rewrite is built into cleanup and qmgr; not started"},
		{"defer unix - - y - 0 bounce", "service defer: bounce is built into qmgr; not started"},
		{"showq unix n - y - - showq", ""},
		{"postlog unix-dgram n - n - 1 postlogd", ""},
		{"maildrop unix - n n - - pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}",
			"service maildrop: pipe is not provided by Postern (no " + dir + "/pipe); not started"},
		{"verify unix - - y - 1 verify", ""}, // present in daemon_directory: run it
		{"smtp inet n - y - - smtpd", ""},
		{"error unix - - y - - error", "service error: error is built into qmgr; not started"},
		{"retry unix - - y - - error", "service retry: error is built into qmgr; not started"},
		{"discard unix - - y - - discard", "service discard: discard is built into qmgr; not started"},
		{"lmtp unix - - y - - lmtp", "service lmtp: lmtp is not provided by Postern (no " + dir + "/lmtp); not started"},
	}
	for _, tt := range tests {
		if got := skipReason(parseEntry(t, tt.line), dir); got != tt.want {
			t.Errorf("skipReason(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}
