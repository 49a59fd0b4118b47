// Tests of the pipe agent: attributes, macros, the envelope lines and
// quoting of flags=, exit status mapping, size and time limits.

package pipe

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/command/commandtest"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
)

func currentUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if u.Uid == "0" {
		return "nobody"
	}
	return u.Username
}

func TestParseAttrs(t *testing.T) {
	me := currentUser(t)
	tests := []struct {
		words []string
		err   string
	}{
		{[]string{"flags=DRhuqXO.>FB", "user=" + me, "size=100", "argv=/bin/cat", "-x", "${recipient}"}, ""},
		{[]string{"flags=Z", "user=" + me, "argv=/bin/cat"}, "unknown flag: Z (ignored)"},
		{[]string{"argv=/bin/cat"}, "missing user= command-line attribute"},
		{[]string{"user=" + me}, "missing argv= command-line attribute"},
		{[]string{"user=no-such-user-x", "argv=/bin/cat"}, "unknown username: no-such-user-x"},
		{[]string{"user=root", "argv=/bin/cat"}, "user= command-line attribute specifies root privileges"},
		{[]string{"user=" + me, "size=x", "argv=/bin/cat"}, "bad size= value: x"},
		{[]string{"bogus=1", "user=" + me, "argv=/bin/cat"}, "unknown attribute name: bogus=1"},
	}
	for _, tt := range tests {
		a, err := ParseAttrs(tt.words, Identity{})
		if tt.err == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.words, err)
			} else if strings.Join(a.Argv, " ") != "/bin/cat -x ${recipient}" || a.SizeLimit != 100 || !a.Flags.Delivered {
				t.Errorf("%v: %+v", tt.words, a)
			}
			continue
		}
		if err == nil || err.Error() != tt.err {
			t.Errorf("%v: error %v, want %q", tt.words, err, tt.err)
		}
	}
}

func TestExpandArgv(t *testing.T) {
	msg := map[string]string{"sender": "s@x.example", "nexthop": "Dest.Example", "size": "10", "client_address": "192.0.2.1"}
	var rcpts []map[string]string
	for _, r := range []Recipient{{"User+Ext@Example.COM", "Orig@Example.COM"}, {"b@example.com", ""}} {
		rcpts = append(rcpts, recipientValues(r, Flags{FoldUser: true, FoldHost: true}, addr.Extensions{Delimiter: "+"}))
	}
	got, err := expandArgv([]string{"cmd", "-f", "$sender", "-a", "${client_address}", "${nexthop}",
		"-d", "${recipient}", "${user}:${extension}:${mailbox}@${domain}", "${original_recipient}", "${extension?has}${extension:none}", "$$"}, msg, rcpts)
	if err != nil {
		t.Fatal(err)
	}
	want := "cmd -f s@x.example -a 192.0.2.1 Dest.Example -d user+ext@example.com b@example.com " +
		"user:ext:user+ext@example.com b::b@example.com orig@example.com b@example.com hasext none $"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %q\nwant %q", strings.Join(got, " "), want)
	}
	if _, err := expandArgv([]string{"${nosuch}"}, msg, rcpts); err == nil || !strings.Contains(err.Error(), `unknown macro name: "nosuch"`) {
		t.Errorf("unknown macro: %v", err)
	}
}

