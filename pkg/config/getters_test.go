// getters_test.go checks the typed getters and list splitting.

package config

import (
	"reflect"
	"testing"
	"time"
)

func TestTypedGetters(t *testing.T) {
	c := testConfig(t, "flag=YES", "off=no", "bad=maybe", "count=$default_process_limit", "size=10240000",
		"neg=-1", "t1=5d", "t2=300", "t3=2w", "t4=5x", "t5=s", "t6=10ss")
	if v, err := c.Bool("flag"); err != nil || !v {
		t.Errorf("Bool(flag) = %v, %v", v, err)
	}
	if v, err := c.Bool("off"); err != nil || v {
		t.Errorf("Bool(off) = %v, %v", v, err)
	}
	if _, err := c.Bool("bad"); err == nil || err.Error() != "bad boolean configuration: bad = maybe" {
		t.Errorf("Bool(bad) error = %v", err)
	}
	if v, err := c.Int("count"); err != nil || v != 100 {
		t.Errorf("Int(count) = %v, %v", v, err)
	}
	if _, err := c.Int("bad"); err == nil || err.Error() != "bad numerical configuration: bad = maybe" {
		t.Errorf("Int(bad) error = %v", err)
	}
	if v, err := c.Size("size"); err != nil || v != 10240000 {
		t.Errorf("Size(size) = %v, %v", v, err)
	}
	if _, err := c.Size("neg"); err == nil {
		t.Error("negative size accepted")
	}
	durations := []struct {
		name string
		unit byte
		want time.Duration
		ok   bool
	}{
		{"t1", 's', 5 * 24 * time.Hour, true},
		{"t2", 's', 300 * time.Second, true},
		{"t2", 'd', 300 * 24 * time.Hour, true},
		{"t3", 's', 14 * 24 * time.Hour, true},
		{"maximal_queue_lifetime", 'd', 5 * 24 * time.Hour, true},
		{"t4", 's', 0, false},
		{"t5", 's', 0, false},
		{"t6", 's', 0, false},
	}
	for _, d := range durations {
		got, err := c.Duration(d.name, d.unit)
		if (err == nil) != d.ok || got != d.want {
			t.Errorf("Duration(%s, %c) = %v, %v", d.name, d.unit, got, err)
		}
	}
	if _, err := ParseDuration("99999999999999999w", 's'); err == nil {
		t.Error("overflowing duration accepted")
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a, b c,,d\t\ne", []string{"a", "b", "c", "d", "e"}},
		{" $myhostname, localhost.$mydomain, localhost ", []string{"$myhostname", "localhost.$mydomain", "localhost"}},
		{"CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}", []string{"CONNECT", "GET", "POST", "regexp:{{/^[^A-Z]/ Bogus}}"}},
		{"!/etc/x, hash:/etc/y inline:{ a=1, b=2 } 10.0.0.0/8", []string{"!/etc/x", "hash:/etc/y", "inline:{ a=1, b=2 }", "10.0.0.0/8"}},
		{"unbalanced}, {open x", []string{"unbalanced}", "{open x"}},
	}
	for _, tt := range tests {
		if got := SplitList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	c := testConfig(t, "myhostname=mx.example", "mydomain=example")
	got, err := c.List("mydestination")
	if want := []string{"mx.example", "localhost.example", "localhost"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("List(mydestination) = %q, %v", got, err)
	}
}
