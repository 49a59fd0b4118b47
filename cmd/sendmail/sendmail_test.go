// Tests of sendmail's option parsing and standard-input handling.

package main

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/maildrop"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    options
		wantErr string
	}{
		{args: []string{"-t", "-i"}, want: options{extract: true, ignoreDots: true}},
		{args: []string{"-oi", "-f", "a@b", "-F", "Al B", "x@y", "z"},
			want: options{ignoreDots: true, sender: "a@b", senderSet: true, fullName: "Al B", recipients: []string{"x@y", "z"}}},
		{args: []string{"-fa@b", "-r", "<>", "--", "-odd"}, want: options{sender: "<>", senderSet: true, recipients: []string{"-odd"}}},
		{args: []string{"-bp"}, want: options{mode: modeMailq}},
		{args: []string{"-bi"}, want: options{mode: modeAliases}},
		{args: []string{"-q"}, want: options{mode: modeFlush}},
		{args: []string{"-q30m"}, want: options{}},
		{args: []string{"-bs"}, want: options{mode: modeSMTP}},
		{args: []string{"-bv", "a@b"}, want: options{verify: true, recipients: []string{"a@b"}}},
		{args: []string{"-C", "/etc/x/main.cf", "-odb", "-v"}, want: options{configDir: "/etc/x/main.cf", verbose: 1}},
		{args: []string{"-f"}, wantErr: "option requires an argument -- 'f'"},
		{args: []string{"-k"}, wantErr: "invalid option -- 'k'"},
		{args: []string{"-bz"}, wantErr: "unsupported: -bz"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parseArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.recipients, ",") != strings.Join(tt.want.recipients, ",") {
				t.Errorf("recipients %q, want %q", got.recipients, tt.want.recipients)
			}
			got.recipients, tt.want.recipients = nil, nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestInputReader(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		ignoreDots bool
		want       string
	}{
		{"lone dot ends", "a\n.\nb\n", false, "a\n"},
		{"lone dot with CRLF ends", "a\r\n.\r\nb\r\n", false, "a\r\n"},
		{"dot at EOF without LF", "a\n.", false, "a\n"},
		{"-i keeps dots", "a\n.\nb\n", true, "a\n.\nb\n"},
		{"dotted line kept", "a\n..\n.b\n", false, "a\n..\n.b\n"},
		{"From_ line dropped", "From alice Sat Nov 28\nSubject: x\n\nFrom here\n", false, "Subject: x\n\nFrom here\n"},
		{"long From_ line dropped", "From " + strings.Repeat("x", 100000) + "\nS: y\n", false, "S: y\n"},
		{"no trailing newline", "a\nb", false, "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(newInputReader(strings.NewReader(tt.in), tt.ignoreDots))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVerifyMessageIsPostfixs(t *testing.T) {
	got := verifyMessage(&maildrop.Submission{Sender: "s@o.example", Recipients: []string{"a@d.example", "b@d.example"}})
	want := "From: s@o.example\nSubject: probe\nTo:\ta@d.example,\n\tb@d.example\n\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
