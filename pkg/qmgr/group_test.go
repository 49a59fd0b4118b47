package qmgr

import (
	"reflect"
	"testing"

	"github.com/postern/postern/pkg/queue"
)

func TestGroup(t *testing.T) {
	r := func(addr, transport, nexthop string) Routed {
		return Routed{Recipient: queue.Recipient{Address: addr}, Transport: transport, Nexthop: nexthop}
	}
	limit := func(transport string) int {
		if transport == "local" {
			return 1
		}
		if transport == "relay" {
			return 0
		}
		return 2
	}
	routed := []Routed{
		r("a@x.example", "smtp", "x.example"),
		r("u1@here", "local", "here"),
		r("b@y.example", "smtp", "y.example"),
		r("c@x.example", "smtp", "x.example"),
		r("d@x.example", "smtp", "x.example"),
		r("u2@here", "local", "here"),
		r("e@x.example", "smtp", "[relay.example]"),
		r("f@z.example", "relay", "z.example"),
		r("g@z.example", "relay", "z.example"),
		r("h@z.example", "relay", "z.example"),
	}
	type job struct {
		dest  string
		addrs []string
	}
	var got []job
	for _, j := range Group(routed, limit) {
		var addrs []string
		for _, rc := range j.Recipients {
			addrs = append(addrs, rc.Address)
		}
		got = append(got, job{j.Destination(), addrs})
	}
	want := []job{
		{"smtp:x.example", []string{"a@x.example", "c@x.example"}},
		{"local:here", []string{"u1@here"}},
		{"smtp:y.example", []string{"b@y.example"}},
		{"smtp:x.example", []string{"d@x.example"}},
		{"local:here", []string{"u2@here"}},
		{"smtp:[relay.example]", []string{"e@x.example"}},
		{"relay:z.example", []string{"f@z.example", "g@z.example", "h@z.example"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Group:\n got %v\nwant %v", got, want)
	}
	if jobs := Group(nil, limit); len(jobs) != 0 {
		t.Errorf("Group(nil) = %v", jobs)
	}
}
