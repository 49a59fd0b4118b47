// Tests of the qmgr side: requests over the delivery protocol, content read from a real queue file, settings errors.

package local

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
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
)

func TestServeReadsQueueFile(t *testing.T) {
	f := newFixture(t, nil, nil)
	_, layout := queuetest.Setup(t, "")
	f.agent.Layout = layout
	arrival := time.Now().Add(-2 * time.Second)
	env := &queue.Envelope{ArrivalTime: arrival, Sender: "sender@remote.example",
		Recipients: []queue.Recipient{{Address: "alice@example.test"}, {Address: "nosuch@example.test"}}}
	placed := queuetest.Place(t, layout, queue.Active, "4A1B2C3D4E", env, testContent)
	qf, err := os.Open(layout.Path(queue.Active, "4A1B2C3D4E"))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := queue.ReadEnvelope(qf)
	qf.Close()
	if err != nil {
		t.Fatal(err)
	}
	req := &ipc.DeliveryRequest{Queue: queue.Active, QueueID: "4A1B2C3D4E", DataOffset: msg.Size.DataOffset,
		Sender: env.Sender, Transport: "local", Nexthop: "example.test", ArrivalTime: arrival, ActiveTime: arrival.Add(time.Second)}
	for _, r := range placed {
		req.Recipients = append(req.Recipients, ipc.Recipient{Address: r.Address, Offset: r.Offset})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, served := ipctest.ServeOne(ctx, t, f.agent.Serve)
	res, err := ipctest.Deliver(ctx, conn, req)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	<-served
	if len(res.Recipients) != 2 || res.Recipients[0].Status != ipc.StatusSent || res.Recipients[1].Status != ipc.StatusBounced ||
		res.Recipients[0].Offset != placed[0].Offset || res.Recipients[1].Offset != placed[1].Offset {
		t.Fatalf("results %+v", res.Recipients)
	}
	got := withoutFromLines(t, f.read(filepath.Join(f.spool, "alice")), "sender@remote.example")
	if want := mboxEntry("sender@remote.example", "alice@example.test", "alice@example.test"); got != want {
		t.Errorf("mbox %q, want %q", got, want)
	}
	// The message arrived two seconds ago; a slow machine adds more.
	if m := regexp.MustCompile(`4A1B2C3D4E: to=<alice@example\.test>, relay=local, delay=([\d.]+),`).FindStringSubmatch(f.log()); m == nil {
		t.Errorf("log:\n%s", f.log())
	} else if delay, err := strconv.ParseFloat(m[1], 64); err != nil || delay < 2 {
		t.Errorf("delay=%s, want 2 s or more:\n%s", m[1], f.log())
	}
	if strings.Contains(f.log(), "warning") {
		t.Errorf("a clean hang-up was logged:\n%s", f.log())
	}
}

func TestSettingsFromConfig(t *testing.T) {
	tests := []struct {
		name, param, value string
		wantErr, wantWarn  string
	}{
		{name: "absolute home_mailbox", param: "home_mailbox", value: "/var/mail/x", wantErr: "home_mailbox: do not specify absolute pathname: /var/mail/x"},
		{name: "bad lock", param: "mailbox_delivery_lock", value: "fcntl, magic", wantErr: `invalid mailbox_delivery_lock value: "magic"`},
		{name: "bad allow_mail_to_commands", param: "allow_mail_to_commands", value: "alias, everyone", wantErr: `bad allow_mail_to_commands value: "everyone"`},
		{name: "mailbox smaller than messages", param: "mailbox_size_limit", value: "1000", wantErr: "main.cf configuration error: mailbox_size_limit is smaller than message_size_limit"},
		{name: "nis is skipped", param: "alias_maps", value: "nis:mail.aliases", wantWarn: "alias_maps: unsupported dictionary type: nis -- ignoring this table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Defaults(t.TempDir())
			cfg.Set("alias_maps", "")
			cfg.Set(tt.param, tt.value)
			var warnings []string
			s, err := FromConfig(cfg, func(w string) { warnings = append(warnings, w) })
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if strings.Join(warnings, "\n") != tt.wantWarn {
				t.Errorf("warnings %q, want %q", warnings, tt.wantWarn)
			}
		})
	}
}

func TestUnavailableAliasTableDefers(t *testing.T) {
	f := newFixture(t, nil, nil)
	cfg := f.agent.Settings.Config
	cfg.Set("alias_maps", "hash:"+filepath.Join(f.dir, "missing"))
	var warnings []string
	s, err := FromConfig(cfg, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "hash:"+filepath.Join(f.dir, "missing")+" is unavailable. ") {
		t.Errorf("warnings %q", warnings)
	}
	f.agent.Settings = s
	r := f.deliver(testContent, "alice@example.test")[0]
	if r.Status != ipc.StatusDeferred || r.DSNCode != "4.3.0" || r.Reply != "alias database unavailable" {
		t.Errorf("result %+v", r)
	}
}

// TestTablesAreParanoid: like Postfix's local, local opens alias_maps,
// mailbox_command_maps and the transport maps without regexp
// substitution, so that no part of a recipient address becomes (part of)
// a command, a file or a transport: such a rule is skipped with
// Postfix's warning.
func TestTablesAreParanoid(t *testing.T) {
	cfg := config.Defaults(t.TempDir())
	for _, param := range []string{"alias_maps", "mailbox_command_maps", "mailbox_transport_maps", "fallback_transport_maps"} {
		cfg.Set(param, `regexp:{ {/^run-(.*)$$/ "|touch /tmp/$$1"}, {/^postmaster$$/ root} }`)
	}
	var warnings []string
	s, err := FromConfig(cfg, func(w string) { warnings = append(warnings, w) })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tables := range [][]maps.Table{s.AliasMaps, s.MailboxCommandMaps, s.MailboxTransportMaps, s.FallbackTransportMaps} {
		if _, found, err := tables[0].Lookup("run-x;reboot"); found || err != nil {
			t.Errorf("%s: a rule with $1 matched (%v)", tables[0].Spec(), err)
		}
		if v, found, _ := tables[0].Lookup("postmaster"); !found || v != "root" {
			t.Errorf("%s: postmaster = %q, %v", tables[0].Spec(), v, found)
		}
	}
	if len(warnings) != 4 || !strings.Contains(warnings[0], "regular expression substitution is not allowed: skipping this rule") {
		t.Errorf("warnings: %q", warnings)
	}
}
