// End-to-end test of qmgr against a delivery agent limited to one process (maxproc 1 in master.cf): every message is delivered.

package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// TestQmgrAgentMaxprocOne queues messages faster than one smtp process
// delivers them, so that the destination's window opens more connections
// than the single agent process serves at once: each must still get its
// turn. An agent process serves one connection at a time at maxproc 1
// (Postfix's agents serve one client at a time), so a connection qmgr
// kept for the next request must not shut out the others.
func TestQmgrAgentMaxprocOne(t *testing.T) {
	const messages = 20
	port := sinkPort(t)
	sink := startSink(t, "127.0.0.2:"+port, "sink.example", sinkOptions{})
	in := newDelivery(t, fmt.Sprintf(`myhostname = hub.test.example
mydestination =
relayhost = [127.0.0.2]:%s
`, port))
	cf := in.readMasterCF()
	single := strings.Replace(cf, "smtp unix - - n - - smtp", "smtp unix - - n - 1 smtp", 1)
	if single == cf {
		t.Fatalf("no smtp line to limit in master.cf:\n%s", cf)
	}
	in.writeMasterCF(single)
	in.run()

	c, err := harness.DialSMTP(in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range messages {
		to := fmt.Sprintf("rcpt%d@remote.example", i)
		if err := c.Mail("sender@client.example"); err != nil {
			t.Fatalf("MAIL: %v", err)
		}
		if err := c.Rcpt(to); err != nil {
			t.Fatalf("RCPT %s: %v", to, err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatalf("DATA: %v", err)
		}
		fmt.Fprintf(w, "Subject: %d\r\n\r\nmessage %d\r\n", i, i)
		if err := w.Close(); err != nil {
			t.Fatalf("end of DATA: %v", err)
		}
	}
	c.Quit()

	// Delivered one after the other, 20 messages take well under a
	// second; a connection waiting behind a kept one waited for it to
	// be idle agentIdleLimit (10 s), one after the other.
	got := sink.waitMessages(t, in, messages, 30*time.Second)
	seen := map[string]bool{}
	for _, m := range got {
		for _, to := range m.To {
			seen[to] = true
		}
	}
	for i := range messages {
		if to := fmt.Sprintf("rcpt%d@remote.example", i); !seen[to] {
			t.Errorf("%s not delivered", to)
		}
	}
	in.waitLogCount("status=sent", messages, 30*time.Second)
}
