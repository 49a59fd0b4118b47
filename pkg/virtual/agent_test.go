package virtual

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
)

// testAgent is an Agent over a throw-away queue and mail base, with a
// request for one queued message to the given recipients.
type testAgent struct {
	agent   *Agent
	base    string
	logPath string
	req     *ipc.DeliveryRequest
}

func newTestAgent(t *testing.T, extraMainCF string, rcpts ...string) *testAgent {
	t.Helper()
	base := t.TempDir()
	mainCF := "virtual_mailbox_base = " + base + "\n" +
		"virtual_mailbox_maps = inline:{ bob@example.test=bob/, carol@example.test=carol, lowuid@example.test=low/, nogid@example.test=nogid/ }\n" +
		"virtual_uid_maps = inline:{ lowuid@example.test=5, @example.test=1000 }\n" +
		"virtual_gid_maps = inline:{ bob@example.test=1000, carol@example.test=1000, lowuid@example.test=1000 }\n" +
		extraMainCF
	configDir, layout := queuetest.Setup(t, mainCF)
	cfg, err := config.Load(configDir)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { settings.Close() })
	logPath := filepath.Join(filepath.Dir(configDir), "maillog")
	log, err := maillog.New(maillog.Options{Program: "virtual", Hostname: "mx.test.example", File: logPath, FilePrefixes: filepath.Dir(configDir)})
	if err != nil {
		t.Fatal(err)
	}
	arrival := time.Now().Add(-2 * time.Second)
	env := &queue.Envelope{ArrivalTime: arrival, Sender: "alice@remote.example"}
	for _, r := range rcpts {
		env.Recipients = append(env.Recipients, queue.Recipient{Address: r})
	}
	placed := queuetest.Place(t, layout, queue.Active, "4A1B2C3D4E", env, "Subject: test\n\nFrom the body\nbye\n")
	f, err := os.Open(layout.Path(queue.Active, "4A1B2C3D4E"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := queue.ReadEnvelope(f)
	if err != nil {
		t.Fatal(err)
	}
	req := &ipc.DeliveryRequest{Queue: queue.Active, QueueID: "4A1B2C3D4E", DataOffset: msg.Size.DataOffset,
		Sender: env.Sender, Transport: "virtual", Nexthop: "example.test", ArrivalTime: arrival, ActiveTime: arrival.Add(time.Second)}
	for _, r := range placed {
		req.Recipients = append(req.Recipients, ipc.Recipient{Address: r.Address, Offset: r.Offset})
	}
	return &testAgent{agent: &Agent{Settings: settings, Layout: layout, Log: log}, base: base, logPath: logPath, req: req}
}

func (ta *testAgent) log(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(ta.logPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDeliverRecipients(t *testing.T) {
	rcpts := []string{"bob@example.test", "carol@example.test", "nobody@example.test", "lowuid@example.test", "nogid@example.test"}
	ta := newTestAgent(t, "virtual_minimum_uid = 100\n", rcpts...)
	res := ta.agent.Deliver(ta.req)
	want := []struct {
		status ipc.DeliveryStatus
		dsn    string
		reply  string
	}{
		{ipc.StatusSent, "2.0.0", "delivered to maildir"},
		{ipc.StatusSent, "2.0.0", "delivered to mailbox"},
		{ipc.StatusBounced, "5.1.1", `unknown user: "nobody@example.test"`},
		{ipc.StatusDeferred, "4.3.5", "mail system configuration error"},
		{ipc.StatusDeferred, "4.3.5", "mail system configuration error"},
	}
	if len(res.Recipients) != len(want) {
		t.Fatalf("%d results, want %d", len(res.Recipients), len(want))
	}
	for i, w := range want {
		r := res.Recipients[i]
		if r.Status != w.status || r.DSNCode != w.dsn || r.Reply != w.reply || r.Relay != "virtual" ||
			r.Address != rcpts[i] || r.Offset != ta.req.Recipients[i].Offset {
			t.Errorf("%s: got %+v, want %v %s (%s)", rcpts[i], r, w.status, w.dsn, w.reply)
		}
	}
	headers := "Return-Path: <alice@remote.example>\nX-Original-To: bob@example.test\nDelivered-To: bob@example.test\n"
	files, _ := filepath.Glob(filepath.Join(ta.base, "bob", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("bob's Maildir holds %v", files)
	}
	if data, _ := os.ReadFile(files[0]); string(data) != headers+"Subject: test\n\nFrom the body\nbye\n" {
		t.Errorf("bob's message %q", data)
	}
	mbox, _ := os.ReadFile(filepath.Join(ta.base, "carol"))
	fromLine := regexp.MustCompile(`^From alice@remote\.example  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n`)
	body := strings.ReplaceAll(headers, "bob@", "carol@") + "Subject: test\n\n>From the body\nbye\n\n"
	if !fromLine.Match(mbox) || !strings.HasSuffix(string(mbox), body) {
		t.Errorf("carol's mbox %q", mbox)
	}
	log := ta.log(t)
	// The message arrived two seconds ago, one before it was active; a
	// slow machine adds to the delay.
	bobSent := regexp.MustCompile(`virtual\[\d+\]: 4A1B2C3D4E: to=<bob@example\.test>, relay=virtual, delay=([\d.]+), delays=1(\.\d+)?/[\d.]+/0/[\d.]+, dsn=2\.0\.0, status=sent \(delivered to maildir\)`)
	if m := bobSent.FindStringSubmatch(log); m != nil {
		if delay, err := strconv.ParseFloat(m[1], 64); err != nil || delay < 2 {
			t.Errorf("bob's delay=%s, want 2 s or more:\n%s", m[1], log)
		}
	}
	for _, line := range []*regexp.Regexp{
		bobSent,
		regexp.MustCompile(`4A1B2C3D4E: to=<carol@example\.test>, relay=virtual, .* dsn=2\.0\.0, status=sent \(delivered to mailbox\)`),
		regexp.MustCompile(`4A1B2C3D4E: to=<nobody@example\.test>, relay=virtual, .* dsn=5\.1\.1, status=bounced \(unknown user: "nobody@example\.test"\)`),
		regexp.MustCompile(`warning: recipient lowuid@example\.test: bad uid 5 in virtual_uid_maps`),
		regexp.MustCompile(`warning: recipient nogid@example\.test: gid not found in virtual_gid_maps`),
		regexp.MustCompile(`4A1B2C3D4E: to=<lowuid@example\.test>, relay=virtual, .* dsn=4\.3\.5, status=deferred \(mail system configuration error\)`),
	} {
		if !line.MatchString(log) {
			t.Errorf("log lacks %v:\n%s", line, log)
		}
	}
}

func TestDeliverMailboxLimitBounces(t *testing.T) {
	ta := newTestAgent(t, "virtual_minimum_uid = 100\nvirtual_mailbox_limit = 50\n", "carol@example.test")
	res := ta.agent.Deliver(ta.req)
	r := res.Recipients[0]
	want := "delivery failed to mailbox " + filepath.Join(ta.base, "carol") + ": error writing message: File too large"
	if r.Status != ipc.StatusBounced || r.DSNCode != "5.2.2" || r.Reply != want {
		t.Errorf("over virtual_mailbox_limit: %+v", r)
	}
}

// A Maildir or mbox that cannot be created is the administrator's problem:
// as in Postfix's virtual the delivery defers with 4.2.0 where local
// bounces with 5.2.0.
func TestDeliverUncreatableMailboxDefers(t *testing.T) {
	ta := newTestAgent(t, "virtual_minimum_uid = 100\n", "bob@example.test", "carol@example.test")
	// bob's Maildir lies under a regular file (ENOTDIR), carol's mbox is
	// a directory (EISDIR).
	if err := os.WriteFile(filepath.Join(ta.base, "bob"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ta.base, "carol"), 0o700); err != nil {
		t.Fatal(err)
	}
	res := ta.agent.Deliver(ta.req)
	bob := filepath.Join(ta.base, "bob") + "/tmp/"
	if r := res.Recipients[0]; r.Status != ipc.StatusDeferred || r.DSNCode != "4.2.0" ||
		!strings.HasPrefix(r.Reply, "maildir delivery failed: create maildir file "+bob) || !strings.HasSuffix(r.Reply, ": Not a directory") {
		t.Errorf("bob: %+v", r)
	}
	want := "delivery failed to mailbox " + filepath.Join(ta.base, "carol") + ": cannot open file: Is a directory"
	if r := res.Recipients[1]; r.Status != ipc.StatusDeferred || r.DSNCode != "4.2.0" || r.Reply != want {
		t.Errorf("carol: %+v", r)
	}
}

func TestDeliverVerifyWritesNothing(t *testing.T) {
	ta := newTestAgent(t, "", "bob@example.test")
	ta.req.Flags = ipc.DeliveryFlagVerify
	r := ta.agent.Deliver(ta.req).Recipients[0]
	if r.Status != ipc.StatusSent || r.Reply != "delivers to maildir" {
		t.Errorf("probe result %+v", r)
	}
	if _, err := os.Stat(filepath.Join(ta.base, "bob")); !os.IsNotExist(err) {
		t.Errorf("a probe created the Maildir: %v", err)
	}
	if !strings.Contains(ta.log(t), "status=deliverable (delivers to maildir)") {
		t.Errorf("log:\n%s", ta.log(t))
	}
}

func TestServeAnswersRequestsOnOneConnection(t *testing.T) {
	ta := newTestAgent(t, "", "bob@example.test")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, served := ipctest.ServeOne(ctx, t, ta.agent.Serve)
	for range 2 {
		res, err := ipctest.Deliver(ctx, conn, ta.req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Recipients) != 1 || res.Recipients[0].Status != ipc.StatusSent {
			t.Errorf("result %+v", res)
		}
	}
	conn.Close()
	<-served
	files, _ := filepath.Glob(filepath.Join(ta.base, "bob", "new", "*"))
	if len(files) != 2 {
		t.Errorf("Maildir holds %d messages, want 2", len(files))
	}
	if strings.Contains(ta.log(t), "warning") {
		t.Errorf("a clean hang-up was logged:\n%s", ta.log(t))
	}
}

func TestFromConfigErrors(t *testing.T) {
	tests := []struct {
		mainCF, want string
	}{
		{"virtual_mailbox_base = relative/path\n", "do not specify relative pathname: virtual_mailbox_base = relative/path"},
		{"virtual_mailbox_base = /var/mail/vhosts\nvirtual_minimum_uid = 0\n", "invalid virtual_minimum_uid parameter value 0 < 1"},
		{"virtual_mailbox_base = /var/mail/vhosts\nvirtual_mailbox_lock = fcntl, lockf\n", `invalid virtual_mailbox_lock value: "lockf"`},
		{"virtual_mailbox_base = /var/mail/vhosts\nvirtual_uid_maps = nosuchtype:x\n", "virtual_uid_maps: unsupported dictionary type: nosuchtype"},
	}
	for _, tt := range tests {
		configDir, _ := queuetest.Setup(t, tt.mainCF)
		cfg, err := config.Load(configDir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = FromConfig(cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: error %v, want %q", tt.mainCF, err, tt.want)
		}
	}
}

// TestMailboxMapsParanoid: virtual_mailbox_maps are opened as Postfix
// opens them, paranoid: a regexp rule that substitutes $1 from the
// address is skipped with a warning, and a result with ".." that would
// leave virtual_mailbox_base is refused; nothing is created outside it.
func TestMailboxMapsParanoid(t *testing.T) {
	ta := newTestAgent(t, `virtual_mailbox_maps = regexp:{ {/^(.*)@example\.test$$/ $${1}/} }, inline:{ evil@example.test=../out/, evil2@example.test=x/../../out }
virtual_uid_maps = static:1000
virtual_gid_maps = static:1000
`, "../out/x@example.test", "evil@example.test", "evil2@example.test")
	for _, w := range ta.agent.Settings.Warnings() {
		ta.agent.Log.Warning("%s", w)
	}
	res := ta.agent.Deliver(ta.req)
	want := []struct {
		status ipc.DeliveryStatus
		dsn    string
	}{{ipc.StatusBounced, "5.1.1"}, {ipc.StatusDeferred, "4.3.5"}, {ipc.StatusDeferred, "4.3.5"}}
	for i, w := range want {
		if r := res.Recipients[i]; r.Status != w.status || r.DSNCode != w.dsn {
			t.Errorf("%s: %+v, want %v %s", r.Address, r, w.status, w.dsn)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(ta.base), "out")); err == nil {
		t.Errorf("a mailbox was created outside virtual_mailbox_base")
	}
	log := ta.log(t)
	for _, want := range []string{
		"regular expression substitution is not allowed: skipping this rule",
		"warning: recipient evil@example.test: bad mailbox path ../out/ in regexp:",
		"warning: recipient evil2@example.test: bad mailbox path x/../../out in regexp:",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
