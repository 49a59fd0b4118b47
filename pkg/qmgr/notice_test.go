package qmgr_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
)

// TestDelayWarningOnce: a message deferred for longer than
// delay_warning_time gets one delayed-mail warning, not one per attempt,
// and a postmaster copy with notify_classes = delay.
func TestDelayWarningOnce(t *testing.T) {
	h := newHarness(t, "delay_warning_time = 1h\nnotify_classes = delay\ndelay_notice_recipient = delays\n", nil)
	h.place(queue.Incoming, "B7B2C3D4E5", "alice@test.example", time.Now().Add(-2*time.Hour), "slow@later.example")
	h.run()
	h.waitFor("the deferred file", func() bool { return h.exists(queue.Deferred, "B7B2C3D4E5") })
	h.waitLog("B7B2C3D4E5: postmaster delay notification: BOUNCE2")
	// A second attempt sends no second warning.
	if err := h.layout.SetNextAttempt(queue.Deferred, "B7B2C3D4E5", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	h.mgr.Trigger([]ipc.TriggerCode{ipc.TriggerScanDeferred})
	h.waitFor("the second attempt", func() bool {
		return strings.Count(h.log.Text(), "B7B2C3D4E5: to=<slow@later.example>") == 2 && h.exists(queue.Deferred, "B7B2C3D4E5")
	})
	h.stop()
	log := h.log.Text()
	if !strings.Contains(log, "info: B7B2C3D4E5: sender delay notification: BOUNCE1") {
		t.Errorf("log lacks the sender's notice:\n%s", log)
	}
	subs := h.cleanup.Submissions()
	if len(subs) != 2 {
		t.Fatalf("%d submissions, want the warning and its copy:\n%s", len(subs), log)
	}
	warning, copy := subs[0], subs[1]
	if warning.Sub.Sender != "" || warning.Sub.Recipients[0].Address != "alice@test.example" {
		t.Errorf("warning envelope %+v", warning.Sub)
	}
	for _, want := range []string{
		"From: Mail Delivery System <MAILER-DAEMON>\nSubject: Delayed Mail (still being retried)\nTo: alice@test.example\nAuto-Submitted: auto-replied\n",
		"# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n",
		"Your message could not be delivered for more than 1 hour(s).\nIt will be retried until it is 5 day(s) old.\n",
		"\n<slow@later.example>: try again later\n",
		"Action: delayed\nStatus: 4.7.1\nDiagnostic-Code: X-Postfix; try again later\nWill-Retry-Until: ",
		"Content-Description: Undelivered Message Headers\nContent-Type: text/rfc822-headers\n",
	} {
		if !strings.Contains(warning.Content, want) {
			t.Errorf("warning lacks %q:\n%s", want, warning.Content)
		}
	}
	if strings.Contains(warning.Content, "\nbody\n") {
		t.Errorf("warning returns the body:\n%s", warning.Content)
	}
	if copy.Sub.Sender != "double-bounce@mx.test.example" || copy.Sub.Recipients[0].Address != "delays" {
		t.Errorf("copy envelope %+v", copy.Sub)
	}
	for _, want := range []string{
		"Subject: Postmaster Warning: Delayed Mail\nTo: delays\nAuto-Submitted: auto-generated\n",
		"Content-Transfer-Encoding: 8bit\n\n\n<slow@later.example>: try again later\n",
	} {
		if !strings.Contains(copy.Content, want) {
			t.Errorf("copy lacks %q:\n%s", want, copy.Content)
		}
	}
	st, err := os.Stat(h.layout.Path(queue.Deferred, "B7B2C3D4E5"))
	if err != nil || !queue.ModeDelayWarned(st.Mode()) {
		t.Errorf("queue file not marked warned: %v %v", st.Mode(), err)
	}
}

// TestDelayWarningNotYet: no warning before delay_warning_time, none when
// it is 0 (the default), and none for recipients whose NOTIFY leaves out
// DELAY.
func TestDelayWarningNotYet(t *testing.T) {
	tests := []struct {
		name, extra string
		age         time.Duration
		notify      ipc.DSNNotify
	}{
		{"too early", "delay_warning_time = 4h\n", 2 * time.Hour, 0},
		{"disabled", "", 100 * time.Hour, 0},
		{"NOTIFY=FAILURE", "delay_warning_time = 1h\n", 2 * time.Hour, ipc.DSNNotifyFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.extra, nil)
			env := &queue.Envelope{ArrivalTime: time.Now().Add(-tc.age), Sender: "alice@test.example",
				Recipients: []queue.Recipient{{Address: "slow@later.example", DSNNotify: int(tc.notify)}}}
			queuetest.Place(t, h.layout, queue.Incoming, "B8B2C3D4E5", env, "Subject: x\n\nbody\n")
			h.run()
			h.waitFor("the deferred file", func() bool { return h.exists(queue.Deferred, "B8B2C3D4E5") })
			h.stop()
			if subs := h.cleanup.Submissions(); len(subs) != 0 {
				t.Errorf("notice sent: %+v", subs)
			}
			st, err := os.Stat(h.layout.Path(queue.Deferred, "B8B2C3D4E5"))
			if err != nil {
				t.Fatal(err)
			}
			if warned := queue.ModeDelayWarned(st.Mode()); warned != (tc.notify != 0) {
				t.Errorf("marked warned: %v", warned)
			}
		})
	}
}

