// Tests of postsuper's requests, summaries, structure repair and errors.

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
	"github.com/postern/postern/pkg/queue/queuetest"
	"golang.org/x/sys/unix"
)

func runPostsuper(t *testing.T, stdin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = run(args, cli.Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), status
}

func place(t *testing.T, l *queue.Layout, q, id string) {
	t.Helper()
	env := &queue.Envelope{ArrivalTime: queuetest.At(10, 0, 0), Sender: "a@test.example",
		Recipients: []queue.Recipient{{Address: "b@test.example"}}}
	queuetest.Place(t, l, q, id, env, "Subject: x\n\nbody\n")
}

// contents lists "queue/ID" for every file in the message queues.
func contents(t *testing.T, l *queue.Layout) string {
	t.Helper()
	var got []string
	for _, q := range queue.MessageQueues {
		ids, err := l.IDs(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			got = append(got, q+"/"+id)
		}
	}
	sort.Strings(got)
	return strings.Join(got, " ")
}

func TestPostsuper(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantStderr string
		wantQueue  string
	}{
		{"delete one", []string{"-d", "22222BBB"}, "",
			"postsuper: 22222BBB: removed\npostsuper: Deleted: 1 message\n",
			"active/44444DDD deferred/33333CCC hold/11111AAA incoming/55555EEE maildrop/66666FFF"},
		{"delete unknown", []string{"-d", "NOPE123"}, "",
			"postsuper: Deleted: 0 messages\n",
			"active/44444DDD deferred/22222BBB deferred/33333CCC hold/11111AAA incoming/55555EEE maildrop/66666FFF"},
		{"delete lower-case all is an ID", []string{"-d", "all"}, "",
			"postsuper: Deleted: 0 messages\n",
			"active/44444DDD deferred/22222BBB deferred/33333CCC hold/11111AAA incoming/55555EEE maildrop/66666FFF"},
		{"delete ALL", []string{"-d", "ALL"}, "",
			"postsuper: Deleted: 6 messages\n", ""},
		{"delete ALL deferred", []string{"-d", "ALL", "deferred"}, "",
			"postsuper: Deleted: 2 messages\n",
			"active/44444DDD hold/11111AAA incoming/55555EEE maildrop/66666FFF"},
		{"delete from stdin", []string{"-d", "-"}, "66666FFF\n11111AAA\n\nbogus\n",
			"postsuper: 66666FFF: removed\npostsuper: 11111AAA: removed\npostsuper: warning: invalid mail queue id: \npostsuper: Deleted: 2 messages\n",
			"active/44444DDD deferred/22222BBB deferred/33333CCC incoming/55555EEE"},
		{"delete bad ID", []string{"-d", "a/b"}, "",
			"postsuper: warning: invalid mail queue id: a/b\npostsuper: Deleted: 0 messages\n",
			"active/44444DDD deferred/22222BBB deferred/33333CCC hold/11111AAA incoming/55555EEE maildrop/66666FFF"},
		{"hold one", []string{"-h", "55555EEE"}, "",
			"postsuper: 55555EEE: placed on hold\npostsuper: Placed on hold: 1 message\n",
			"active/44444DDD deferred/22222BBB deferred/33333CCC hold/11111AAA hold/55555EEE maildrop/66666FFF"},
		{"hold already held or in maildrop", []string{"-h", "11111AAA", "-h", "66666FFF"}, "",
			"postsuper: Placed on hold: 0 messages\n",
			"active/44444DDD deferred/22222BBB deferred/33333CCC hold/11111AAA incoming/55555EEE maildrop/66666FFF"},
		{"hold ALL", []string{"-h", "ALL"}, "",
			"postsuper: Placed on hold: 4 messages\n",
			"hold/11111AAA hold/22222BBB hold/33333CCC hold/44444DDD hold/55555EEE maildrop/66666FFF"},
		{"release", []string{"-H", "11111AAA"}, "",
			"postsuper: 11111AAA: released from hold\npostsuper: Released from hold: 1 message\n",
			"active/44444DDD deferred/11111AAA deferred/22222BBB deferred/33333CCC incoming/55555EEE maildrop/66666FFF"},
		{"requeue ALL", []string{"-r", "ALL"}, "",
			"postsuper: Requeued: 5 messages\n",
			"maildrop/11111AAA maildrop/22222BBB maildrop/33333CCC maildrop/44444DDD maildrop/55555EEE maildrop/66666FFF"},
		{"requeue one", []string{"-r", "33333CCC"}, "",
			"postsuper: 33333CCC: requeued\npostsuper: Requeued: 1 message\n",
			"active/44444DDD deferred/22222BBB hold/11111AAA incoming/55555EEE maildrop/33333CCC maildrop/66666FFF"},
		{"expire", []string{"-e", "22222BBB"}, "",
			"postsuper: 22222BBB: expired\npostsuper: Force-expired: 1 message\n",
			"active/44444DDD deferred/22222BBB deferred/33333CCC hold/11111AAA incoming/55555EEE maildrop/66666FFF"},
		{"expire and release", []string{"-f", "11111AAA"}, "",
			"postsuper: 11111AAA: expired\npostsuper: Force-expired: 1 message\npostsuper: 11111AAA: released from hold\npostsuper: Released from hold: 1 message\n",
			"active/44444DDD deferred/11111AAA deferred/22222BBB deferred/33333CCC incoming/55555EEE maildrop/66666FFF"},
		{"summary order", []string{"-d", "NOPE1", "-h", "NOPE2", "-H", "NOPE3", "-r", "NOPE4", "-e", "NOPE5"}, "",
			"postsuper: Requeued: 0 messages\npostsuper: Deleted: 0 messages\npostsuper: Force-expired: 0 messages\n" +
				"postsuper: Placed on hold: 0 messages\npostsuper: Released from hold: 0 messages\n",
			"active/44444DDD deferred/22222BBB deferred/33333CCC hold/11111AAA incoming/55555EEE maildrop/66666FFF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			configDir, l := queuetest.Setup(t, "")
			place(t, l, queue.Hold, "11111AAA")
			place(t, l, queue.Deferred, "22222BBB")
			place(t, l, queue.Deferred, "33333CCC")
			place(t, l, queue.Active, "44444DDD")
			place(t, l, queue.Incoming, "55555EEE")
			place(t, l, queue.Maildrop, "66666FFF")
			out, stderr, status := runPostsuper(t, tc.stdin, append([]string{"-c", configDir}, tc.args...)...)
			if status != 0 || out != "" {
				t.Errorf("status %d, stdout %q", status, out)
			}
			if stderr != tc.wantStderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, tc.wantStderr)
			}
			if got := contents(t, l); got != tc.wantQueue {
				t.Errorf("queue after: %s\nwant:        %s", got, tc.wantQueue)
			}
			if log := queuetest.Maillog(t, configDir); !strings.Contains(log, "postfix/postsuper[") {
				t.Errorf("nothing logged to maillog_file:\n%s", log)
			}
		})
	}
}

