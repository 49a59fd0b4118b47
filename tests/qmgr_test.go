// End-to-end test of qmgr under master with smtpd and cleanup: delivery through a fake agent on private/smtp and a bounce back to the sender.

package tests

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/tests/internal/harness"
)

// e2eAgent answers as a delivery agent on private/smtp: it bounces
// recipients whose local part is "bad" and keeps the content of every
// message it is asked to deliver.
type e2eAgent struct {
	layout   *queue.Layout
	mu       sync.Mutex
	contents []string
}

func (a *e2eAgent) snapshot() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.contents...)
}

func (a *e2eAgent) answer(req *ipc.DeliveryRequest) *ipc.DeliveryResult {
	content := ""
	if cr, err := queue.OpenContent(a.layout.Path(req.Queue, req.QueueID), req.DataOffset); err == nil {
		data, _ := io.ReadAll(cr)
		cr.Close()
		content = string(data)
	}
	a.mu.Lock()
	a.contents = append(a.contents, content)
	a.mu.Unlock()
	var res ipc.DeliveryResult
	for _, r := range req.Recipients {
		rr := ipc.RecipientResult{Offset: r.Offset, Address: r.Address, Status: ipc.StatusSent,
			DSNCode: "2.0.0", Reply: "250 2.0.0 Ok", Relay: "sink[127.0.0.1]:25"}
		if strings.HasPrefix(r.Address, "bad@") {
			rr.Status, rr.DSNCode = ipc.StatusBounced, "5.1.1"
			rr.Reply = "host sink[127.0.0.1] said: 550 5.1.1 <" + r.Address + ">: no such user (in reply to RCPT TO command)"
		}
		res.Recipients = append(res.Recipients, rr)
	}
	return &res
}

func TestQmgrEndToEnd(t *testing.T) {
	addr := harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`# smtpd, cleanup and qmgr
%s inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
postlog unix-dgram n - n - 1 postlogd
`, addr)})
	in.linkDaemons("smtpd", "cleanup", "qmgr")
	in.appendMainCF(`myhostname = mx.test.example
mydomain = test.example
mydestination = $myhostname, localhost
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
`)
	in.start()
	waitListening(t, addr)

	// The agent's socket, reachable by the unprivileged daemons.
	private := filepath.Join(in.queue, queue.PrivateDir)
	waitForPath(t, private, 30*time.Second)
	sock := filepath.Join(private, "smtp")
	agent := &e2eAgent{layout: queue.NewLayout(in.queue, []string{queue.Deferred, queue.Defer}, 1, false)}
	server := ipctest.StartAgent(t, sock, agent.answer)
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}

	err := harness.SendMail(addr, "sender@remote.example", []string{"ok@remote.example", "bad@remote.example"},
		[]byte("Subject: qmgr e2e\r\nMessage-ID: <qmgr-e2e@client.example>\r\n\r\nhello\r\n"))
	if err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
	}
	// The bounce comes back through cleanup and qmgr to the agent.
	var reqs []ipc.DeliveryRequest
	var contents []string
	deadline := time.Now().Add(30 * time.Second)
	for len(contents) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("agent got %d requests, want the message and its bounce; log:\n%s", len(contents), in.log())
		}
		time.Sleep(50 * time.Millisecond)
		contents = agent.snapshot()
	}
	reqs = server.Requests()
	orig, bounce := reqs[0], reqs[1]
	if orig.Sender != "sender@remote.example" || orig.Transport != "smtp" || orig.Nexthop != "remote.example" || len(orig.Recipients) != 2 {
		t.Errorf("first request %+v", orig)
	}
	if bounce.Sender != "" || len(bounce.Recipients) != 1 || bounce.Recipients[0].Address != "sender@remote.example" {
		t.Errorf("bounce request %+v", bounce)
	}
	assertContains(t, "bounce", contents[1],
		"From: Mail Delivery System <MAILER-DAEMON@mx.test.example>\n",
		"Subject: Undelivered Mail Returned to Sender\n",
		"This is the mail system at host mx.test.example.\n",
		"\n"+dsn.Wrap("<bad@remote.example>: host sink[127.0.0.1] said: 550 5.1.1 <bad@remote.example>: no such user (in reply to RCPT TO command)", 79, 4),
		"X-Postfix-Queue-ID: "+orig.QueueID+"\n",
		"Final-Recipient: rfc822; bad@remote.example\n",
		"Status: 5.1.1\nRemote-MTA: dns; sink\nDiagnostic-Code: smtp; 550 5.1.1 <bad@remote.example>: no such user\n",
		"Subject: qmgr e2e\n",
	)
	if strings.Contains(contents[1], "ok@remote.example") {
		t.Errorf("bounce names the delivered recipient:\n%s", contents[1])
	}
	log := in.waitLog(bounce.QueueID+": removed", 30*time.Second)
	assertContains(t, "log", log,
		"postfix/qmgr[",
		orig.QueueID+": from=<sender@remote.example>, size=",
		", nrcpt=2 (queue active)",
		orig.QueueID+": sender non-delivery notification: "+bounce.QueueID,
		orig.QueueID+": removed",
		bounce.QueueID+": from=<>, size=",
	)
	assertLoggedBy(t, log, orig.QueueID+": sender non-delivery notification: ", "postfix/bounce", orig.QueueID+": from=<sender@remote.example>, size=")
	for _, q := range []string{queue.Incoming, queue.Active, queue.Deferred} {
		ids, err := queue.NewLayout(in.queue, nil, 1, false).IDs(q)
		if err != nil || len(ids) != 0 {
			t.Errorf("%s holds %v (%v)", q, ids, err)
		}
	}
}

// TestQmgrBackoffAboveMaximumDelivers: with minimal_backoff_time above
// maximal_backoff_time (300s and 20s), Postfix's qmgr carries on and
// delivers; so does Postern's, without a fatal error or a restart.
func TestQmgrBackoffAboveMaximumDelivers(t *testing.T) {
	port := sinkPort(t)
	dest := startSink(t, "127.0.0.26:"+port, "dest.sink", sinkOptions{})
	in := newDelivery(t, "myhostname = out.test.example\nmydestination =\n")
	in.appendMainCF("minimal_backoff_time = 300s\nmaximal_backoff_time = 20s\ntransport_maps = " +
		in.writeMap("transport", fmt.Sprintf("dest.example smtp:[127.0.0.26]:%s\n", port)) + "\n")
	in.run()
	in.send("sender@origin.example", []string{"a@dest.example"}, "Subject: backoff\r\n\r\nbody\r\n")
	assertEnvelope(t, dest.waitMessages(t, in, 1, 30*time.Second)[0], "sender@origin.example", "a@dest.example")
	log := in.waitLog("to=<a@dest.example>", 30*time.Second)
	if strings.Contains(log, "fatal:") || strings.Contains(log, "terminated") {
		t.Errorf("qmgr did not carry on:\n%s", log)
	}
}
