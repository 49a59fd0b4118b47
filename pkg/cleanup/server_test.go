// Tests of the cleanup server over a real Unix socket, checking the queue files it writes.

package cleanup

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/queue"
)

var testNow = time.Date(2026, 11, 28, 13, 3, 59, 0, time.UTC)

type testServer struct {
	t      *testing.T
	socket string
	layout *queue.Layout
	log    string
}

func baseSettings() *Settings {
	return &Settings{
		MyHostname: "mx.test.example", MyOrigin: "test.example", MyDomain: "test.example", MailName: "Postern",
		AppendAtMyOrigin: true, MessageSizeLimit: 10240000, HopcountLimit: 50,
		AliasRecursionLimit: 1000, AliasExpansionLimit: 1000, PropagateVirtual: true, PropagateCanonical: true,
		IsLocalDomain: func(d string) (bool, error) { return strings.EqualFold(d, "test.example"), nil },
		Now:           func() time.Time { return testNow },
	}
}

// startServer serves cleanup with settings on a socket in a temporary
// queue directory.
func startServer(t *testing.T, settings *Settings) *testServer {
	t.Helper()
	return startServerWith(t, settings, nil)
}

// startServerWith is startServer with configure, when not nil, called
// on the server before it serves.
func startServerWith(t *testing.T, settings *Settings, configure func(*Server)) *testServer {
	t.Helper()
	dir := sockdir.New(t)
	layout := queue.NewLayout(dir, []string{"deferred", "defer"}, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "maillog")
	log, err := maillog.New(maillog.Options{Program: "cleanup", File: logPath, FilePrefixes: dir, Hostname: "mx"})
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "cleanup.sock")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Settings: settings, Layout: layout, Log: log}
	if configure != nil {
		configure(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				srv.Serve(ctx, nc)
			}()
		}
	}()
	t.Cleanup(func() { cancel(); ln.Close() })
	return &testServer{t: t, socket: socket, layout: layout, log: logPath}
}

func (ts *testServer) submit(sub *ipc.CleanupSubmission, content string) *ipc.CleanupReply {
	ts.t.Helper()
	ctx := context.Background()
	conn, err := ipc.Dial(ctx, ts.socket, ipc.ProtocolCleanup)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer conn.Close()
	reply, err := conn.Submit(ctx, sub, strings.NewReader(content))
	if err != nil {
		ts.t.Fatal(err)
	}
	return reply
}

// load reads back the queue file and its content.
func (ts *testServer) load(id string) (*queue.Message, string) {
	ts.t.Helper()
	m, err := ts.layout.Load(queue.Incoming, id, func(w string) { ts.t.Errorf("warning: %s", w) })
	if err != nil {
		ts.t.Fatal(err)
	}
	cr, err := queue.OpenContent(m.Path, m.Size.DataOffset)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer cr.Close()
	data, err := io.ReadAll(cr)
	if err != nil {
		ts.t.Fatal(err)
	}
	return m, string(data)
}

func (ts *testServer) logText() string {
	data, _ := os.ReadFile(ts.log)
	return string(data)
}

func (ts *testServer) incoming() []string {
	ts.t.Helper()
	ids, err := ts.layout.IDs(queue.Incoming)
	if err != nil {
		ts.t.Fatal(err)
	}
	return ids
}

func remote(sender string, rcpts ...string) *ipc.CleanupSubmission {
	sub := &ipc.CleanupSubmission{Sender: sender, ClientName: "localhost", ClientAddress: "127.0.0.1",
		HeloName: "c.example", Protocol: "ESMTP", ArrivalTime: testNow, Flags: ipc.CleanupFlagMapOK}
	for _, r := range rcpts {
		sub.Recipients = append(sub.Recipients, ipc.Recipient{Address: r})
	}
	return sub
}

func addresses(m *queue.Message) []string {
	var out []string
	for _, r := range m.Recipients {
		out = append(out, r.Address)
	}
	return out
}

