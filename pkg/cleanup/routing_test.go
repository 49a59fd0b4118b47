// Tests of masquerading and automatic BCC recipients.

package cleanup

import (
	"strings"
	"testing"

	"github.com/postern/postern/pkg/ipc"
)

// TestMasquerade follows Postfix's cleanup_masq test cases.
func TestMasquerade(t *testing.T) {
	tests := []struct {
		exceptions, domains []string
		address, want       string
	}{
		{nil, []string{"a.b.c", "b.c"}, "xxx@aa.a.b.c", "xxx@a.b.c"},
		{nil, []string{"A.B.C", "B.C"}, "xxx@aa.a.b.c", "xxx@a.b.c"},
		{nil, []string{"a.b.c", "b.c"}, "xxx@AA.A.B.C", "xxx@a.b.c"},
		{[]string{"xxx"}, []string{"a.b.c", "b.c"}, "xxx@aa.a.b.c", "xxx@aa.a.b.c"},
		{[]string{"yyy"}, []string{"a.b.c", "b.c"}, "xxx@aa.a.b.c", "xxx@a.b.c"},
		{nil, []string{"!a.b.c", "b.c"}, "xxx@aa.a.b.c", "xxx@aa.a.b.c"},
		{nil, []string{"a.b.c", "b.c"}, "xxx@a.b.c", "xxx@a.b.c"},
		{nil, []string{"!a.b.c", "b.c"}, "xxx@a.b.c", "xxx@a.b.c"},
		{nil, []string{"a.b.c", "b.c"}, "xxx@aaa.b.c", "xxx@b.c"},
		{nil, []string{"a.b.c", "b.c"}, "xxx@b.c", "xxx@b.c"},
		{nil, []string{"b.c"}, "xxx", "xxx"},
	}
	for _, tt := range tests {
		m, err := newMasquerade(tt.domains, tt.exceptions, []string{"envelope_sender"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := m.apply(tt.address); err != nil || got != tt.want {
			t.Errorf("masquerade %v except %v: %s = %s, %v; want %s", tt.domains, tt.exceptions, tt.address, got, err, tt.want)
		}
	}
	if _, err := newMasquerade([]string{"b.c"}, nil, []string{"envelope_bogus"}, nil); err == nil {
		t.Error("unknown masquerade class accepted")
	}
}

// TestMasqueradeClasses: Postfix's default classes masquerade the
// envelope sender and the header addresses of a local submission, not
// the envelope recipients.
func TestMasqueradeClasses(t *testing.T) {
	s := baseSettings()
	m, err := newMasquerade([]string{"test.example"}, []string{"root"}, []string{"envelope_sender", "header_sender", "header_recipient"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Masquerade = m
	ts := startServer(t, s)
	sub := &ipc.CleanupSubmission{Sender: "alice@host.test.example", Recipients: []ipc.Recipient{{Address: "bob@mail.test.example"}, {Address: "root@host.test.example"}},
		ArrivalTime: testNow, Flags: ipc.CleanupFlagMapOK, SubmitterUID: 1000}
	reply := ts.submit(sub, "From: alice@host.test.example\nTo: bob@mail.test.example, root@host.test.example\nSubject: masq\n\nbody\n")
	if reply.Status != 0 {
		t.Fatalf("reply %+v", reply)
	}
	msg, content := ts.load(reply.QueueID)
	if msg.Sender != "alice@test.example" {
		t.Errorf("sender %s, want alice@test.example", msg.Sender)
	}
	if got := strings.Join(addresses(msg), ","); got != "bob@mail.test.example,root@host.test.example" {
		t.Errorf("recipients %s", got)
	}
	for _, want := range []string{"From: alice@test.example\n", "To: bob@test.example, root@host.test.example\n"} {
		if !strings.Contains(content, want) {
			t.Errorf("content lacks %q:\n%s", want, content)
		}
	}
}

func TestAutomaticBCC(t *testing.T) {
	s := baseSettings()
	s.Extensions.Delimiter = "+"
	s.AlwaysBCC = "archive"
	s.SenderBCCMaps = writeTable(t, "@sales.example sales-copy@test.example\n")
	s.RecipientBCCMaps = writeTable(t, "boss@test.example boss-copy@test.example\n")
	s.VirtualAliasMaps = writeTable(t, "sales-copy@test.example s1@test.example, s2@test.example\n")
	ts := startServer(t, s)
	tests := []struct {
		name  string
		flags ipc.CleanupFlags
		from  string
		rcpts []string
		want  string
	}{
		{"all three", ipc.CleanupFlagMapOK | ipc.CleanupFlagBCCOK, "jane@sales.example", []string{"boss+x@test.example", "other@remote.example"},
			"s1@test.example<sales-copy@test.example>,s2@test.example<sales-copy@test.example>,boss+x@test.example<boss+x@test.example>,boss-copy@test.example<boss-copy@test.example>,other@remote.example<other@remote.example>,archive@test.example<archive@test.example>"},
		{"no BCC without the flag", ipc.CleanupFlagMapOK, "jane@sales.example", []string{"boss@test.example"},
			"boss@test.example<boss@test.example>"},
		{"null sender", ipc.CleanupFlagMapOK | ipc.CleanupFlagBCCOK, "", []string{"x@remote.example"},
			"x@remote.example<x@remote.example>,archive@test.example<archive@test.example>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := remote(tt.from, tt.rcpts...)
			sub.Flags = tt.flags
			reply := ts.submit(sub, "Subject: bcc\n\nbody\n")
			if reply.Status != 0 {
				t.Fatalf("reply %+v", reply)
			}
			msg, _ := ts.load(reply.QueueID)
			var got []string
			for _, r := range msg.Recipients {
				got = append(got, r.Address+"<"+r.Original+">")
				bcc := strings.HasSuffix(r.Original, "-copy@test.example") || strings.HasPrefix(r.Original, "archive@")
				if never := r.DSNNotify == int(ipc.DSNNotifyNever); never != bcc {
					t.Errorf("%s: NOTIFY %d", r.Address, r.DSNNotify)
				}
			}
			if strings.Join(got, ",") != tt.want {
				t.Errorf("recipients\n%s\nwant\n%s", strings.Join(got, ","), tt.want)
			}
		})
	}
}