// TestBouncePostmasterCopy: notify_classes = bounce sends
// bounce_notice_recipient the headers of the bounced message without the
// template text, from the double-bounce address.
func TestBouncePostmasterCopy(t *testing.T) {
	h := newHarness(t, "notify_classes = bounce\nbounce_notice_recipient = bounces\n", nil)
	h.place(queue.Incoming, "B9B2C3D4E5", "alice@test.example", time.Now(), "x@gone.example")
	h.run()
	h.waitLog("B9B2C3D4E5: removed")
	h.stop()
	log := h.log.Text()
	for _, want := range []string{
		"info: B9B2C3D4E5: sender non-delivery notification: BOUNCE1",
		"info: B9B2C3D4E5: postmaster non-delivery notification: BOUNCE2",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	subs := h.cleanup.Submissions()
	if len(subs) != 2 {
		t.Fatalf("%d submissions", len(subs))
	}
	c := subs[1]
	if c.Sub.Sender != "double-bounce@mx.test.example" || c.Sub.Recipients[0].Address != "bounces" {
		t.Errorf("copy envelope %+v", c.Sub)
	}
	for _, want := range []string{
		"Subject: Postmaster Copy: Undelivered Mail\nTo: bounces\nAuto-Submitted: auto-generated\n",
		"\n\n<x@gone.example>: no such domain\n",
		"Content-Description: Undelivered Message Headers\n",
	} {
		if !strings.Contains(c.Content, want) {
			t.Errorf("copy lacks %q:\n%s", want, c.Content)
		}
	}
	if strings.Contains(c.Content, "I'm sorry") || strings.Contains(c.Content, "\nbody\n") {
		t.Errorf("copy has the template text or the body:\n%s", c.Content)
	}
}

// TestBounceTemplateFile: bounce_template_file replaces a template's
// headers and text; $name expands with main.cf.
func TestBounceTemplateFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bounce.cf")
	if err := os.WriteFile(file, []byte(`# site template
failure_template = <<EOF
From: Postmaster Robot <MAILER-DAEMON>
Subject: Your mail bounced
Postmaster-Subject: Bounce copy

Hello from $myhostname, costs $$5.
Kept for $maximal_queue_lifetime_hours hours.
EOF
`), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, "bounce_template_file = "+file+"\n", nil)
	h.place(queue.Incoming, "BAB2C3D4E5", "alice@test.example", time.Now(), "x@gone.example")
	h.run()
	h.waitLog("BAB2C3D4E5: removed")
	h.stop()
	subs := h.cleanup.Submissions()
	if len(subs) != 1 {
		t.Fatalf("%d submissions", len(subs))
	}
	for _, want := range []string{
		"From: Postmaster Robot <MAILER-DAEMON>\nSubject: Your mail bounced\n",
		"\n\nHello from mx.test.example, costs $5.\nKept for 120 hours.\n\n<x@gone.example>: no such domain\n",
	} {
		if !strings.Contains(subs[0].Content, want) {
			t.Errorf("notice lacks %q:\n%s", want, subs[0].Content)
		}
	}
}

// TestBrokenTemplateKeepsDelivering: a bounce_template_file Postfix's
// bounce daemon would die on stops the notices, not the queue manager:
// deliveries go on and the bounce log waits for a working template.
func TestBrokenTemplateKeepsDelivering(t *testing.T) {
	h := newHarness(t, "bounce_template_file = /nonexistent/bounce.cf\n", nil)
	h.place(queue.Incoming, "BBB2C3D4E5", "alice@test.example", time.Now(), "x@gone.example", "ok@remote.example")
	h.run()
	h.waitFor("the deferred file", func() bool { return h.exists(queue.Deferred, "BBB2C3D4E5") })
	h.stop()
	log := h.log.Text()
	for _, want := range []string{
		"warning: open /nonexistent/bounce.cf: No such file or directory",
		"warning: BBB2C3D4E5: sender non-delivery notification: open /nonexistent/bounce.cf: No such file or directory",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if reqs := h.agent.Requests(); len(reqs) != 1 || reqs[0].Recipients[0].Address != "ok@remote.example" {
		t.Errorf("agent requests %+v", reqs)
	}
	if m := h.load(queue.Deferred, "BBB2C3D4E5"); len(m.Pending()) != 0 {
		t.Errorf("pending %+v", m.Pending())
	}
	if entries, err := h.layout.ReadStatus(queue.Bounce, "BBB2C3D4E5"); err != nil || len(entries) != 1 {
		t.Errorf("bounce log %+v, %v", entries, err)
	}
}
