// Tests of postcat's output against Postfix's formats, and its errors.

package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
	"github.com/postern/postern/pkg/queue/queuetest"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}

func runPostcat(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = run(args, cli.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), status
}

// referenceMessage is the message behind the reference's postcat example.
func referenceMessage() *queue.Envelope {
	return &queue.Envelope{
		ArrivalTime: queuetest.At(13, 1, 15),
		CreateTime:  queuetest.At(13, 3, 3),
		Sender:      "sender@remote.example",
		Attrs: []queue.Attr{
			{Name: "client_address", Value: "127.0.0.1"},
			{Name: "helo_name", Value: "client.example"},
			{Name: "protocol", Value: "ESMTP"},
		},
		Recipients: []queue.Recipient{{Address: "someone@elsewhere.example"}},
	}
}

const referenceContent = "Subject: test\r\nFrom: sender@remote.example\r\n\r\nline one\r\nline two\r\n"

func TestPostcat(t *testing.T) {
	configDir, layout := queuetest.Setup(t, "")
	queuetest.Place(t, layout, queue.Deferred, "577929840D3", referenceMessage(), referenceContent)
	const envelope = "*** ENVELOPE RECORDS deferred/5/577929840D3 ***\n" +
		"message_size:              66             282               1               0              61               0\n" +
		"message_arrival_time: Sat Nov 28 13:01:15 2026\n" +
		"create_time: Sat Nov 28 13:03:03 2026\n" +
		"sender: sender@remote.example\n" +
		"named_attribute: client_address=127.0.0.1\n" +
		"named_attribute: helo_name=client.example\n" +
		"named_attribute: protocol=ESMTP\n" +
		"original_recipient: someone@elsewhere.example\n" +
		"recipient: someone@elsewhere.example\n"
	const contentsMarker = "*** MESSAGE CONTENTS deferred/5/577929840D3 ***\n"
	const header = "Subject: test\nFrom: sender@remote.example\n"
	const body = "\nline one\nline two\n"
	const trailer = "*** HEADER EXTRACTED deferred/5/577929840D3 ***\n" +
		"*** MESSAGE FILE END deferred/5/577929840D3 ***\n"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default", []string{"-q", "577929840D3"}, envelope + contentsMarker + header + body + trailer},
		{"beh", []string{"-beh", "-q", "577929840D3"}, envelope + contentsMarker + header + body + trailer},
		{"envelope", []string{"-e", "-q", "577929840D3"}, envelope + contentsMarker + trailer},
		{"header", []string{"-h", "-q", "577929840D3"}, header},
		{"body", []string{"-b", "-q", "577929840D3"}, body},
		{"header and body", []string{"-bh", "-q", "577929840D3"}, header + body},
		{"file", []string{layout.Path(queue.Deferred, "577929840D3")}, strings.ReplaceAll(envelope+contentsMarker+header+body+trailer,
			"deferred/5/577929840D3", layout.Path(queue.Deferred, "577929840D3"))},
		{"offsets", []string{"-o", "-e", "-q", "577929840D3"},
			"*** ENVELOPE RECORDS deferred/5/577929840D3 ***\n" +
				"        0 message_size:              66             282               1               0              61               0\n" +
				"       97 message_arrival_time: Sat Nov 28 13:01:15 2026\n" +
				"      111 create_time: Sat Nov 28 13:03:03 2026\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, stderr, status := runPostcat(t, append([]string{"-c", configDir}, tc.args...)...)
			if status != 0 || stderr != "" {
				t.Fatalf("status %d, stderr %q", status, stderr)
			}
			if tc.name == "offsets" {
				got = strings.Join(strings.SplitAfter(got, "\n")[:4], "")
			}
			if got != tc.want {
				t.Errorf("output:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestPostcatErrors(t *testing.T) {
	configDir, layout := queuetest.Setup(t, "")
	notQueueFile := t.TempDir() + "/plain"
	os.WriteFile(notQueueFile, []byte("hello\n"), 0o644)
	truncated := t.TempDir() + "/truncated"
	queuetest.Place(t, layout, queue.Hold, "ABCDEF123", referenceMessage(), "x\n")
	data, _ := os.ReadFile(layout.Path(queue.Hold, "ABCDEF123"))
	os.WriteFile(truncated, data[:120], 0o644)
	tests := []struct {
		name       string
		args       []string
		wantOut    string
		wantStderr string
		wantStatus int
	}{
		{"missing ID", []string{"-c", configDir, "-q", "AAAAA123"}, "",
			"postcat: fatal: open queue file AAAAA123: No such file or directory\n", 1},
		{"bad ID", []string{"-c", configDir, "-q", "../etc"}, "",
			"postcat: fatal: bad mail queue ID: ../etc\n", 1},
		{"missing file", []string{"-c", configDir, "/nonexistent/x"}, "",
			"postcat: fatal: open /nonexistent/x: No such file or directory\n", 1},
		{"not a queue file", []string{"-c", configDir, notQueueFile}, "",
			"postcat: warning: " + notQueueFile + ": input is not a valid queue file\n", 0},
		{"truncated", []string{"-c", configDir, "-e", truncated},
			"*** ENVELOPE RECORDS " + truncated + " ***\n" +
				"message_size:               3             282               1               0               2               0\n" +
				"message_arrival_time: Sat Nov 28 13:01:15 2026\n",
			"postcat: fatal: record read error\n", 1},
		{"no main.cf", []string{"-c", "/nonexistent", "-q", "ABCDEF123"}, "",
			"postcat: fatal: open /nonexistent/main.cf: No such file or directory\n", 1},
		{"bad option", []string{"-z"}, "",
			"postcat: invalid option -- 'z'\npostcat: fatal: " + usage + "\n", 1},
		{"found in hold", []string{"-c", configDir, "-h", "-q", "ABCDEF123"}, "", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, status := runPostcat(t, tc.args...)
			if out != tc.wantOut || stderr != tc.wantStderr || status != tc.wantStatus {
				t.Errorf("got status %d\nstdout %q\nstderr %q\nwant status %d\nstdout %q\nstderr %q",
					status, out, stderr, tc.wantStatus, tc.wantOut, tc.wantStderr)
			}
		})
	}
	if log := queuetest.Maillog(t, configDir); !strings.Contains(log, "postfix/postcat[") || !strings.Contains(log, "fatal: open queue file AAAAA123") {
		t.Errorf("maillog lacks the fatal line:\n%s", log)
	}
}

func TestPostcatFullNameAndDone(t *testing.T) {
	configDir, layout := queuetest.Setup(t, "")
	env := referenceMessage()
	env.FullName = "Remote Sender"
	env.Recipients = append(env.Recipients, queue.Recipient{Address: "x@y.example", DSNNotify: 2, DSNOrcpt: "rfc822;x@y.example"})
	rcpts := queuetest.Place(t, layout, queue.Active, "ABC123", env, "x\n")
	if err := queue.MarkDone(layout.Path(queue.Active, "ABC123"), rcpts[0].Offset); err != nil {
		t.Fatal(err)
	}
	out, stderr, status := runPostcat(t, "-c", configDir, "-e", "-q", "ABC123")
	want := "sender_fullname: Remote Sender\nsender: sender@remote.example\n"
	if status != 0 || stderr != "" || !strings.Contains(out, want) {
		t.Errorf("status %d stderr %q output:\n%s\nwant it to contain:\n%s", status, stderr, out, want)
	}
	want = "original_recipient: someone@elsewhere.example\n" +
		"done_recipient: someone@elsewhere.example\n" +
		"dsn_original_recipient: rfc822;x@y.example\n" +
		"dsn_notify_flags: 2\n" +
		"original_recipient: x@y.example\n" +
		"recipient: x@y.example\n"
	if !strings.Contains(out, want) {
		t.Errorf("output:\n%s\nwant it to contain:\n%s", out, want)
	}
}