func TestRemoteSubmissionHeaders(t *testing.T) {
	ts := startServer(t, baseSettings())
	tests := []struct {
		name     string
		rcpts    []string
		content  string
		wantHead string
		wantLog  string
		wantLog2 string
	}{
		{
			name:     "one recipient gets for",
			rcpts:    []string{"pftest@test.example"},
			content:  "Subject: hi\r\nMessage-ID: <t1@client.example>\r\nResent-Message-ID: <r1@x>\r\n\r\nbody\r\n",
			wantHead: "Received: from c.example (localhost [127.0.0.1])\n\tby mx.test.example (Postern) with ESMTP id ID\n\tfor <pftest@test.example>; Sat, 28 Nov 2026 13:03:59 +0000 (UTC)\nSubject: hi\nMessage-ID: <t1@client.example>\nResent-Message-ID: <r1@x>\n\nbody\n",
			wantLog:  ": message-id=<t1@client.example>",
			wantLog2: ": resent-message-id=<r1@x>",
		},
		{
			name:     "two recipients, no for, nothing added",
			rcpts:    []string{"a@test.example", "b@test.example"},
			content:  "Subject: hi\n\nbody\n",
			wantHead: "Received: from c.example (localhost [127.0.0.1])\n\tby mx.test.example (Postern) with ESMTP id ID;\n\tSat, 28 Nov 2026 13:03:59 +0000 (UTC)\nSubject: hi\n\nbody\n",
			wantLog:  ": message-id=<>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := ts.submit(remote("sender@remote.example", tt.rcpts...), tt.content)
			if reply.Status != 0 || reply.QueueID == "" {
				t.Fatalf("reply %+v", reply)
			}
			m, content := ts.load(reply.QueueID)
			want := strings.ReplaceAll(tt.wantHead, "id ID", "id "+reply.QueueID)
			if content != want {
				t.Errorf("content:\n%q\nwant\n%q", content, want)
			}
			if m.Sender != "sender@remote.example" {
				t.Errorf("sender %q", m.Sender)
			}
			if got := strings.Join(addresses(m), ","); got != strings.Join(tt.rcpts, ",") {
				t.Errorf("recipients %s", got)
			}
			if v, _ := m.Attr(queue.AttrClientAddr); v != "127.0.0.1" {
				t.Errorf("client_address %q", v)
			}
			if tt.wantLog2 != "" && !strings.Contains(ts.logText(), reply.QueueID+tt.wantLog2) {
				t.Errorf("log lacks %q:\n%s", reply.QueueID+tt.wantLog2, ts.logText())
			}
			if !strings.Contains(ts.logText(), reply.QueueID+tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", reply.QueueID+tt.wantLog, ts.logText())
			}
		})
	}
}

func TestLocalSubmissionAddsHeaders(t *testing.T) {
	ts := startServer(t, baseSettings())
	sub := &ipc.CleanupSubmission{Sender: "alice", Recipients: []ipc.Recipient{{Address: "bob"}}, ArrivalTime: testNow, Flags: ipc.CleanupFlagMapOK}
	sub.SubmitterUID = 1000
	reply := ts.submit(sub, "Subject: local\n\nhello\n")
	if reply.Status != 0 {
		t.Fatalf("reply %+v", reply)
	}
	m, content := ts.load(reply.QueueID)
	id := reply.QueueID
	want := "Received: by mx.test.example (Postern, from userid 1000)\n\tid " + id + "; Sat, 28 Nov 2026 13:03:59 +0000 (UTC)\n" +
		"Subject: local\n" +
		"Message-Id: <20261128130359." + id + "@mx.test.example>\n" +
		"Date: Sat, 28 Nov 2026 13:03:59 +0000 (UTC)\n" +
		"From: alice@test.example\n\nhello\n"
	if content != want {
		t.Errorf("content:\n%q\nwant\n%q", content, want)
	}
	if m.Sender != "alice@test.example" || strings.Join(addresses(m), ",") != "bob@test.example" {
		t.Errorf("envelope %q -> %v", m.Sender, addresses(m))
	}
	if !strings.Contains(ts.logText(), id+": message-id=<20261128130359."+id+"@mx.test.example>") {
		t.Errorf("log:\n%s", ts.logText())
	}
}

func TestUndisclosedRecipientsAndAlwaysAdd(t *testing.T) {
	s := baseSettings()
	s.AlwaysAddMissingHeaders = true
	s.UndisclosedRecipients = "To: undisclosed-recipients:;"
	ts := startServer(t, s)
	reply := ts.submit(remote("", "a@test.example"), "Subject: x\n\nbody\n")
	_, content := ts.load(reply.QueueID)
	for _, want := range []string{"\nMessage-Id: <", "\nDate: Sat, 28 Nov 2026", "\nFrom: MAILER-DAEMON\n", "\nTo: undisclosed-recipients:;\n\nbody\n"} {
		if !strings.Contains(content, want) {
			t.Errorf("content lacks %q:\n%s", want, content)
		}
	}
}

// writeTable writes a texthash table and opens it.
func writeTable(t *testing.T, text string) []maps.Table {
	t.Helper()
	path := filepath.Join(t.TempDir(), "table")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	table, err := maps.Open("texthash:"+path, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { table.Close() })
	return []maps.Table{table}
}

