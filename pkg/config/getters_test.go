// getters_test.go checks list splitting.

package config

import (
	"reflect"
	"testing"
)

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
