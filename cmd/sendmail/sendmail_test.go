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
		name     string // argv[0], sendmail when empty
		args     []string
		want     options
		wantErr  string
		wantDiag string // lines on stderr and warnings, "|"-separated
	}{
		{args: []string{"-t", "-i"}, want: options{extract: true, ignoreDots: true}},
		{args: []string{"-ti", "-oi"}, want: options{extract: true, ignoreDots: true}},
		{args: []string{"-oi", "-f", "a@b", "-F", "Al B", "x@y", "z"},
			want: options{ignoreDots: true, sender: "a@b", senderSet: true, fullName: "Al B", recipients: []string{"x@y", "z"}}},
		{args: []string{"-fa@b", "-r", "<>", "--", "-odd"}, want: options{sender: "<>", senderSet: true, recipients: []string{"-odd"}}},
		{args: []string{"-bp"}, want: options{mode: modeMailq}},
		{args: []string{"-bi"}, want: options{mode: modeAliases}},
		{args: []string{"-I", "-oA/etc/aliases"}, want: options{mode: modeAliases, aliasMap: "/etc/aliases"}},
		{name: "mailq", args: []string{"-bm"}, want: options{mode: modeSubmit}},
		{name: "newaliases", want: options{mode: modeAliases}},
		{args: []string{"-q"}, want: options{mode: modeFlush}},
		{args: []string{"-q30m"}, want: options{queueTime: true}},
		{args: []string{"-q30m", "x@y"}, want: options{queueTime: true, recipients: []string{"x@y"}}},
		{args: []string{"-qRsite.example"}, want: options{flushSite: "site.example"}},
		{args: []string{"-qIABC123"}, want: options{flushID: "ABC123"}},
		{args: []string{"-bs"}, want: options{mode: modeSMTP}},
		{args: []string{"-bd"}, want: options{mode: modeDaemon}},
		{args: []string{"-bh"}, want: options{mode: modeIgnore}},
		{args: []string{"-bv", "a@b"}, want: options{verify: true, recipients: []string{"a@b"}}},
		{args: []string{"-C", "/etc/x/main.cf", "-odb", "-v"}, want: options{configDir: "/etc/x/main.cf", verbose: 1}},
		{args: []string{"-B", "8BITMIME", "-XV", "-XV+=", "-G", "-U", "-Ndelay,success", "-R", "hdrs", "a@b"},
			want: options{dsnNotify: true, dsnRet: true, recipients: []string{"a@b"}}},
		// As in Postfix, "-V xx" becomes -XV, and xx the first recipient.
		{args: []string{"-V+=", "-V", "+=", "a@b"}, want: options{recipients: []string{"+=", "a@b"}},
			wantDiag: "warning: option -V+= is deprecated with Postfix 2.3; specify -XV+= instead|" +
				"warning: option -V is deprecated with Postfix 2.3; specify -XV instead"},
		{args: []string{"-N", "never,bogus", "-R", "x", "-V", "a\x01b", "a@b"}, want: options{recipients: []string{"a@b"}},
			wantDiag: `warning: unknown DSN NOTIFY command value "bogus" in "never,bogus"|warning: bad -N option value -- ignored|` +
				"warning: bad -R option value -- ignored|warning: bad syntax in -V option value -- ignored"},
		{args: []string{"-f"}, wantErr: "usage: sendmail [options]", wantDiag: "sendmail: option requires an argument -- 'f'"},
		{args: []string{"-k"}, wantErr: "usage: sendmail [options]", wantDiag: "sendmail: invalid option -- 'k'"},
		{name: "mailq", args: []string{"-d"}, wantErr: "usage: mailq [options]", wantDiag: "mailq: invalid option -- 'd'"},
		{args: []string{"-bz"}, wantErr: "unsupported: -bz"},
		{args: []string{"-n"}, wantErr: "-n option not supported"},
		{args: []string{"-B", "BINARYMIME"}, wantErr: "-B option needs 8BITMIME or 7BIT"},
		{args: []string{"-Xx"}, wantErr: "unsupported: -Xx"},
		{args: []string{"-XVab"}, wantErr: "-V requires two characters from -=+"},
		{args: []string{"-qX"}, wantErr: "-qX is not implemented"},
		{args: []string{"-qR"}, wantErr: "specify: -qRsitename"},
		{args: []string{"-qI"}, wantErr: "specify: -qIqueueid"},
		{args: []string{"-oA"}, wantErr: "-oA requires pathname"},
		{args: []string{"-t", "-bp"}, wantErr: "-t can be used only in delivery mode"},
		{args: []string{"-qRsite", "-bp"}, wantErr: "-qR can be used only in delivery mode"},
		{args: []string{"-qIid", "-bs"}, wantErr: "-qI can be used only in delivery mode"},
		{args: []string{"-bv", "-t"}, wantErr: "-t option cannot be used with -bv"},
		{args: []string{"-bv", "-Nsuccess"}, wantErr: "-N option cannot be used with -bv"},
		{args: []string{"-bv", "-Rfull"}, wantErr: "-R option cannot be used with -bv"},
		{args: []string{"-bv", "-v"}, wantErr: "-v option cannot be used with -bv"},
		{args: []string{"-qRsite", "a@b"}, wantErr: "flush site requires no recipient"},
		{args: []string{"-qIid", "a@b"}, wantErr: "flush queue_id requires no recipient"},
		{args: []string{"-bp", "a@b"}, wantErr: "display queue mode requires no recipient"},
		{args: []string{"-q", "a@b"}, wantErr: "flush queue mode requires no recipient"},
		{args: []string{"-bd", "a@b"}, wantErr: "daemon mode requires no recipient"},
		{args: []string{"-bi", "a@b"}, wantErr: "alias initialization mode requires no recipient"},
		{args: []string{"-bs", "a@b"}, wantErr: "stand-alone mode requires no recipient"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			name := tt.name
			if name == "" {
				name = "sendmail"
			}
			var diag []string
			add := func(line string) { diag = append(diag, line) }
			warn := func(text string) { diag = append(diag, "warning: "+text) }
			got, err := parseArgs(name, tt.args, add, warn, "-=+")
			if d := strings.Join(diag, "|"); d != tt.wantDiag {
				t.Errorf("diagnostics %q, want %q", d, tt.wantDiag)
			}
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

func TestConfigDirOption(t *testing.T) {
	var diag []string
	dir := configDirOption("sendmail", []string{"-q", "-k", "-C", "/etc/a", "-cfoo", "-f", "x", "r@x", "-C", "/no"},
		func(line string) { diag = append(diag, line) })
	if dir != "foo" || strings.Join(diag, "|") != "sendmail: invalid option -- 'k'" {
		t.Errorf("configDirOption = %q with %q", dir, diag)
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