func TestVirtualAliasExpansion(t *testing.T) {
	table := `
sales@test.example     alice, bob@other.example
alice                  alice@mail.example
@catch.example         catchall@test.example
self@test.example      self@test.example, pftest
loop1@test.example     loop2@test.example
loop2@test.example     loop1@test.example
user@ext.example       real@ext.example
@move.example          @moved.example
big@test.example       a1@x.example, a2@x.example, a3@x.example
`
	tests := []struct {
		rcpt      string
		delimiter string
		want      []string
		reply     string
		warning   string
	}{
		{rcpt: "Sales@Test.Example", want: []string{"alice@mail.example", "bob@other.example"}},
		{rcpt: "alice", want: []string{"alice@mail.example"}},
		{rcpt: "anyone@catch.example", want: []string{"catchall@test.example"}},
		{rcpt: "self@test.example", want: []string{"self@test.example", "pftest@test.example"}},
		{rcpt: "nobody@elsewhere.example", want: []string{"nobody@elsewhere.example"}},
		{rcpt: "user+tag@ext.example", delimiter: "+", want: []string{"real+tag@ext.example"}},
		{rcpt: "joe@move.example", want: []string{"joe@moved.example"}},
		{rcpt: "loop1@test.example", reply: "451 4.6.0 Alias expansion error",
			warning: "warning: ID: unreasonable virtual_alias_maps map nesting for loop1@test.example -- message not accepted, try again later"},
		{rcpt: "big@test.example", reply: "451 4.6.0 Alias expansion error",
			warning: "warning: ID: unreasonable virtual_alias_maps map expansion size for big@test.example -- message not accepted, try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.rcpt, func(t *testing.T) {
			s := baseSettings()
			s.VirtualAliasMaps = writeTable(t, table)
			s.Extensions.Delimiter = tt.delimiter
			s.AliasExpansionLimit = 2
			ts := startServer(t, s)
			reply := ts.submit(remote("s@remote.example", tt.rcpt), "Subject: x\n\nbody\n")
			if tt.reply != "" {
				if reply.Reason != tt.reply || reply.Status != ipc.CleanupStatDefer {
					t.Fatalf("reply %+v, want %q", reply, tt.reply)
				}
				if ids := ts.incoming(); len(ids) != 0 {
					t.Errorf("incoming has %v", ids)
				}
				pattern := regexp.QuoteMeta(tt.warning)
				pattern = strings.Replace(pattern, "ID", "[0-9A-F]+", 1)
				if !regexp.MustCompile(pattern).MatchString(ts.logText()) {
					t.Errorf("log lacks %q:\n%s", tt.warning, ts.logText())
				}
				return
			}
			if reply.Status != 0 {
				t.Fatalf("reply %+v", reply)
			}
			m, _ := ts.load(reply.QueueID)
			if got := strings.Join(addresses(m), ","); got != strings.Join(tt.want, ",") {
				t.Errorf("recipients %s, want %s", got, strings.Join(tt.want, ","))
			}
			for _, r := range m.Recipients {
				if r.Original != tt.rcpt {
					t.Errorf("original recipient %q, want %q", r.Original, tt.rcpt)
				}
			}
		})
	}
}

func TestCanonicalMaps(t *testing.T) {
	s := baseSettings()
	s.SenderCanonicalMaps = writeTable(t, "alice@test.example  Alice.Smith@test.example\n")
	s.RecipientCanonicalMaps = writeTable(t, "@old.example  @new.example\n")
	s.CanonicalMaps = writeTable(t, "bob  robert@test.example\nAlice.Smith@test.example  asmith@test.example\n")
	ts := startServer(t, s)
	tests := []struct {
		sender, rcpt         string
		wantSender, wantRcpt string
	}{
		{"alice", "bob", "asmith@test.example", "robert@test.example"},
		{"carol@remote.example", "x@old.example", "carol@remote.example", "x@new.example"},
		{"", "bob@elsewhere.example", "", "bob@elsewhere.example"},
	}
	for _, tt := range tests {
		t.Run(tt.sender+"->"+tt.rcpt, func(t *testing.T) {
			reply := ts.submit(remote(tt.sender, tt.rcpt), "Subject: x\n\nbody\n")
			if reply.Status != 0 {
				t.Fatalf("reply %+v", reply)
			}
			m, _ := ts.load(reply.QueueID)
			if m.Sender != tt.wantSender || strings.Join(addresses(m), ",") != tt.wantRcpt {
				t.Errorf("got %q -> %v, want %q -> %q", m.Sender, addresses(m), tt.wantSender, tt.wantRcpt)
			}
		})
	}
}

