// Tests of header_checks, mime_header_checks, nested_header_checks and
// body_checks: every action, its log line and what reaches the queue file.

package cleanup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/hbc"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/queue"
)

// regexpChecks writes a regexp table and opens it as the checks of name.
func regexpChecks(t *testing.T, name, source string) *hbc.Checks {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, err := maps.Open("regexp:"+path, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tbl.Close() })
	return &hbc.Checks{Name: name, Tables: []maps.Table{tbl}}
}

func checkedSettings(t *testing.T) *Settings {
	s := baseSettings()
	s.HeaderChecks = regexpChecks(t, "header_checks", `
/^Subject: reject me/           REJECT go away
/^Subject: reject plain/        REJECT
/^Subject: later/               REJECT 4.7.0 try later
/^Subject: discard/             DISCARD spam
/^Subject: hold/                HOLD held for review
/^Subject: prepend/             PREPEND X-Flag: yes
/^Subject: replace/             REPLACE Subject: replaced
/^X-Ignore:/                    IGNORE
/^Subject: warn/                WARN watch this
/^Subject: info/                INFO noted
/^Subject: redirect/            REDIRECT boss@test.example
/^Subject: filter/              FILTER scan:[127.0.0.1]:10025
/^Subject: bcc/                 BCC archive@test.example
/^Subject: dunno/               DUNNO
/^Subject: multi.*line/           REJECT folded
/^Received: from c\.example.*ESMTP/ WARN own received
`)
	s.MIMEHeaderChecks = regexpChecks(t, "mime_header_checks", `
/^Content-Type: application\/x-evil/ REJECT evil attachment
`)
	s.NestedHeaderChecks = regexpChecks(t, "nested_header_checks", `
/^Subject: nested bad/ REJECT nested
`)
	s.BodyChecks = regexpChecks(t, "body_checks", `
/^viagra/        REJECT body spam
/^replace body/  REPLACE new body line
/^drop body/     IGNORE
/^prepend body/  PREPEND before body
/^late/          REJECT too late
`)
	s.BodyChecksSizeLimit = 200
	return s
}

func filtered(sender string, rcpts ...string) *ipc.CleanupSubmission {
	sub := remote(sender, rcpts...)
	sub.Flags |= ipc.CleanupFlagFilter
	return sub
}

