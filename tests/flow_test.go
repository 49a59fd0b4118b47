// End-to-end tests of the input flow control (in_flow_delay): cleanup takes a token from master's pipe per message, which qmgr puts in.

package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// The lines cleanup -v logs for a message that took a token and for one
// that found none and paused in_flow_delay.
const (
	flowTokenLine = "mail_flow_get: 1 1"
	flowPauseLine = "mail_flow_get: no token, paused 1s (in_flow_delay)"
)

// Without a queue manager nobody puts tokens in: cleanup pauses
// in_flow_delay for every message and then accepts it anyway.
func TestInFlowDelayPausesWithoutQmgr(t *testing.T) {
	addr := harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`%s inet n - n - - smtpd
cleanup unix n - n - 0 cleanup -v
postlog unix-dgram n - n - 1 postlogd
`, addr), mainCF: `mynetworks = 127.0.0.0/8
in_flow_delay = 1s
`})
	in.linkDaemons("smtpd", "cleanup")
	in.start()
	waitListening(t, addr)
	for i := range 2 {
		msg := fmt.Sprintf("Subject: flow %d\r\n\r\nbody\r\n", i)
		if err := harness.SendMail(addr, "sender@example.test", []string{"rcpt@example.test"}, []byte(msg)); err != nil {
			t.Fatalf("message %d not accepted: %v\nlog:\n%s", i, err, in.log())
		}
	}
	log := in.waitLogCount(flowPauseLine, 2, 30*time.Second)
	if strings.Contains(log, flowTokenLine) {
		t.Errorf("a message took a token with no qmgr to put one in:\n%s", log)
	}
}

// qmgr puts a token in for each message it takes from incoming/: the
// message after a delivered one takes a token instead of pausing.
func TestInFlowDelayTokenFromQmgr(t *testing.T) {
	sinkAddr := "127.0.0.1:" + sinkPort(t)
	sink := startSink(t, sinkAddr, "sink", sinkOptions{})
	defer sink.stop()
	in := newDelivery(t, fmt.Sprintf(`relayhost = %s
in_flow_delay = 1s
`, "["+strings.Replace(sinkAddr, ":", "]:", 1)))
	in.writeMasterCF(fmt.Sprintf(`%s inet n - n - - smtpd
cleanup unix n - n - 0 cleanup -v
qmgr unix n - n 300 1 qmgr
smtp unix - - n - - smtp
relay unix - - n - - smtp
postlog unix-dgram n - n - 1 postlogd
`, in.addr))
	in.run()
	in.send("sender@example.test", []string{"first@remote.test"}, "Subject: first\r\n\r\nbody\r\n")
	sink.waitMessages(t, in, 1, 30*time.Second)
	in.send("sender@example.test", []string{"second@remote.test"}, "Subject: second\r\n\r\nbody\r\n")
	sink.waitMessages(t, in, 2, 30*time.Second)
	// One line per message, in order (the first message may have come
	// before qmgr's first tokens).
	var admissions []string
	deadline := time.Now().Add(30 * time.Second)
	for len(admissions) < 2 {
		admissions = admissions[:0]
		for _, line := range strings.Split(in.log(), "\n") {
			if strings.Contains(line, flowTokenLine) || strings.Contains(line, flowPauseLine) {
				admissions = append(admissions, line)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("cleanup logged %d flow control lines, want 2:\n%s", len(admissions), in.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(admissions[1], flowTokenLine) {
		t.Errorf("the message after a delivered one did not take qmgr's token: %q\nlog:\n%s", admissions[1], in.log())
	}
}
