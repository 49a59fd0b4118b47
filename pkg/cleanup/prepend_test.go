// Tests that smtpd's PREPEND header lines go above cleanup's Received: header, as Postfix's smtpd writes them.

package cleanup

import (
	"strings"
	"testing"

	"github.com/postern/postern/pkg/ipc"
)

func TestPrependAboveReceived(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings func(*testing.T) *Settings
	}{
		{"without checks", func(*testing.T) *Settings { return baseSettings() }},
		{"with header_checks", func(t *testing.T) *Settings {
			s := baseSettings()
			s.HeaderChecks = regexpChecks(t, "header_checks", "/^X-Greylist: reject/ REJECT greylist header seen\n")
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.settings(t))
			sub := remote("alice@remote.example", "bob@test.example")
			sub.Flags |= ipc.CleanupFlagFilter
			sub.Prepend = "X-Greylist: delayed 61 seconds by postgrey\nX-Access: from check_sender_access\n"
			reply := ts.submit(sub, "Subject: hi\n\nbody\n")
			if reply.Status != 0 {
				t.Fatalf("reply %+v", reply)
			}
			_, content := ts.load(reply.QueueID)
			want := "X-Greylist: delayed 61 seconds by postgrey\nX-Access: from check_sender_access\nReceived: from c.example (localhost [127.0.0.1])\n"
			if !strings.HasPrefix(content, want) {
				t.Errorf("content does not start with the PREPEND lines and then Received:\n%s", content)
			}
			if !strings.Contains(content, "\nSubject: hi\n") {
				t.Errorf("client headers lost:\n%s", content)
			}
		})
	}

	// The PREPEND lines are headers like the client's: header_checks see them.
	s := baseSettings()
	s.HeaderChecks = regexpChecks(t, "header_checks", "/^X-Greylist: reject/ REJECT greylist header seen\n")
	ts := startServer(t, s)
	sub := remote("alice@remote.example", "bob@test.example")
	sub.Flags |= ipc.CleanupFlagFilter
	sub.Prepend = "X-Greylist: reject me\n"
	if reply := ts.submit(sub, "Subject: hi\n\nbody\n"); reply.Status == 0 || !strings.Contains(reply.Reason, "greylist header seen") {
		t.Errorf("header_checks did not inspect the PREPEND line: %+v", reply)
	}
}