func TestHeaderBodyChecks(t *testing.T) {
	ts := startServer(t, checkedSettings(t))
	const logTail = " from localhost[127.0.0.1]; from=<s@remote.example> to=<u@test.example> proto=ESMTP helo=<c.example>"
	tests := []struct {
		name      string
		content   string
		status    ipc.CleanupStatus
		reply     string
		log       string // with ID for the queue ID
		queue     string // where the file is: incoming, hold, "" for none
		inContent string
		notIn     string
		rcpts     string
		attr      string // name=value expected in the queue file
	}{
		{name: "reject with text", content: "Subject: reject me now\n\nbody\n",
			status: ipc.CleanupStatContent, reply: "550 5.7.1 go away",
			log: "ID: reject: header Subject: reject me now" + logTail + ": 5.7.1 go away"},
		{name: "reject without text", content: "Subject: reject plain\n\nbody\n",
			status: ipc.CleanupStatContent, reply: "550 5.7.1 message content rejected",
			log: "ID: reject: header Subject: reject plain" + logTail + ": 5.7.1 message content rejected"},
		{name: "reject with 4xx code defers", content: "Subject: later\n\nbody\n",
			status: ipc.CleanupStatDefer, reply: "451 4.7.0 try later"},
		{name: "folded header is one key", content: "Subject: multi\n\tline\n\nbody\n",
			status: ipc.CleanupStatContent, reply: "550 5.7.1 folded"},
		{name: "discard", content: "Subject: discard\n\nbody\n",
			log: "ID: discard: header Subject: discard" + logTail + ": spam"},
		{name: "hold", content: "Subject: hold\n\nbody\n", queue: queue.Hold,
			log: "ID: hold: header Subject: hold" + logTail + ": held for review"},
		{name: "prepend", content: "Subject: prepend\n\nbody\n", queue: queue.Incoming,
			inContent: "X-Flag: yes\nSubject: prepend\n",
			log:       "ID: prepend: header Subject: prepend" + logTail + ": X-Flag: yes"},
		{name: "replace", content: "Subject: replace\n\nbody\n", queue: queue.Incoming,
			inContent: "\nSubject: replaced\n", notIn: "Subject: replace\n"},
		{name: "ignore", content: "X-Ignore: 1\nSubject: x\n\nbody\n", queue: queue.Incoming, notIn: "X-Ignore"},
		{name: "warn", content: "Subject: warn\n\nbody\n", queue: queue.Incoming,
			log: "ID: warning: header Subject: warn" + logTail + ": watch this"},
		{name: "info", content: "Subject: info\n\nbody\n", queue: queue.Incoming,
			log: "ID: info: header Subject: info" + logTail + ": noted"},
		{name: "own Received: is checked", content: "Subject: x\n\nbody\n", queue: queue.Incoming,
			log: "ID: warning: header Received: from c.example (localhost [127.0.0.1])"},
		{name: "redirect", content: "Subject: redirect\n\nbody\n", queue: queue.Incoming,
			attr: "redirect_to=boss@test.example"},
		{name: "filter", content: "Subject: filter\n\nbody\n", queue: queue.Incoming,
			attr: "content_filter=scan:[127.0.0.1]:10025",
			log:  "ID: filter: header Subject: filter" + logTail + ": scan:[127.0.0.1]:10025"},
		{name: "bcc", content: "Subject: bcc\n\nbody\n", queue: queue.Incoming,
			rcpts: "u@test.example,archive@test.example"},
		{name: "dunno", content: "Subject: dunno\n\nbody\n", queue: queue.Incoming, inContent: "Subject: dunno\n"},
		{name: "body reject", content: "Subject: x\n\nhello\nviagra now\n",
			status: ipc.CleanupStatContent, reply: "550 5.7.1 body spam",
			log: "ID: reject: body viagra now" + logTail + ": 5.7.1 body spam"},
		{name: "body replace, ignore, prepend", content: "Subject: x\n\nreplace body\ndrop body\nprepend body\n",
			queue: queue.Incoming, inContent: "\nnew body line\nbefore body\nprepend body\n", notIn: "drop body"},
		{name: "body_checks_size_limit", content: "Subject: x\n\n" + strings.Repeat("filler line\n", 30) + "late\n",
			queue: queue.Incoming, inContent: "\nlate\n"},
		{name: "mime header", content: "Subject: x\nContent-Type: multipart/mixed; boundary=BB\n\n--BB\nContent-Type: application/x-evil\n\nxx\n--BB--\n",
			status: ipc.CleanupStatContent, reply: "550 5.7.1 evil attachment"},
		{name: "nested header", content: "Subject: x\nContent-Type: multipart/mixed; boundary=BB\n\n--BB\nContent-Type: message/rfc822\n\nSubject: nested bad\n\nxx\n--BB--\n",
			status: ipc.CleanupStatContent, reply: "550 5.7.1 nested"},
		{name: "nested subject is not a primary header", content: "Subject: x\nContent-Type: message/rfc822\n\nSubject: reject me\n\nxx\n",
			queue: queue.Incoming},
		{name: "CRLF lines", content: "Subject: reject me\r\n\r\nbody\r\n",
			status: ipc.CleanupStatContent, reply: "550 5.7.1 go away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := ts.submit(filtered("s@remote.example", "u@test.example"), tt.content)
			if reply.Status != tt.status || reply.Reason != tt.reply {
				t.Fatalf("reply %+v, want status %v reason %q", reply, tt.status, tt.reply)
			}
			id := reply.QueueID
			if tt.log != "" {
				want := tt.log
				if id != "" {
					want = strings.ReplaceAll(want, "ID:", id+":")
				} else {
					want = want[len("ID:"):]
				}
				if !strings.Contains(ts.logText(), want) {
					t.Errorf("log lacks %q:\n%s", want, ts.logText())
				}
			}
			for _, q := range []string{queue.Incoming, queue.Hold} {
				_, err := os.Stat(ts.layout.Path(q, id))
				if exists := id != "" && err == nil; exists != (q == tt.queue) {
					t.Errorf("file in %s: %v, want queue %q", q, exists, tt.queue)
				}
			}
			if tt.queue != queue.Incoming {
				return
			}
			m, content := ts.load(id)
			if tt.inContent != "" && !strings.Contains(content, tt.inContent) {
				t.Errorf("content lacks %q:\n%s", tt.inContent, content)
			}
			if tt.notIn != "" && strings.Contains(content, tt.notIn) {
				t.Errorf("content has %q:\n%s", tt.notIn, content)
			}
			if tt.rcpts != "" && strings.Join(addresses(m), ",") != tt.rcpts {
				t.Errorf("recipients %v, want %s", addresses(m), tt.rcpts)
			}
			if tt.attr != "" {
				name, value, _ := strings.Cut(tt.attr, "=")
				if got, _ := m.Attr(name); got != value {
					t.Errorf("attribute %s = %q, want %q", name, got, value)
				}
			}
		})
	}
}

// Without the filter flag (receive_override_options=no_header_body_checks)
// nothing is checked.
func TestChecksNeedFilterFlag(t *testing.T) {
	ts := startServer(t, checkedSettings(t))
	reply := ts.submit(remote("s@remote.example", "u@test.example"), "Subject: reject me\n\nviagra\n")
	if reply.Status != 0 {
		t.Fatalf("reply %+v", reply)
	}
}

// A local submission (sendmail, CleanupFlagBounce) that the checks reject
// is queued with the reason, for qmgr to bounce to its sender.
func TestChecksRejectLocalSubmissionForBounce(t *testing.T) {
	ts := startServer(t, checkedSettings(t))
	sub := &ipc.CleanupSubmission{Sender: "dave@test.example", Recipients: []ipc.Recipient{{Address: "u@test.example"}},
		Flags: ipc.CleanupFlagFilter | ipc.CleanupFlagBounce | ipc.CleanupFlagMapOK, SubmitterUID: 1000}
	reply := ts.submit(sub, "Subject: reject me now\n\nbody\n")
	if reply.Status != 0 || reply.QueueID == "" {
		t.Fatalf("reply %+v", reply)
	}
	m, _ := ts.load(reply.QueueID)
	if got, _ := m.Attr(queue.AttrContentReject); got != "5.7.1 go away" {
		t.Errorf("content_reject = %q", got)
	}
	if want := reply.QueueID + ": reject: header Subject: reject me now from local; from=<dave@test.example> to=<u@test.example>: 5.7.1 go away"; !strings.Contains(ts.logText(), want) {
		t.Errorf("log lacks %q:\n%s", want, ts.logText())
	}
}
