package dsn

import (
	"strings"
	"testing"
	"time"
)

func TestBuild(t *testing.T) {
	r := &Report{
		Hostname:    "mx.test.example",
		QueueID:     "8E3249840D3",
		Sender:      "alice@test.example",
		ArrivalTime: time.Date(2026, time.November, 28, 13, 1, 15, 0, time.UTC),
		To:          "alice@test.example",
		Recipients: []Recipient{
			{Address: "bad@remote.example", Original: "Bad@remote.example", Status: "5.1.1",
				Reason:    "host mx.remote.example[192.0.2.1] said: 550 5.1.1 unknown user (in reply to RCPT TO command)",
				RemoteMTA: "mx.remote.example", Diagnostic: "smtp; 550 5.1.1 unknown user"},
			{Address: "x@gone.example", Status: "5.1.2", Reason: "no such domain", Diagnostic: "X-Postfix; no such domain"},
		},
		Original: "Subject: hi\nFrom: alice@test.example\n",
		Boundary: "8E3249840D3.1795870000/mx.test.example",
	}
	want := `From: MAILER-DAEMON@mx.test.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: alice@test.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="8E3249840D3.1795870000/mx.test.example"
Content-Transfer-Encoding: 8bit

This is a MIME-encapsulated message.

--8E3249840D3.1795870000/mx.test.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.test.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<bad@remote.example>: host mx.remote.example[192.0.2.1] said: 550 5.1.1 unknown user (in reply to RCPT TO command)

<x@gone.example>: no such domain

--8E3249840D3.1795870000/mx.test.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.test.example
X-Postfix-Queue-ID: 8E3249840D3
X-Postfix-Sender: rfc822; alice@test.example
Arrival-Date: Sat, 28 Nov 2026 13:01:15 +0000 (UTC)

Final-Recipient: rfc822; bad@remote.example
Original-Recipient: rfc822;Bad@remote.example
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.remote.example
Diagnostic-Code: smtp; 550 5.1.1 unknown user

Final-Recipient: rfc822; x@gone.example
Action: failed
Status: 5.1.2
Diagnostic-Code: X-Postfix; no such domain

--8E3249840D3.1795870000/mx.test.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Subject: hi
From: alice@test.example

--8E3249840D3.1795870000/mx.test.example--
`
	if got := string(Build(r)); got != want {
		t.Errorf("Build:\n%s\nwant:\n%s", got, want)
	}
}

func TestNewBoundary(t *testing.T) {
	got := NewBoundary("ABC", time.Unix(1795870000, 0), "mx.test.example")
	if want := "ABC.1795870000/mx.test.example"; got != want {
		t.Errorf("NewBoundary = %q, want %q", got, want)
	}
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		reason, remote, diag string
	}{
		{"host mx.remote.example[192.0.2.1] said: 550 5.1.1 unknown user (in reply to RCPT TO command)",
			"mx.remote.example", "smtp; 550 5.1.1 unknown user"},
		{"host mx.remote.example[192.0.2.1] said: 554 no thanks", "mx.remote.example", "smtp; 554 no thanks"},
		{"connect to 127.0.0.1[127.0.0.1]:2599: Connection refused", "", "X-Postfix; connect to 127.0.0.1[127.0.0.1]:2599: Connection refused"},
		{"host without a reply", "", "X-Postfix; host without a reply"},
		{"", "", "X-Postfix; "},
	}
	for _, tc := range tests {
		remote, diag := Diagnose(tc.reason)
		if remote != tc.remote || diag != tc.diag {
			t.Errorf("Diagnose(%q) = %q, %q; want %q, %q", tc.reason, remote, diag, tc.remote, tc.diag)
		}
	}
}

func TestBuildFullMessage(t *testing.T) {
	r := &Report{Hostname: "h.example", QueueID: "ID", Sender: "s@x.example", To: "s@x.example",
		ArrivalTime: time.Unix(0, 0).UTC(), Boundary: "B",
		Original: "Subject: hi\n\nbody", FullMessage: true}
	got := string(Build(r))
	want := "--B\nContent-Description: Undelivered Message\nContent-Type: message/rfc822\n\nSubject: hi\n\nbody\n\n--B--\n"
	if !strings.HasSuffix(got, want) {
		t.Errorf("Build ends:\n%s\nwant the suffix:\n%s", got, want)
	}
	if strings.Contains(got, "Final-Recipient") {
		t.Errorf("report without recipients has per-recipient fields:\n%s", got)
	}
}