// testAgent places a message in a temporary queue and returns an agent
// running script (a /bin/sh script) with flags.
func testAgent(t *testing.T, flags, script string, rcpts ...string) (*Agent, *ipc.DeliveryRequest, func() string) {
	t.Helper()
	configDir, layout := queuetest.Setup(t, "")
	dir := t.TempDir()
	path := filepath.Join(dir, "cmd")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	env := &queue.Envelope{ArrivalTime: time.Now(), Sender: "sender@remote.example",
		Attrs: []queue.Attr{{Name: queue.AttrClientAddr, Value: "192.0.2.7"}}}
	var reqRcpts []ipc.Recipient
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, queue.Recipient{Address: r})
	}
	placed := queuetest.Place(t, layout, queue.Active, "A1B2C3D4E5", env, "Subject: hi\n\n.dot line\nFrom here\nbody\n")
	for i, r := range rcpts {
		reqRcpts = append(reqRcpts, ipc.Recipient{Address: r, Offset: placed[i].Offset})
	}
	msg, err := layout.Load(queue.Active, "A1B2C3D4E5", nil)
	if err != nil {
		t.Fatal(err)
	}
	log, err := maillog.New(maillog.Options{Program: "pipe", File: filepath.Join(dir, "maillog"), FilePrefixes: dir, Hostname: "mx"})
	if err != nil {
		t.Fatal(err)
	}
	attrs := &Attrs{EOL: "\n", NullSender: "MAILER-DAEMON", Argv: []string{path, "${sender}", "${recipient}", "${client_address}"}}
	for _, ch := range flags {
		if err := attrs.Flags.set(ch); err != nil {
			t.Fatal(err)
		}
	}
	a := &Agent{Service: "filter", Attrs: attrs, Layout: layout, Log: log, MasterCF: configDir + "/master.cf", TimeLimit: 30 * time.Second}
	req := &ipc.DeliveryRequest{Queue: queue.Active, QueueID: "A1B2C3D4E5", Sender: "sender@remote.example",
		Transport: "filter", Nexthop: "example.com", Recipients: reqRcpts, DataOffset: msg.Size.DataOffset, DataSize: msg.Size.ContentLength}
	readLog := func() string { b, _ := os.ReadFile(filepath.Join(dir, "maillog")); return string(b) }
	return a, req, readLog
}

