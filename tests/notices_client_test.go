// End-to-end test of the smtp client's postmaster transcript
// (notify_classes = protocol), compared with real Postfix's.

package tests

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// scriptedSMTP is a server that answers each command by its verb from
// a fixed table, the same way for every client, so that two MTAs'
// transcripts of a session with it can be compared.
type scriptedSMTP struct {
	ln      net.Listener
	replies map[string]string // verb ("" for the greeting, "." after DATA) → reply lines
	wg      sync.WaitGroup
}

// startScriptedSMTP listens on addr and answers with replies; missing
// verbs get "250 2.0.0 Ok".
func startScriptedSMTP(t *testing.T, addr string, replies map[string]string) *scriptedSMTP {
	t.Helper()
	ln := listenRetrying(t, addr, "scripted server")
	s := &scriptedSMTP{ln: ln, replies: replies}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *scriptedSMTP) reply(w *bufio.Writer, verb string) {
	text, ok := s.replies[verb]
	if !ok {
		text = "250 2.0.0 Ok"
	}
	w.WriteString(strings.ReplaceAll(text, "\n", "\r\n") + "\r\n")
}

func (s *scriptedSMTP) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	s.reply(w, "")
	w.Flush()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		verb = strings.ToUpper(verb)
		if strings.HasPrefix(verb, "MAIL") || strings.HasPrefix(verb, "RCPT") {
			verb = verb[:4]
		}
		s.reply(w, verb)
		if verb == "DATA" && strings.HasPrefix(s.replies["DATA"], "354") {
			w.Flush()
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if line == ".\r\n" {
					break
				}
			}
			s.reply(w, ".")
		}
		// Replies to pipelined commands go out when no more are waiting.
		if r.Buffered() == 0 {
			w.Flush()
		}
		if verb == "QUIT" {
			w.Flush()
			return
		}
	}
}

// TestNoticesClientTranscriptMatchesRealPostfix: with notify_classes =
// protocol, a next hop that answers RCPT with a 501 (a protocol error
// by the client, as a 500-509 code says) makes the smtp client send
// error_notice_recipient the transcript of the session, from the
// double-bounce address, as Postfix's smtp does. The real Postfix and
// Postern deliver the same message to the same scripted server, and
// their transcripts are compared line by line (host names and ports
// aside), with and without PIPELINING. Pipelined, both send DATA after
// the RCPT before its reply, so the transcript has DATA and its reply;
// a server that answers that DATA with 354 gets the end of data alone.
func TestNoticesClientTranscriptMatchesRealPostfix(t *testing.T) {
	for _, tc := range []struct {
		pipelining bool
		data       string
	}{
		{false, "554 5.5.1 Error: no valid recipients"},
		{true, "554 5.5.1 Error: no valid recipients"},
		{true, "354 End data with <CR><LF>.<CR><LF>"},
	} {
		t.Run(fmt.Sprintf("pipelining=%v/DATA=%.3s", tc.pipelining, tc.data), func(t *testing.T) {
			testClientTranscript(t, tc.pipelining, tc.data)
		})
	}
}

