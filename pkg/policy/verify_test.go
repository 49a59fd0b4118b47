package policy

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc/ipctest"
	"github.com/postern/postern/pkg/verify"
)

// verifyServer is a verify service on a Unix socket whose probes are
// answered at once by result (nil: never answered).
type verifyServer struct {
	cache   *verify.Cache
	path    string
	answers bool
	probed  chan string
}

func startVerifyServer(t *testing.T, result func(addr string) (verify.Status, string)) *verifyServer {
	t.Helper()
	v := &verifyServer{path: filepath.Join(sockdir.New(t), "verify"), answers: result != nil, probed: make(chan string, 10)}
	v.cache = &verify.Cache{Table: verify.NewMemoryTable(), Settings: verify.Settings{
		NegativeCache: true, PositiveExpire: time.Hour, PositiveRefresh: time.Hour,
		NegativeExpire: time.Hour, NegativeRefresh: time.Hour,
	}}
	v.cache.Probe = func(a string) {
		if result != nil {
			st, text := result(a)
			v.cache.Update(a, st, text)
		}
		v.probed <- a
	}
	ipctest.Listen(t, v.path, v.cache.Serve)
	return v
}

// sleepUntilProbed is the poll delay: it waits for the probe the first
// query started, so that the next query sees its result.
func (v *verifyServer) sleepUntilProbed(t *testing.T, slept *int) func(time.Duration) {
	return func(d time.Duration) {
		*slept++
		if d != 3*time.Second {
			t.Errorf("poll delay %v, want address_verify_poll_delay's 3s", d)
		}
		if !v.answers {
			return
		}
		select {
		case <-v.probed:
		case <-time.After(30 * time.Second):
			t.Error("no probe")
		}
	}
}

const nosuchUser = "host mx.relay.example[192.0.2.1] said: 550 5.1.1 <nobody@relay.example>: Recipient address rejected: User unknown (in reply to RCPT TO command)"

func probeResult(a string) (verify.Status, string) {
	if strings.HasPrefix(a, "nobody@") {
		return verify.StatusBounce, nosuchUser
	}
	if strings.HasPrefix(a, "later@") {
		return verify.StatusDefer, "connect to mx.relay.example[192.0.2.1]:25: Connection refused"
	}
	return verify.StatusOK, "250 2.1.5 Ok"
}

func TestRejectUnverifiedRecipient(t *testing.T) {
	tests := []struct {
		name, extra, rcpt, want string
		probes                  bool // the service answers probes
		wantSleeps              int
	}{
		{"in progress, polled three times", "", "u@relay.example",
			"450 4.1.1 <u@relay.example>: Recipient address rejected: unverified address: Address verification in progress", false, 2},
		{"poll count 1", "address_verify_poll_count = 1\n", "u@relay.example",
			"450 4.1.1 <u@relay.example>: Recipient address rejected: unverified address: Address verification in progress", false, 0},
		{"deliverable", "", "known@relay.example", "250", true, 1},
		{"bounced, default reject code 450", "", "nobody@relay.example",
			"450 4.1.1 <nobody@relay.example>: Recipient address rejected: unverified address: " + nosuchUser, true, 1},
		{"bounced, reject code 550", "unverified_recipient_reject_code = 550\n", "nobody@relay.example",
			"550 5.1.1 <nobody@relay.example>: Recipient address rejected: undeliverable address: " + nosuchUser, true, 1},
		{"deferred", "unverified_recipient_reject_code = 550\n", "later@relay.example",
			"450 4.1.1 <later@relay.example>: Recipient address rejected: unverified address: connect to mx.relay.example[192.0.2.1]:25: Connection refused", true, 1},
		{"reject reason", "unverified_recipient_reject_code = 550\nunverified_recipient_reject_reason = User unknown here\n", "nobody@relay.example",
			"550 5.1.1 <nobody@relay.example>: Recipient address rejected: undeliverable address: User unknown here", true, 1},
		{"defer code", "unverified_recipient_defer_code = 451\n", "later@relay.example",
			"451 4.1.1 <later@relay.example>: Recipient address rejected: unverified address: connect to mx.relay.example[192.0.2.1]:25: Connection refused", true, 1},
		{"accept code", "unverified_recipient_reject_code = 250\n", "nobody@relay.example", "250", true, 1},
		{"defer_if_permit yields to a later reject", "smtpd_recipient_restrictions = reject_unverified_recipient, reject\n", "later@relay.example",
			"554 5.7.1 <later@relay.example>: Recipient address rejected: Access denied", true, 1},
		{"tempfail action defer", "smtpd_recipient_restrictions = reject_unverified_recipient, reject\nunverified_recipient_tempfail_action = defer\n", "later@relay.example",
			"450 4.1.1 <later@relay.example>: Recipient address rejected: unverified address: connect to mx.relay.example[192.0.2.1]:25: Connection refused", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var result func(string) (verify.Status, string)
			if tt.probes {
				result = probeResult
			}
			v := startVerifyServer(t, result)
			slept := 0
			extra := "smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient\n" + tt.extra
			c, _, _ := testCheckerWith(t, extra, nil, Options{Sleep: v.sleepUntilProbed(t, &slept)})
			c.verify.client.Path = v.path
			if got := rcptReply(t, c, outsider(), "<"+tt.rcpt+">"); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if slept != tt.wantSleeps {
				t.Errorf("%d poll delays, want %d", slept, tt.wantSleeps)
			}
		})
	}
}

func TestRejectUnverifiedSender(t *testing.T) {
	tests := []struct{ extra, sender, want string }{
		{"", "nobody@relay.example",
			"450 4.1.7 <nobody@relay.example>: Sender address rejected: unverified address: " + nosuchUser},
		{"unverified_sender_reject_code = 550\n", "nobody@relay.example",
			"550 5.1.7 <nobody@relay.example>: Sender address rejected: undeliverable address: " + nosuchUser},
		{"unverified_sender_reject_code = 550\nunverified_sender_reject_reason = Sender unknown\n", "nobody@relay.example",
			"550 5.1.7 <nobody@relay.example>: Sender address rejected: undeliverable address: Sender unknown"},
		{"", "known@relay.example", "250"},
		{"", "", "250"}, // the null sender is not verified
	}
	for _, tt := range tests {
		v := startVerifyServer(t, probeResult)
		slept := 0
		extra := "smtpd_sender_restrictions = reject_unverified_sender\n" + tt.extra
		c, _, _ := testCheckerWith(t, extra, nil, Options{Sleep: v.sleepUntilProbed(t, &slept)})
		c.verify.client.Path = v.path
		s := outsider()
		s.Sender = addr.Address{}
		if tt.sender != "" {
			local, domain, _ := strings.Cut(tt.sender, "@")
			s.Sender = addr.Address{Local: local, Domain: domain}
		}
		if got := rcptReply(t, c, s, "<u@relay.example>"); got != tt.want {
			t.Errorf("sender <%s>:\ngot  %s\nwant %s", tt.sender, got, tt.want)
		}
	}
}

func TestVerifyServiceFailure(t *testing.T) {
	c, warnings, _ := testCheckerWith(t, "smtpd_recipient_restrictions = reject_unauth_destination, reject_unverified_recipient\n", nil, Options{})
	c.verify.client.Path = filepath.Join(sockdir.New(t), "no-verify")
	want := "450 4.1.1 <u@relay.example>: Recipient address rejected: address verification problem"
	if got := rcptReply(t, c, outsider(), "<u@relay.example>"); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if len(*warnings) != 1 || (*warnings)[0] != "verify service failure" {
		t.Errorf("warnings %q", *warnings)
	}
}
