// Tests of the mailq/postqueue listing formats, JSON, flushing and errors.

package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
	"github.com/postern/postern/pkg/queue/queuetest"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}

func runCommand(t *testing.T, name string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = run(name, args, cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), status
}

// contentOfSegmentSize returns message content whose records take exactly
// size bytes in the queue file (each line costs its length plus two).
func contentOfSegmentSize(size int) string {
	var b strings.Builder
	b.WriteString("Subject: test\n\n")
	size -= len("Subject: test") + 2 + 2
	for size > 0 {
		n := min(size-2, 60)
		if size-2-n > 0 && size-2-n < 3 {
			n -= 3
		}
		b.WriteString(strings.Repeat("x", n) + "\n")
		size -= n + 2
	}
	return b.String()
}

func envelope(sender string, arrival time.Time, rcpts ...string) *queue.Envelope {
	env := &queue.Envelope{ArrivalTime: arrival, Sender: sender}
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, queue.Recipient{Address: r})
	}
	return env
}

const refused = "connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"

// referenceQueue builds the queue behind the reference's mailq example.
func referenceQueue(t *testing.T, extraMainCF string) (string, *queue.Layout) {
	configDir, l := queuetest.Setup(t, extraMainCF)
	at := queuetest.At(13, 2, 27)
	content := contentOfSegmentSize(268)
	queuetest.Place(t, l, queue.Deferred, "8A6359840A4", envelope("alice@test.example", at, "r1@elsewhere.example", "r2@other.example"), content)
	queuetest.Place(t, l, queue.Hold, "8E3249840D3", envelope("carol@test.example", at, "c1@elsewhere.example"), content)
	l.AppendStatus(queue.Defer, "8A6359840A4",
		queue.StatusEntry{Recipient: "r1@elsewhere.example", Status: "4.4.1", Action: "delayed", Reason: refused},
		queue.StatusEntry{Recipient: "r2@other.example", Status: "4.4.1", Action: "delayed", Reason: refused})
	l.AppendStatus(queue.Defer, "8E3249840D3",
		queue.StatusEntry{Recipient: "c1@elsewhere.example", Status: "4.4.1", Action: "delayed", Reason: refused})
	return configDir, l
}

func TestListReference(t *testing.T) {
	configDir, _ := referenceQueue(t, "")
	want := "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
		"8A6359840A4     268 Sat Nov 28 13:02:27  alice@test.example\n" +
		"                    (connect to 127.0.0.1[127.0.0.1]:2599: Connection refused)\n" +
		"                                         r1@elsewhere.example\n" +
		"                                         r2@other.example\n" +
		"\n" +
		"8E3249840D3!     268 Sat Nov 28 13:02:27  carol@test.example\n" +
		"                    (connect to 127.0.0.1[127.0.0.1]:2599: Connection refused)\n" +
		"                                         c1@elsewhere.example\n" +
		"\n" +
		"-- 0 Kbytes in 2 Requests.\n"
	for _, invocation := range [][]string{{"postqueue", "-c", configDir, "-p"}, {"mailq", "-C", configDir}} {
		out, stderr, status := runCommand(t, invocation[0], invocation[1:]...)
		if status != 0 || stderr != "" {
			t.Fatalf("%v: status %d, stderr %q", invocation, status, stderr)
		}
		if out != want {
			t.Errorf("%v output:\n%s\nwant:\n%s", invocation, out, want)
		}
	}
	wantJSON := `{"queue_name": "deferred", "queue_id": "8A6359840A4", "arrival_time": 1795870947, "message_size": 268, "forced_expire": false, "sender": "alice@test.example", "recipients": [{"address": "r1@elsewhere.example", "delay_reason": "` + refused + `"}, {"address": "r2@other.example", "delay_reason": "` + refused + `"}]}` + "\n" +
		`{"queue_name": "hold", "queue_id": "8E3249840D3", "arrival_time": 1795870947, "message_size": 268, "forced_expire": false, "sender": "carol@test.example", "recipients": [{"address": "c1@elsewhere.example", "delay_reason": "` + refused + `"}]}` + "\n"
	out, stderr, status := runCommand(t, "postqueue", "-c", configDir, "-j")
	if status != 0 || stderr != "" || out != wantJSON {
		t.Errorf("-j: status %d stderr %q output:\n%s\nwant:\n%s", status, stderr, out, wantJSON)
	}
}

