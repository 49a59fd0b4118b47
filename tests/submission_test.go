// End-to-end tests of local submission: sendmail -> maildrop -> pickup -> cleanup -> incoming, under master.

package tests

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/tests/internal/harness"
)

// newSubmissionRun starts master with the real cleanup and pickup.
func newSubmissionRun(t *testing.T) *masterRun {
	t.Helper()
	in := newMasterRun(t, masterRunOptions{
		masterCF: "pickup unix n - n 60 1 pickup\ncleanup unix n - n - 0 cleanup\npostlog unix-dgram n - n - 1 postlogd\n",
		mainCF:   "myhostname = mx.test.example\nmydomain = test.example\nmyorigin = $mydomain\n",
	})
	in.linkDaemons("cleanup", "pickup", "sendmail")
	in.start()
	waitForPath(t, filepath.Join(in.queue, "public", "pickup"), 30*time.Second)
	waitForPath(t, filepath.Join(in.queue, "public", "cleanup"), 30*time.Second)
	return in
}

// sendmail runs sendmail as the instance's user.
func (in *masterRun) sendmail(stdin string, args ...string) harness.Result {
	in.t.Helper()
	return harness.Invocation{Path: harness.Bin(in.t, "sendmail"), ConfigDir: in.etc, Args: args, Stdin: stdin, AsUser: in.asUser}.Run(in.t)
}

// submitter is the login name and uid sendmail runs as.
func (in *masterRun) submitter() (string, string) {
	in.t.Helper()
	name := in.asUser
	if name == "" {
		u, err := user.Current()
		if err != nil {
			in.t.Fatal(err)
		}
		return u.Username, u.Uid
	}
	u, err := user.Lookup(name)
	if err != nil {
		in.t.Fatal(err)
	}
	return u.Username, u.Uid
}