func TestRejectedContent(t *testing.T) {
	s := baseSettings()
	s.MessageSizeLimit = 1000
	s.HopcountLimit = 3
	ts := startServer(t, s)
	tests := []struct {
		name    string
		content string
		status  ipc.CleanupStatus
		reply   string
		log     string
	}{
		{"too big", "Subject: x\n\n" + strings.Repeat("0123456789\n", 200), ipc.CleanupStatSize,
			"552 5.3.4 Error: message file too big", ": queue file size limit exceeded"},
		{"too many hops", strings.Repeat("Received: from a by b\n", 3) + "\nbody\n", ipc.CleanupStatHops,
			"554 5.4.0 Error: too many hops", ": message rejected: hopcount exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := ts.submit(remote("s@remote.example", "r@test.example"), tt.content)
			if reply.Status != tt.status || reply.Reason != tt.reply {
				t.Errorf("reply %+v, want %q", reply, tt.reply)
			}
			if ids := ts.incoming(); len(ids) != 0 {
				t.Errorf("incoming has %v", ids)
			}
			if !strings.Contains(ts.logText(), tt.log) {
				t.Errorf("log lacks %q:\n%s", tt.log, ts.logText())
			}
		})
	}
	// A local submission (sendmail) cannot be refused: it is queued with
	// the reason, for qmgr to bounce to its sender, as in Postfix.
	for _, tt := range []struct{ content, reason string }{
		{"Subject: x\n\n" + strings.Repeat("0123456789\n", 200), "5.3.4 message file too big"},
		{strings.Repeat("Received: from a by b\n", 3) + "\nbody\n", "5.4.0 too many hops"},
	} {
		sub := &ipc.CleanupSubmission{Sender: "dave@test.example", Recipients: []ipc.Recipient{{Address: "u@test.example"}},
			Flags: ipc.CleanupFlagBounce | ipc.CleanupFlagMapOK, SubmitterUID: 1000}
		reply := ts.submit(sub, tt.content)
		if reply.Status != 0 || reply.QueueID == "" {
			t.Errorf("local submission, %s: reply %+v", tt.reason, reply)
			continue
		}
		m, _ := ts.load(reply.QueueID)
		if got, _ := m.Attr(queue.AttrContentReject); got != tt.reason {
			t.Errorf("local submission: content_reject = %q, want %q", got, tt.reason)
		}
	}
	// Two Received: headers are under the limit of 3.
	reply := ts.submit(remote("s@remote.example", "r@test.example"), "Received: x\nReceived: y\n\nbody\n")
	if reply.Status != 0 {
		t.Errorf("two hops: reply %+v", reply)
	}
}

func TestClientHangsUpMidMessage(t *testing.T) {
	ts := startServer(t, baseSettings())
	ctx := context.Background()
	conn, err := ipc.Dial(ctx, ts.socket, ipc.ProtocolCleanup)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(ctx, remote("s@remote.example", "r@test.example")); err != nil {
		t.Fatal(err)
	}
	if err := conn.Send(ctx, &ipc.ContentChunk{Data: []byte("Subject: x\n\npartial body\n")}); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(ts.logText(), "warning:") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if ids := ts.incoming(); len(ids) != 0 {
		t.Errorf("incoming has %v after the client hung up", ids)
	}
	entries, err := os.ReadDir(filepath.Join(ts.layout.Root, queue.Incoming))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("incoming/ holds %d entries", len(entries))
	}
}

func TestNoRecipients(t *testing.T) {
	ts := startServer(t, baseSettings())
	reply := ts.submit(remote("s@remote.example"), "Subject: x\n\nbody\n")
	if reply.Status != ipc.CleanupStatNoRcpt || reply.Reason != "554 5.5.1 Error: no valid recipients" {
		t.Errorf("reply %+v", reply)
	}
}

func TestSubmissionFlags(t *testing.T) {
	s := baseSettings()
	s.VirtualAliasMaps = writeTable(t, "alias@test.example  real@test.example\n")
	ts := startServer(t, s)
	tests := []struct {
		name     string
		flags    ipc.CleanupFlags
		queue    string
		wantRcpt string
	}{
		{"mapping", ipc.CleanupFlagMapOK, queue.Incoming, "real@test.example"},
		{"no address mappings", 0, queue.Incoming, "alias@test.example"},
		{"hold", ipc.CleanupFlagMapOK | ipc.CleanupFlagHold, queue.Hold, "real@test.example"},
		{"discard", ipc.CleanupFlagDiscard, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := remote("s@remote.example", "alias@test.example")
			sub.Flags = tt.flags
			reply := ts.submit(sub, "Subject: x\n\nbody\n")
			if reply.Status != 0 || reply.QueueID == "" {
				t.Fatalf("reply %+v", reply)
			}
			if tt.queue == "" {
				if _, err := ts.layout.Find(reply.QueueID, queue.MessageQueues...); err == nil {
					t.Errorf("discarded message %s was queued", reply.QueueID)
				}
				return
			}
			m, err := ts.layout.Load(tt.queue, reply.QueueID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(addresses(m), ","); got != tt.wantRcpt {
				t.Errorf("recipients %s, want %s", got, tt.wantRcpt)
			}
		})
	}
}