// TestPurgeRemovesOnlyAbandonedFiles: -p removes an uncommitted file that
// no writer holds, and leaves committed messages alone.
func TestPurgeRemovesOnlyAbandonedFiles(t *testing.T) {
	configDir, l := queuetest.Setup(t, "")
	place(t, l, queue.Incoming, "33333CCC")
	abandoned := l.Path(queue.Incoming, "44444DDD")
	if err := os.WriteFile(abandoned, []byte("half a queue file"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, status := runPostsuper(t, "", "-c", configDir, "-p")
	if status != 0 || stderr != "postsuper: 44444DDD: removed incomplete queue file from incoming\n" {
		t.Errorf("postsuper -p: status %d, stderr %q", status, stderr)
	}
	if got := contents(t, l); got != "incoming/33333CCC" {
		t.Errorf("queue after -p: %q, want only incoming/33333CCC", got)
	}
}

func TestDeleteRemovesLogsAndExpireIsIdempotent(t *testing.T) {
	configDir, l := queuetest.Setup(t, "")
	place(t, l, queue.Deferred, "22222BBB")
	l.AppendStatus(queue.Defer, "22222BBB", queue.StatusEntry{Recipient: "b@test.example", Reason: "r"})
	if _, stderr, _ := runPostsuper(t, "", "-c", configDir, "-e", "22222BBB"); !strings.Contains(stderr, "Force-expired: 1 message\n") {
		t.Errorf("first expire: %q", stderr)
	}
	if _, stderr, _ := runPostsuper(t, "", "-c", configDir, "-e", "22222BBB"); stderr != "postsuper: Force-expired: 0 messages\n" {
		t.Errorf("second expire: %q", stderr)
	}
	if m, err := l.Load(queue.Deferred, "22222BBB", nil); err != nil || !m.ForcedExpire {
		t.Errorf("forced expire flag not set: %v", err)
	}
	runPostsuper(t, "", "-c", configDir, "-d", "22222BBB")
	if _, err := os.Stat(l.Path(queue.Defer, "22222BBB")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("defer log left behind: %v", err)
	}
}

func TestStructureCheck(t *testing.T) {
	configDir, l := queuetest.Setup(t, "")
	place(t, l, queue.Hold, "11111AAA") // name does not match the inode
	w, err := l.Create(queue.Incoming)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteEnvelope(&queue.Envelope{Sender: "a@b"})
	w.Commit()
	os.Rename(w.Path, filepath.Join(l.Root, queue.Deferred, w.ID)) // misplaced
	os.WriteFile(filepath.Join(l.Root, queue.Incoming, "12.34"), nil, 0o600)
	for _, args := range [][]string{{"-s"}, {}} {
		_, stderr, status := runPostsuper(t, "", append([]string{"-c", configDir}, args...)...)
		if status != 0 {
			t.Fatalf("%v: status %d", args, status)
		}
		want := "postsuper: warning: bogus file name: incoming/12.34\n"
		if len(args) > 0 {
			want += "postsuper: Renamed to match inode number: 1 message\n" +
				"postsuper: warning: QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS\n"
		}
		if stderr != want {
			t.Errorf("%v stderr:\n%s\nwant:\n%s", args, stderr, want)
		}
	}
	if _, err := os.Stat(l.Path(queue.Deferred, w.ID)); err != nil {
		t.Errorf("misplaced file not moved into its hashed directory: %v", err)
	}
	if ids, _ := l.IDs(queue.Hold); len(ids) != 1 || ids[0] == "11111AAA" || !strings.HasPrefix(ids[0], "11111") {
		t.Errorf("hold holds %v, want one renamed 11111... file", ids)
	}
}

func TestPostsuperErrors(t *testing.T) {
	configDir, _ := queuetest.Setup(t, "")
	tests := []struct {
		args       []string
		wantStderr string
		wantStatus int
	}{
		{[]string{"-c", configDir, "-d", "ALL", "bogusq"}, "postsuper: fatal: invalid directory name: bogusq\n", 1},
		{[]string{"-z"}, "postsuper: invalid option -- 'z'\npostsuper: fatal: " + usage + "\n", 1},
		{[]string{"-d"}, "postsuper: option requires an argument -- 'd'\npostsuper: fatal: " + usage + "\n", 1},
		{[]string{"-c", "/nonexistent", "-d", "ALL"}, "postsuper: fatal: open /nonexistent/main.cf: No such file or directory\n", 1},
	}
	for _, tc := range tests {
		_, stderr, status := runPostsuper(t, "", tc.args...)
		if stderr != tc.wantStderr || status != tc.wantStatus {
			t.Errorf("%v: status %d stderr %q, want %d %q", tc.args, status, stderr, tc.wantStatus, tc.wantStderr)
		}
	}
}

// TestAllPassesOverReservedFiles: an empty, uncommitted file in incoming/
// that a live writer locks (a cleanup's reserved file, or a message none
// of whose content is written yet) is not one of ALL's messages.
func TestAllPassesOverReservedFiles(t *testing.T) {
	configDir, l := queuetest.Setup(t, "")
	place(t, l, queue.Incoming, "33333CCC")
	reserved := l.Path(queue.Incoming, "44444DDD")
	f, err := os.OpenFile(reserved, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_, stderr, status := runPostsuper(t, "", "-c", configDir, "-d", "ALL")
	if status != 0 || stderr != "postsuper: Deleted: 1 message\n" {
		t.Errorf("postsuper -d ALL: status %d, stderr %q", status, stderr)
	}
	if got := contents(t, l); got != "incoming/44444DDD" {
		t.Errorf("queue after -d ALL: %q, want the reserved incoming/44444DDD", got)
	}
	// Once its writer is gone it is an abandoned file like any other.
	f.Close()
	_, stderr, status = runPostsuper(t, "", "-c", configDir, "-d", "ALL")
	if status != 0 || stderr != "postsuper: Deleted: 1 message\n" {
		t.Errorf("postsuper -d ALL without the writer: status %d, stderr %q", status, stderr)
	}
}
