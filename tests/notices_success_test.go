// End-to-end tests of success notices: RCPT TO NOTIFY=SUCCESS through a
// next hop that does not announce DSN, compared with real Postfix's.

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/postern/postern/tests/internal/harness"
)

// sendNotify submits one message to addr with NOTIFY= on every RCPT TO.
func sendNotify(t *testing.T, addr, from string, to []string, notify []gosmtp.DSNNotify, body string) {
	t.Helper()
	c, err := gosmtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	if err := c.Hello("client.test.example"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	if err := c.Mail(from, nil); err != nil {
		t.Fatalf("MAIL FROM: %v", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, &gosmtp.RcptOptions{Notify: notify}); err != nil {
			t.Fatalf("RCPT TO %s: %v", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("end of DATA: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("QUIT: %v", err)
	}
}

// TestNoticesSuccessMatchesRealPostfix relays a message with
// NOTIFY=SUCCESS to a next hop without DSN through the real Postfix and
// through Postern, and compares the two "relayed" success notices.
func TestNoticesSuccessMatchesRealPostfix(t *testing.T) {
	port := sinkPort(t)
	realAddr := harness.FreeAddr(t)
	dest := startSink(t, "127.0.0.20:"+port, "dest.sink", sinkOptions{})
	viaReal := startSink(t, "127.0.0.18:"+port, "origin-of-real.sink", sinkOptions{})
	viaPostern := startSink(t, "127.0.0.19:"+port, "origin-of-postern.sink", sinkOptions{})
	real := startRealPostfixRelayWith(t, realAddr, fmt.Sprintf("dest.example smtp:[127.0.0.20]:%s\norigin.example smtp:[127.0.0.18]:%s\n", port, port),
		func(string) string { return "" })
	in := newDelivery(t, "myhostname = postern.test.example\nmydestination =\n")
	in.appendMainCF("transport_maps = " + in.writeMap("transport", fmt.Sprintf(
		"dest.example smtp:[127.0.0.20]:%s\norigin.example smtp:[127.0.0.19]:%s\n", port, port)) + "\n")
	in.run()

	body := "Subject: tell me\r\nMessage-ID: <success@origin.example>\r\nFrom: <sender@origin.example>\r\n\r\nbody\r\n"
	success := []gosmtp.DSNNotify{gosmtp.DSNNotifySuccess}
	sendNotify(t, realAddr, "sender@origin.example", []string{"good@dest.example"}, success, body)
	sendNotify(t, in.addr, "sender@origin.example", []string{"good@dest.example"}, success, body)
	dest.waitMessages(t, in, 2, 60*time.Second)
	want := viaReal.waitMessages(t, in, 1, 60*time.Second)[0]
	realLog := real.waitLog(t, "sender delivery status notification: ", 30*time.Second)
	got := viaPostern.waitMessages(t, in, 1, 60*time.Second)[0]
	realID := queueIDOf(t, realLog, "good@dest.example")
	// The delivery line reaches the log through postlogd, maybe after the
	// notice reached its sink.
	posternID := queueIDOf(t, in.waitLog("to=<good@dest.example>", 30*time.Second), "good@dest.example")
	in.waitLog(posternID+": sender delivery status notification: ", 30*time.Second)
	wantHeaders, wantBody := noticeParts(t, noticeNormalizer("realpf.test.example", realID)(want.Data))
	gotHeaders, gotBody := noticeParts(t, noticeNormalizer("postern.test.example", posternID)(got.Data))
	if gotHeaders != wantHeaders {
		t.Errorf("headers differ from real Postfix's:\n got:\n%s\nwant:\n%s", gotHeaders, wantHeaders)
	}
	if gotBody != wantBody {
		t.Errorf("text and report differ from real Postfix's:\n got:\n%s\nwant:\n%s", gotBody, wantBody)
	}
	assertEnvelope(t, got, "", "sender@origin.example")
	assertEnvelope(t, want, "", "sender@origin.example")
}

// TestNoticesSuccessVirtualDelivered delivers a message with
// NOTIFY=SUCCESS into a virtual Maildir: the sender's mailbox receives a
// success notice with "Action: delivered".
func TestNoticesSuccessVirtualDelivered(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("virtual delivery needs root")
	}
	in, addr, mailBase := startVirtualAsRoot(t, 65534)
	sendNotify(t, addr, "carol@example.test", []string{"bob@example.test"}, []gosmtp.DSNNotify{gosmtp.DSNNotifySuccess},
		"Subject: tell me\r\nFrom: <carol@example.test>\r\n\r\nbody\r\n")
	log := in.waitLog("sender delivery status notification: ", 60*time.Second)
	mbox := filepath.Join(mailBase, "carol")
	var data []byte
	for deadline := time.Now().Add(60 * time.Second); ; {
		data, _ = os.ReadFile(mbox)
		if strings.Contains(string(data), "\n--") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	id := queueIDOf(t, log, "bob@example.test")
	notice := string(data)
	for _, want := range []string{
		"Subject: Successful Mail Delivery Report\n",
		"Your message was successfully delivered to the destination(s)\n",
		"\n<bob@example.test>: delivered to maildir\n",
		"X-Postfix-Queue-ID: " + id + "\n",
		"\nFinal-Recipient: rfc822; bob@example.test\nOriginal-Recipient: rfc822;bob@example.test\nAction: delivered\nStatus: 2.0.0\n",
		"Content-Description: Message Headers\n",
	} {
		if !strings.Contains(notice, want) {
			t.Errorf("notice lacks %q:\n%s\nlog:\n%s", want, notice, in.log())
		}
	}
}