func TestLocalHeaderRewriting(t *testing.T) {
	s := baseSettings()
	s.RecipientCanonicalMaps = writeTable(t, "carol@test.example  caroline@test.example\n")
	ts := startServer(t, s)
	tests := []struct {
		header string
		want   string
	}{
		{"To: bob\n", "To: bob@test.example\n"},
		{"To: Bob Smith <bob>, carol\n", "To: Bob Smith <bob@test.example>, caroline@test.example\n"},
		{"Cc: x@y.example (kept as is)\n", "Cc: x@y.example (kept as is)\n"},
		{"To: undisclosed-recipients:;\n", "To: undisclosed-recipients:;\n"},
		{"From: \"A, B\" <ab>\n", "From: \"A, B\" <ab@test.example>\n"},
		{"Subject: bob\n", "Subject: bob\n"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			sub := &ipc.CleanupSubmission{Sender: "alice", Recipients: []ipc.Recipient{{Address: "bob"}}, Flags: ipc.CleanupFlagMapOK}
			reply := ts.submit(sub, tt.header+"\nbody\n")
			_, content := ts.load(reply.QueueID)
			if !strings.Contains(content, "\n"+tt.want) {
				t.Errorf("content lacks %q:\n%s", tt.want, content)
			}
		})
	}
	// Remote submissions keep their headers.
	reply := ts.submit(remote("s@remote.example", "r@test.example"), "To: bob\n\nbody\n")
	if _, content := ts.load(reply.QueueID); !strings.Contains(content, "\nTo: bob\n") {
		t.Errorf("remote header rewritten:\n%s", content)
	}
}

func TestNoticeReceivedNamesNoUser(t *testing.T) {
	ts := startServer(t, baseSettings())
	sub := &ipc.CleanupSubmission{Sender: "", Recipients: []ipc.Recipient{{Address: "bob"}}, ArrivalTime: testNow,
		Flags: ipc.CleanupFlagMapOK | ipc.CleanupFlagNotice}
	reply := ts.submit(sub, "Subject: notice\n\nhello\n")
	if reply.Status != 0 {
		t.Fatalf("reply %+v", reply)
	}
	_, content := ts.load(reply.QueueID)
	want := "Received: by mx.test.example (Postern)\n\tid " + reply.QueueID + "; Sat, 28 Nov 2026 13:03:59 +0000 (UTC)\nSubject: notice\n"
	if !strings.HasPrefix(content, want) {
		t.Errorf("content:\n%q\nwant prefix\n%q", content, want)
	}
}

// TestLinesAfterTheMessageIDFollowIt: the message-id lines, sent while
// the queue file is committed, are in the log when the reply comes, and
// before the lines logged about the message after the commit: here the
// warning of a held message that cannot be moved to hold/ (a plain file
// stands in its place), which stays in incoming/.
func TestLinesAfterTheMessageIDFollowIt(t *testing.T) {
	ts := startServer(t, baseSettings())
	hold := filepath.Join(ts.layout.Root, queue.Hold)
	if err := os.RemoveAll(hold); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hold, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := remote("s@remote.example", "r@test.example")
	sub.Flags |= ipc.CleanupFlagHold
	reply := ts.submit(sub, "Subject: x\nMessage-ID: <h1@client.example>\nResent-Message-ID: <h2@client.example>\n\nbody\n")
	if reply.Status != 0 || reply.QueueID == "" {
		t.Fatalf("reply %+v", reply)
	}
	id := reply.QueueID
	log := ts.logText()
	lines := []string{
		id + ": message-id=<h1@client.example>",
		id + ": resent-message-id=<h2@client.example>",
		"warning: " + id + ": rename ",
	}
	at := -1
	for _, line := range lines {
		i := strings.Index(log, line)
		if i < 0 || i < at {
			t.Fatalf("log lacks %q after the lines before it:\n%s", line, log)
		}
		at = i
	}
	if ids := ts.incoming(); len(ids) != 1 || ids[0] != id {
		t.Errorf("incoming has %v, want %s", ids, id)
	}
}