func TestListVariants(t *testing.T) {
	at := queuetest.At(9, 5, 0)
	tests := []struct {
		name     string
		mainCF   string
		populate func(t *testing.T, l *queue.Layout)
		want     string
	}{
		{"empty", "", func(*testing.T, *queue.Layout) {}, "Mail queue is empty\n"},
		{"one request, active, null sender, Kbytes rounded down", "", func(t *testing.T, l *queue.Layout) {
			queuetest.Place(t, l, queue.Active, "1234ABC", envelope("", at, "a@x.example"), contentOfSegmentSize(2047))
		}, "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
			"1234ABC*       2047 Sat Nov 28 09:05:00  MAILER-DAEMON\n" +
			"                                         a@x.example\n" +
			"\n" +
			"-- 1 Kbytes in 1 Request.\n"},
		{"reason unavailable, done recipients hidden, quoted local part", "", func(t *testing.T, l *queue.Layout) {
			rcpts := queuetest.Place(t, l, queue.Deferred, "5555ABC", envelope("bob@test.example", at, "a@x.example", "done@x.example", "john doe@x.example"), "x\n")
			if err := queue.MarkDone(l.Path(queue.Deferred, "5555ABC"), rcpts[1].Offset); err != nil {
				t.Fatal(err)
			}
			l.AppendStatus(queue.Defer, "5555ABC", queue.StatusEntry{Recipient: "a@x.example", Reason: "host x.example said: 451 try later"})
			l.SetForcedExpire(queue.Deferred, "5555ABC")
		}, "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n" +
			"5555ABC#          3 Sat Nov 28 09:05:00  bob@test.example\n" +
			strings.Repeat(" ", 76-34) + "(host x.example said: 451 try later)\n" +
			"                                         a@x.example\n" +
			strings.Repeat(" ", 76-18) + "(reason unavailable)\n" +
			"                                         \"john doe\"@x.example\n" +
			"\n" +
			"-- 0 Kbytes in 1 Request.\n"},
		{"long queue IDs", "enable_long_queue_ids = yes\n", func(t *testing.T, l *queue.Layout) {
			queuetest.Place(t, l, queue.Incoming, "4jc9bp2gwBz1SDRT", envelope("alice@test.example", at, "r@x.example"), "x\n")
		}, "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n" +
			"4jc9bp2gwBz1SDRT         3 Sat Nov 28 09:05:00 alice@test.example\n" +
			"                                               r@x.example\n" +
			"\n" +
			"-- 0 Kbytes in 1 Request.\n"},
		{"file being written is not listed", "", func(t *testing.T, l *queue.Layout) {
			w, err := l.Create(queue.Incoming)
			if err != nil {
				t.Fatal(err)
			}
			w.WriteEnvelope(envelope("a@b", at, "c@d"))
		}, "Mail queue is empty\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			configDir, l := queuetest.Setup(t, tc.mainCF)
			tc.populate(t, l)
			out, stderr, status := runCommand(t, "postqueue", "-c", configDir, "-p")
			if status != 0 || stderr != "" {
				t.Fatalf("status %d, stderr %q", status, stderr)
			}
			if out != tc.want {
				t.Errorf("output:\n%s\nwant:\n%s", out, tc.want)
			}
		})
	}
}

func TestJSONQuoting(t *testing.T) {
	configDir, l := queuetest.Setup(t, "")
	queuetest.Place(t, l, queue.Incoming, "ABC", envelope("we\"ird\\@x", queuetest.At(0, 0, 1), "tab\there@x"), "x\n")
	out, _, status := runCommand(t, "postqueue", "-c", configDir, "-j")
	want := `{"queue_name": "incoming", "queue_id": "ABC", "arrival_time": 1795824001, "message_size": 3, "forced_expire": false, "sender": "\"we\\\"ird\\\\\"@x", "recipients": [{"address": "\"tab?here\"@x"}]}` + "\n"
	if status != 0 || out != want {
		t.Errorf("status %d output:\n%s\nwant:\n%s", status, out, want)
	}
}