// waitIncoming waits until incoming/ holds n committed files and returns
// their IDs.
func (in *masterRun) waitIncoming(n int, timeout time.Duration) []string {
	in.t.Helper()
	layout := queue.NewLayout(in.queue, nil, 1, false)
	deadline := time.Now().Add(timeout)
	for {
		var ready []string
		ids, _ := layout.IDs(queue.Incoming)
		for _, id := range ids {
			if ok, _ := queue.Ready(layout.Path(queue.Incoming, id)); ok {
				ready = append(ready, id)
			}
		}
		if len(ready) >= n {
			return ready
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("incoming has %v after %v, want %d messages; log:\n%s", ready, timeout, n, in.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readQueued loads an incoming message and its content.
func (in *masterRun) readQueued(id string) (*queue.Message, string) {
	in.t.Helper()
	layout := queue.NewLayout(in.queue, nil, 1, false)
	m, err := layout.Load(queue.Incoming, id, nil)
	if err != nil {
		in.t.Fatal(err)
	}
	cr, err := queue.OpenContent(m.Path, m.Size.DataOffset)
	if err != nil {
		in.t.Fatal(err)
	}
	defer cr.Close()
	data, err := io.ReadAll(cr)
	if err != nil {
		in.t.Fatal(err)
	}
	return m, string(data)
}

func TestSendmailToIncoming(t *testing.T) {
	in := newSubmissionRun(t)
	login, uid := in.submitter()

	res := in.sendmail("Subject: e2e\n\nhello\n.\nnot part of the message\n", "-F", "Test Sender", "bob")
	if res.ExitCode != 0 {
		t.Fatalf("sendmail: %s", res)
	}
	ids := in.waitIncoming(1, 30*time.Second)
	m, content := in.readQueued(ids[0])
	if m.Sender != login+"@test.example" {
		t.Errorf("sender %q, want %s@test.example", m.Sender, login)
	}
	if len(m.Recipients) != 1 || m.Recipients[0].Address != "bob@test.example" {
		t.Errorf("recipients %+v", m.Recipients)
	}
	wantContent := regexp.MustCompile(`^Received: by mx\.test\.example \(Postern, from userid ` + uid + `\)\n\tid ` + ids[0] + `; .+\n` +
		`Subject: e2e\nFrom: Test Sender <` + login + `@test\.example>\n` +
		`Message-Id: <\d{14}\.` + ids[0] + `@mx\.test\.example>\nDate: .+\n\nhello\n$`)
	if !wantContent.MatchString(content) {
		t.Errorf("content:\n%s", content)
	}
	in.waitLog(fmt.Sprintf("%s: uid=%s from=<%s>", ids[0], uid, login), 30*time.Second)
	log := in.waitLog(ids[0]+": message-id=<", 30*time.Second)
	if !regexp.MustCompile(`postfix/cleanup\[\d+\]: ` + ids[0] + `: message-id=<\d{14}\.` + ids[0] + `@mx\.test\.example>`).MatchString(log) {
		t.Errorf("no cleanup message-id line:\n%s", log)
	}
	// pickup removes the maildrop file once cleanup has answered, after
	// the commit the test waited for.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		entries, _ := os.ReadDir(filepath.Join(in.queue, "maildrop"))
		if len(entries) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("maildrop/ still holds %d files after 30s", len(entries))
		}
	}
}

func TestSendmailExtractRecipients(t *testing.T) {
	in := newSubmissionRun(t)
	res := in.sendmail("From: a@remote.example\nTo: x@test.example\nCc: Why <y@other.example>\nBcc: hidden@test.example\nSubject: t\n\nbody\n",
		"-t", "-i", "-f", "<>")
	if res.ExitCode != 0 {
		t.Fatalf("sendmail -t: %s", res)
	}
	ids := in.waitIncoming(1, 30*time.Second)
	m, content := in.readQueued(ids[0])
	var got []string
	for _, r := range m.Recipients {
		got = append(got, r.Address)
	}
	if want := "x@test.example,y@other.example,hidden@test.example"; strings.Join(got, ",") != want {
		t.Errorf("recipients %v, want %s", got, want)
	}
	if m.Sender != "" {
		t.Errorf("sender %q, want the null sender", m.Sender)
	}
	if strings.Contains(content, "Bcc:") || !strings.Contains(content, "\nFrom: a@remote.example\n") {
		t.Errorf("content:\n%s", content)
	}

	// As in Postfix a control character in one address loses none of the
	// others, and the address itself is kept.
	res = in.sendmail("To: good@test.example, \x01a@test.example, other@test.example\nSubject: t\n\nbody\n", "-t")
	if res.ExitCode != 0 {
		t.Fatalf("sendmail -t with a control character: %s", res)
	}
	ids = in.waitIncoming(2, 30*time.Second)
	got = nil
	for _, id := range ids {
		m, _ := in.readQueued(id)
		for _, r := range m.Recipients {
			got = append(got, r.Address)
		}
	}
	if want := "\x01a@test.example"; !slices.Contains(got, want) || !slices.Contains(got, "good@test.example") || !slices.Contains(got, "other@test.example") {
		t.Errorf("recipients %q, want good@, %q and other@test.example among them", got, want)
	}

	// As Postfix 3.7: sendmail (not postdrop) says it, naming the sender
	// and uid, and exits with EX_TEMPFAIL.
	login, uid := in.submitter()
	res = in.sendmail("Subject: none\n\nbody\n", "-t")
	if want := "sendmail: fatal: " + login + "(" + uid + "): No recipient addresses found in message header"; res.ExitCode != 75 ||
		!strings.Contains(res.Stderr, want) || strings.Contains(res.Stderr, "postdrop") {
		t.Errorf("sendmail -t without recipients: %s, want exit 75 and %q", res, want)
	}
	res = in.sendmail("Subject: none\n\nbody\n")
	if want := "sendmail: fatal: " + login + "(" + uid + "): Recipient addresses must be specified on the command line or via the -t option"; res.ExitCode != 75 ||
		!strings.Contains(res.Stderr, want) {
		t.Errorf("sendmail without recipients: %s, want exit 75 and %q", res, want)
	}
}

// TestCleanupKilledMidSubmission kills cleanup while a client is half-way
// through a message: no committed file may appear in incoming/, and the
// restarted cleanup takes the next message.
func TestCleanupKilledMidSubmission(t *testing.T) {
	in := newSubmissionRun(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := ipc.Dial(ctx, filepath.Join(in.queue, "public", "cleanup"), ipc.ProtocolCleanup)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sub := &ipc.CleanupSubmission{Sender: "s@remote.example", Recipients: []ipc.Recipient{{Address: "r@test.example"}},
		ClientName: "localhost", ClientAddress: "127.0.0.1", Protocol: "ESMTP"}
	if err := conn.Send(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(ctx, &ipc.ContentChunk{Data: []byte("Subject: half\n\n" + strings.Repeat("line\n", 1000))}); err != nil {
		t.Fatal(err)
	}
	pid := in.childPID("cleanup", 30*time.Second)
	// The chunk has reached cleanup when its file exists in incoming/.
	deadline := time.Now().Add(30 * time.Second)
	for {
		entries, _ := os.ReadDir(filepath.Join(in.queue, "incoming"))
		if len(entries) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !daemonGone(pid, 30*time.Second) {
		t.Fatalf("cleanup %d still running", pid)
	}
	var reply ipc.CleanupReply
	if err := conn.Expect(ctx, &reply); err == nil {
		t.Errorf("got a reply %+v from a killed cleanup", reply)
	}
	entries, _ := os.ReadDir(filepath.Join(in.queue, "incoming"))
	for _, e := range entries {
		if ok, _ := queue.Ready(filepath.Join(in.queue, "incoming", e.Name())); ok {
			t.Errorf("incoming/%s is marked complete after cleanup was killed mid-message", e.Name())
		}
	}

	res := in.sendmail("Subject: after\n\nbody\n", "bob")
	if res.ExitCode != 0 {
		t.Fatalf("sendmail: %s", res)
	}
	ids := in.waitIncoming(1, 30*time.Second)
	if _, content := in.readQueued(ids[0]); !strings.Contains(content, "Subject: after\n") {
		t.Errorf("content after restart:\n%s", content)
	}
}

func TestSendmailSMTPModeAndMailq(t *testing.T) {
	in := newSubmissionRun(t)
	script := "EHLO client.example\r\nMAIL FROM:<a@remote.example>\r\nRCPT TO:<b@test.example>\r\nRCPT TO:<c@test.example>\r\nDATA\r\n" +
		"Subject: bs\r\n\r\n..stuffed\r\n.\r\nQUIT\r\n"
	res := in.sendmail(script, "-bs")
	if res.ExitCode != 0 {
		t.Fatalf("sendmail -bs: %s", res)
	}
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\r\n"), "\r\n")
	want := []string{"220 mx.test.example ESMTP Postern", "250-mx.test.example", "250-PIPELINING", "250-ENHANCEDSTATUSCODES", "250 8BITMIME",
		"250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued as ", "221 2.0.0 Bye"}
	if len(lines) != len(want) {
		t.Fatalf("dialogue:\n%s", res.Stdout)
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("reply %d = %q, want %q", i, lines[i], want[i])
		}
	}
	ids := in.waitIncoming(1, 30*time.Second)
	m, content := in.readQueued(ids[0])
	if m.Sender != "a@remote.example" || len(m.Recipients) != 2 || !strings.HasSuffix(content, "\n\n.stuffed\n") {
		t.Errorf("queued %q -> %+v:\n%s", m.Sender, m.Recipients, content)
	}

	res = in.sendmail("", "-bp")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, ids[0]) || !strings.Contains(res.Stdout, "a@remote.example") {
		t.Errorf("sendmail -bp: %s", res)
	}
}
