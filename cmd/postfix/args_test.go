package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    options
		wantErr string
	}{
		{args: []string{"start"}, want: options{command: "start"}},
		{args: []string{"-c", "/etc/pf", "status"}, want: options{configDir: "/etc/pf", command: "status"}},
		{args: []string{"-c/etc/pf", "-Dv", "stop"}, want: options{configDir: "/etc/pf", command: "stop"}},
		{args: []string{"logrotate", "extra"}, want: options{command: "logrotate", operands: []string{"extra"}}},
		{args: []string{"--", "-x"}, want: options{command: "-x"}},
		{args: nil, want: options{}},
		{args: []string{"-x", "status"}, wantErr: "invalid option -- 'x'"},
		{args: []string{"-c"}, wantErr: "option requires an argument -- 'c'"},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("parseArgs(%q) error = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("-c /etc/postfix start")
	f.Add("-cx -vD -- status")
	f.Add("-")
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, " ")
		o, err := parseArgs(args)
		if err == nil && len(o.operands) >= len(args) {
			t.Fatalf("more operands than words after the options for %q: %+v", args, o)
		}
	})
}