func TestFlushAndErrors(t *testing.T) {
	configDir, _ := queuetest.Setup(t, "fast_flush_domains = example.com\n")
	missingQueueDir := t.TempDir()
	os.WriteFile(filepath.Join(missingQueueDir, "main.cf"), []byte("queue_directory = /nonexistent/spool\n"+
		"maillog_file = "+missingQueueDir+"/maillog\nmaillog_file_prefixes = "+missingQueueDir+"\n"), 0o644)
	const down = "postqueue: warning: unable to look up public/qmgr: No such file or directory\n" +
		"postqueue: fatal: Cannot flush mail queue - mail system is down\n"
	tests := []struct {
		name       string
		args       []string
		wantStderr string
		wantStatus int
	}{
		{"flush, mail system down", []string{"-c", configDir, "-f"}, down, 69},
		{"flush ID, mail system down", []string{"-c", configDir, "-i", "ABC"}, down, 69},
		{"site not configured", []string{"-c", configDir, "-s", "other.example"},
			"postqueue: fatal: Flush service is not configured for destination \"other.example\"\n", 69},
		{"site configured, mail system down", []string{"-c", configDir, "-s", "example.com"}, down, 69},
		{"no mode", []string{"-c", configDir}, "postqueue: fatal: " + usage + "\n", 69},
		{"two modes", []string{"-c", configDir, "-p", "-f"}, "postqueue: fatal: " + usage + "\n", 69},
		{"bad option", []string{"-x"}, "postqueue: invalid option -- 'x'\npostqueue: fatal: " + usage + "\n", 69},
		{"no main.cf", []string{"-c", "/nonexistent", "-p"}, "postqueue: fatal: open /nonexistent/main.cf: No such file or directory\n", 69},
		{"no queue directory", []string{"-c", missingQueueDir, "-p"}, "postqueue: fatal: chdir /nonexistent/spool: No such file or directory\n", 69},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, status := runCommand(t, "postqueue", tc.args...)
			if stderr != tc.wantStderr || status != tc.wantStatus {
				t.Errorf("status %d stderr %q, want %d %q", status, stderr, tc.wantStatus, tc.wantStderr)
			}
		})
	}
}

// With a qmgr listening, -f sends F, A, D, I and -i moves the message
// from deferred to incoming first.
func TestFlushTriggersQmgr(t *testing.T) {
	configDir, l := queuetest.Setup(t, "")
	codes := listenTrigger(t, filepath.Join(l.Root, "public", "qmgr"))
	queuetest.Place(t, l, queue.Deferred, "DEF123", envelope("a@b", queuetest.At(1, 0, 0), "c@d"), "x\n")
	if _, stderr, status := runCommand(t, "postqueue", "-c", configDir, "-f"); status != 0 || stderr != "" {
		t.Fatalf("-f: status %d stderr %q", status, stderr)
	}
	if got := <-codes; got != "FADI" {
		t.Errorf("-f sent %q, want FADI", got)
	}
	if _, stderr, status := runCommand(t, "postqueue", "-c", configDir, "-i", "DEF123"); status != 0 || stderr != "" {
		t.Fatalf("-i: status %d stderr %q", status, stderr)
	}
	if got := <-codes; got != "I" {
		t.Errorf("-i sent %q, want I", got)
	}
	if q, err := l.Find("DEF123"); err != nil || q != queue.Incoming {
		t.Errorf("after -i the message is in %q (%v), want incoming", q, err)
	}
}

// listenTrigger serves the trigger protocol at path and reports the codes
// of each request received.
func listenTrigger(t *testing.T, path string) <-chan string {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	codes := make(chan string, 4)
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			codes <- serveTrigger(t, nc)
		}
	}()
	return codes
}

func serveTrigger(t *testing.T, nc net.Conn) string {
	ctx := context.Background()
	conn, err := ipc.Greet(ctx, nc, ipc.ProtocolTrigger)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer conn.Close()
	var trig ipc.Trigger
	if err := conn.Expect(ctx, &trig); err != nil {
		t.Error(err)
		return ""
	}
	var b strings.Builder
	for _, c := range trig.Codes {
		b.WriteByte(byte(c))
	}
	return b.String()
}