func TestDeliverContentAndMacros(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	a, req, readLog := testAgent(t, "DRO.>B", `echo "$@" > `+out+`; cat >> `+out+`; echo stored`, "u@example.com")
	res := a.Deliver(context.Background(), req)
	r := res.Recipients[0]
	if r.Status != ipc.StatusSent || r.Reply != "delivered via filter service (stored)" || r.Relay != "filter" {
		t.Fatalf("result %+v", r)
	}
	got, _ := os.ReadFile(out)
	want := "sender@remote.example u@example.com 192.0.2.7\nReturn-Path: <sender@remote.example>\nX-Original-To: u@example.com\n" +
		"Delivered-To: u@example.com\nSubject: hi\n\n..dot line\n>From here\nbody\n\n"
	if string(got) != want {
		t.Errorf("command got\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(readLog(), "A1B2C3D4E5: to=<u@example.com>, relay=filter, delay=") ||
		!strings.Contains(readLog(), "dsn=2.0.0, status=sent (delivered via filter service (stored))") {
		t.Errorf("log:\n%s", readLog())
	}
}

// TestDeliverFlagsFqX: F puts the From_ line first, q quotes the local
// part of ${sender} and ${recipient}, and X makes the success a final
// delivery ("delivered" in a success notice, "relayed" without it).
func TestDeliverFlagsFqX(t *testing.T) {
	for _, flags := range []string{"FqX", ""} {
		out := filepath.Join(t.TempDir(), "out")
		a, req, _ := testAgent(t, flags, `echo "$@" > `+out+`; cat >> `+out, "u@example.com")
		req.Sender = "john smith@remote.example"
		r := a.Deliver(context.Background(), req).Recipients[0]
		got, _ := os.ReadFile(out)
		args, content, _ := strings.Cut(string(got), "\n")
		if flags == "" {
			if r.Status != ipc.StatusSent || r.Action != "relayed" || args != "john smith@remote.example u@example.com 192.0.2.7" || !strings.HasPrefix(content, "Subject: hi\n") {
				t.Errorf("no flags: %+v, arguments %q, content %q", r, args, content)
			}
			continue
		}
		if r.Status != ipc.StatusSent || r.Action != "" {
			t.Errorf("flags=X: %+v, want a final delivery", r)
		}
		if args != `"john smith"@remote.example u@example.com 192.0.2.7` {
			t.Errorf("flags=q: arguments %q", args)
		}
		if !strings.HasPrefix(content, "From john smith@remote.example  ") || !strings.Contains(content, "\nSubject: hi\n") {
			t.Errorf("flags=F: content %q", content)
		}
	}
}

func TestDeliverExitStatus(t *testing.T) {
	tests := []struct {
		script string
		status ipc.DeliveryStatus
		dsn    string
		reply  string
	}{
		{"exit 75", ipc.StatusDeferred, "4.3.0", "temporary failure"},
		{"echo no such user; exit 67", ipc.StatusBounced, "5.1.1", "user unknown. Command output: no such user"},
		{"exit 68", ipc.StatusBounced, "5.1.2", "host name unknown"},
		{"exit 3", ipc.StatusBounced, "5.3.0", `Command died with status 3: "CMD"`},
		{"echo 4.2.2 mailbox full; exit 1", ipc.StatusDeferred, "4.2.2", "mailbox full"},
		{"echo 5.7.1 go away; exit 1", ipc.StatusBounced, "5.7.1", "go away"},
		{"kill -TERM $$", ipc.StatusDeferred, "4.3.0", `Command died with signal 15: "CMD"`},
	}
	for _, tt := range tests {
		a, req, _ := testAgent(t, "", "cat >/dev/null; "+tt.script, "u@example.com")
		r := a.Deliver(context.Background(), req).Recipients[0]
		want := strings.ReplaceAll(tt.reply, "CMD", a.Attrs.Argv[0])
		if r.Status != tt.status || r.DSNCode != tt.dsn || r.Reply != want {
			t.Errorf("%s: got %v %s %q, want %v %s %q", tt.script, r.Status, r.DSNCode, r.Reply, tt.status, tt.dsn, want)
		}
	}
}

// The time limit kills the command's whole process group, children left
// in the background included.
func TestDeliverTimeLimitKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	a, req, _ := testAgent(t, "", "sleep 300 & echo $! > "+pidFile+"; wait", "u@example.com")
	pid := commandtest.PIDBeforeLimit(t, pidFile, 500*time.Millisecond, func(limit time.Duration) {
		a.TimeLimit = limit
		r := a.Deliver(context.Background(), req).Recipients[0]
		if r.Status != ipc.StatusBounced || r.DSNCode != "5.3.0" || !strings.HasPrefix(r.Reply, "Command time limit exceeded: ") {
			t.Fatalf("result %+v", r)
		}
	})
	if !commandtest.Gone(pid, 30*time.Second) {
		t.Errorf("background child %d survived the time limit", pid)
	}
}

func TestDeliverLimitsAndFlags(t *testing.T) {
	a, req, _ := testAgent(t, "", "cat >/dev/null", "u@example.com")
	a.Attrs.SizeLimit = 5
	if r := a.Deliver(context.Background(), req).Recipients[0]; r.Status != ipc.StatusBounced || r.DSNCode != "5.2.3" || r.Reply != "message too large" {
		t.Errorf("size limit: %+v", r)
	}
	a, req, readLog := testAgent(t, "D", "cat >/dev/null", "a@example.com", "b@example.com")
	res := a.Deliver(context.Background(), req)
	if len(res.Recipients) != 2 || res.Recipients[1].Status != ipc.StatusDeferred || res.Recipients[1].Reply != "mail system configuration error" {
		t.Errorf("D with two recipients: %+v", res.Recipients)
	}
	if !strings.Contains(readLog(), "warning: pipe flag `D' requires filter_destination_recipient_limit = 1") {
		t.Errorf("log:\n%s", readLog())
	}
}

// As root the command runs as user=, never as root.
func TestDeliverRunsAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch users")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "id")
	a, req, _ := testAgent(t, "", "cat >/dev/null; id -u > "+out+"; id -g >> "+out, "u@example.com")
	if err := os.Chmod(a.Attrs.Argv[0], 0o755); err != nil {
		t.Fatal(err)
	}
	// Up to the system's temporary directory, which is reachable already
	// and must keep its mode (1777).
	for d := filepath.Dir(a.Attrs.Argv[0]); d != "/" && d != filepath.Clean(os.TempDir()); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	a.SwitchUser = true
	a.Attrs.UID, _ = strconv.Atoi(nobody.Uid)
	a.Attrs.GID, _ = strconv.Atoi(nobody.Gid)
	if r := a.Deliver(context.Background(), req).Recipients[0]; r.Status != ipc.StatusSent {
		t.Fatalf("result %+v", r)
	}
	got, _ := os.ReadFile(out)
	if want := nobody.Uid + "\n" + nobody.Gid + "\n"; string(got) != want {
		t.Errorf("ran as %q, want %q", got, want)
	}
}