func testClientTranscript(t *testing.T, pipelining bool, dataReply string) {
	port := sinkPort(t)
	// 8BITMIME: the client's BODY=8BITMIME (net/smtp sends it) is passed on.
	ehlo := "250-scripted.example\n250-ENHANCEDSTATUSCODES\n250 8BITMIME"
	if pipelining {
		ehlo = "250-scripted.example\n250-PIPELINING\n250-ENHANCEDSTATUSCODES\n250 8BITMIME"
	}
	startScriptedSMTP(t, "127.0.0.21:"+port, map[string]string{
		"":     "220 scripted.example ESMTP ready",
		"EHLO": ehlo,
		"MAIL": "250 2.1.0 Sender ok",
		"RCPT": "501 5.1.3 Bad recipient address syntax",
		"DATA": dataReply,
		".":    "554 5.5.1 Error: no valid recipients",
		"QUIT": "221 2.0.0 Bye",
	})
	mainCF := "notify_classes = protocol\nerror_notice_recipient = postmaster@origin.example\n"
	route := fmt.Sprintf("dest.example smtp:[127.0.0.21]:%s\n", port)
	realAddr := harness.FreeAddr(t)
	viaReal := startSink(t, "127.0.0.18:"+port, "origin-of-real.sink", sinkOptions{})
	viaPostern := startSink(t, "127.0.0.19:"+port, "origin-of-postern.sink", sinkOptions{})
	real := startRealPostfixRelayWith(t, realAddr, route+fmt.Sprintf("origin.example smtp:[127.0.0.18]:%s\n", port),
		func(string) string { return mainCF })
	in := newDelivery(t, "myhostname = postern.test.example\nmydestination =\n"+mainCF)
	in.appendMainCF("transport_maps = " + in.writeMap("transport", route+fmt.Sprintf(
		"origin.example smtp:[127.0.0.19]:%s\n", port)) + "\n")
	in.run()

	body := "Subject: syntax\r\nFrom: <sender@origin.example>\r\n\r\nbody\r\n"
	if err := harness.SendMail(realAddr, "sender@origin.example", []string{"x@dest.example"}, []byte(body)); err != nil {
		t.Fatalf("send to the real Postfix: %v\nlog:\n%s", err, real.log())
	}
	in.send("sender@origin.example", []string{"x@dest.example"}, body)
	// Each sends the sender a non-delivery notification and the
	// postmaster the transcript.
	want := noticeOf(t, viaReal.waitMessages(t, in, 2, 60*time.Second), "postmaster@origin.example")
	got := noticeOf(t, viaPostern.waitMessages(t, in, 2, 60*time.Second), "postmaster@origin.example")
	assertEnvelope(t, want, "double-bounce@realpf.test.example", "postmaster@origin.example")
	assertEnvelope(t, got, "double-bounce@postern.test.example", "postmaster@origin.example")

	normalize := func(host string) func(string) string {
		return func(s string) string {
			s = strings.ReplaceAll(s, host, "HOST")
			return strings.ReplaceAll(s, "Postern SMTP client", "Postfix SMTP client")
		}
	}
	wantHeaders, wantBody := transcriptParts(t, normalize("realpf.test.example")(want.Data))
	gotHeaders, gotBody := transcriptParts(t, normalize("postern.test.example")(got.Data))
	if gotHeaders != wantHeaders {
		t.Errorf("headers differ from real Postfix's:\n%s", harness.Diff(wantHeaders, gotHeaders))
	}
	if gotBody != wantBody {
		t.Errorf("transcript differs from real Postfix's:\n%s", harness.Diff(wantBody, gotBody))
	}
	if pipelining {
		assertContains(t, "pipelined transcript", got.Data, " Out: RCPT TO:<x@dest.example>\r\n Out: DATA\r\n")
	}
	assertContains(t, "transcript", got.Data,
		fmt.Sprintf("Subject: Postern SMTP client: errors from 127.0.0.21[127.0.0.21]:%s\r\n", port),
		fmt.Sprintf("\r\n\r\nUnexpected response from 127.0.0.21[127.0.0.21]:%s.\r\n\r\nTranscript of session follows.\r\n\r\n In:  220 scripted.example ESMTP ready\r\n Out: EHLO postern.test.example\r\n", port),
		" In:  501 5.1.3 Bad recipient address syntax\r\n",
		"\r\n\r\nFor other details, see the local mail logfile\r\n")
}

// transcriptParts returns a transcript notice's From, To and Subject
// lines and its body.
func transcriptParts(t *testing.T, data string) (headers, body string) {
	t.Helper()
	head, body, ok := strings.Cut(data, "\r\n\r\n")
	if !ok {
		t.Fatalf("no body:\n%s", data)
	}
	var keep []string
	for _, line := range strings.Split(head, "\r\n") {
		if regexp.MustCompile(`^(From|To|Subject): `).MatchString(line) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\r\n"), body
}
