// Tests of content_filter and REDIRECT routing in the queue manager.

package qmgr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/queuetest"
)

func TestContentFilterAndRedirect(t *testing.T) {
	tests := []struct {
		name      string
		attrs     []queue.Attr
		rcpts     []string
		nexthop   string
		delivered []string
		orig      string
	}{
		{name: "filter overrides the resolver",
			attrs: []queue.Attr{{Name: queue.AttrContentFilter, Value: "smtp:[127.0.0.1]:10025"}},
			rcpts: []string{"a@one.example", "b@two.example"}, nexthop: "[127.0.0.1]:10025",
			delivered: []string{"a@one.example", "b@two.example"}},
		{name: "the last filter wins",
			attrs: []queue.Attr{{Name: queue.AttrContentFilter, Value: "smtp:[127.0.0.1]:10025"},
				{Name: queue.AttrContentFilter, Value: "smtp:[127.0.0.1]:10027"}},
			rcpts: []string{"a@one.example"}, nexthop: "[127.0.0.1]:10027", delivered: []string{"a@one.example"}},
		{name: "filter without nexthop uses the recipient domain",
			attrs: []queue.Attr{{Name: queue.AttrContentFilter, Value: "smtp:"}},
			rcpts: []string{"a@one.example"}, nexthop: "one.example", delivered: []string{"a@one.example"}},
		{name: "a content reject bounces every recipient",
			attrs: []queue.Attr{{Name: queue.AttrContentReject, Value: "5.7.1 go away"}},
			rcpts: []string{"a@one.example"}},
		{name: "redirect replaces all recipients by one",
			attrs: []queue.Attr{{Name: queue.AttrRedirect, Value: "boss@remote.example"}},
			rcpts: []string{"a@one.example", "b@two.example"}, nexthop: "remote.example",
			delivered: []string{"boss@remote.example"}, orig: "a@one.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "", nil)
			env := &queue.Envelope{ArrivalTime: time.Now(), Sender: "s@test.example", Attrs: tt.attrs}
			for _, r := range tt.rcpts {
				env.Recipients = append(env.Recipients, queue.Recipient{Address: r})
			}
			queuetest.Place(t, h.layout, queue.Incoming, "F1F2F3F4F5", env, "Subject: x\n\nbody\n")
			h.run()
			h.waitFor("the message to be done", func() bool {
				return !h.exists(queue.Incoming, "F1F2F3F4F5") && !h.exists(queue.Active, "F1F2F3F4F5")
			})
			h.stop()
			var got []string
			for _, req := range h.agent.Requests() {
				if req.Transport != "smtp" || req.Nexthop != tt.nexthop {
					t.Errorf("request to %s:%s, want smtp:%s", req.Transport, req.Nexthop, tt.nexthop)
				}
				for _, r := range req.Recipients {
					got = append(got, r.Address)
					if tt.orig != "" && r.OriginalRecipient != tt.orig {
						t.Errorf("original recipient %q, want %q", r.OriginalRecipient, tt.orig)
					}
				}
			}
			if len(tt.delivered) == 0 {
				h.waitLog("F1F2F3F4F5: to=<a@one.example>, relay=none")
				if !strings.Contains(h.log.Text(), "dsn=5.7.1, status=bounced (go away)") {
					t.Errorf("log:\n%s", h.log.Text())
				}
			}
			if len(got) != len(tt.delivered) {
				t.Fatalf("delivered to %v, want %v", got, tt.delivered)
			}
			for i := range got {
				if got[i] != tt.delivered[i] {
					t.Errorf("delivered to %v, want %v", got, tt.delivered)
				}
			}
		})
	}
}
