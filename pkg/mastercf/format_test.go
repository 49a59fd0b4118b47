// Tests for printing entries as postconf -M, -F and -P do.

package mastercf

import "testing"

func TestFormat(t *testing.T) {
	tests := []struct {
		line        string
		plain, fold string
	}{
		{
			"postlog unix-dgram n - n - 1 postlogd",
			"postlog    unix-dgram n  -       n       -       1       postlogd\n",
			"postlog    unix-dgram n  -       n       -       1       postlogd\n",
		},
		{
			"relay unix - - y - - smtp -o syslog_name=postfix/$service_name -vo{ a = b c } x {y z}",
			"relay      unix  -       -       y       -       -       smtp -o syslog_name=postfix/$service_name -v -o {a=b c} x {y z}\n",
			"relay      unix  -       -       y       -       -       smtp\n    -o syslog_name=postfix/$service_name\n    -v\n    -o {a=b c}\n    x {y z}\n",
		},
		{
			"uucp unix - n n - - pipe flags=Fqhu user=uucp argv=uux -r -n -z -a$sender - $nexthop!rmail ($recipient)",
			"uucp       unix  -       n       n       -       -       pipe flags=Fqhu user=uucp argv=uux -r -n -z -a$sender - $nexthop!rmail ($recipient)\n",
			"uucp       unix  -       n       n       -       -       pipe flags=Fqhu\n    user=uucp argv=uux -r -n -z -a$sender - $nexthop!rmail ($recipient)\n",
		},
	}
	for _, tt := range tests {
		e := mustParse(t, tt.line+"\n").Entries[0]
		if got := e.Format(false); got != tt.plain {
			t.Errorf("Format(false):\n%q\nwant\n%q", got, tt.plain)
		}
		if got := e.Format(true); got != tt.fold {
			t.Errorf("Format(true):\n%q\nwant\n%q", got, tt.fold)
		}
	}
}

func TestFormatFieldAndParameters(t *testing.T) {
	e := mustParse(t, "relay unix - - y 60? - smtp -o z=1 -o { a = b  c } -o z=2\n").Entries[0]
	fields := map[string]string{
		"service":       "relay/unix/service = relay\n",
		"wakeup":        "relay/unix/wakeup = 60?\n",
		"process_limit": "relay/unix/process_limit = -\n",
		"command":       "relay/unix/command = smtp -o z=1 -o {a=b  c} -o z=2\n",
	}
	for name, want := range fields {
		if got := e.FormatField(name, false); got != want {
			t.Errorf("FormatField(%s) = %q, want %q", name, got, want)
		}
	}
	if got, want := e.FormatField("command", true), "relay/unix/command = smtp\n    -o z=1\n    -o {a=b  c}\n    -o z=2\n"; got != want {
		t.Errorf("FormatField(command, fold) = %q, want %q", got, want)
	}
	if v, ok := e.Field("chroot"); !ok || v != "y" {
		t.Errorf("Field(chroot) = %q, %v", v, ok)
	}
	if _, ok := e.Field("syslog_name"); ok {
		t.Error("Field(syslog_name) accepted a parameter name")
	}
	params := e.Parameters()
	want := []Option{{"a", "b  c"}, {"z", "2"}}
	if !equalOptions(params, want) {
		t.Fatalf("Parameters = %q, want %q", params, want)
	}
	if got := e.FormatParameter(params[0], false); got != "relay/unix/a = b c\n" {
		t.Errorf("FormatParameter = %q", got)
	}
}

func TestFormatNameValueFolding(t *testing.T) {
	value := "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, reject"
	// As "postconf -nf" prints it.
	want := "smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,\n    reject_unauth_destination, reject\n"
	if got := FormatNameValue("smtpd_recipient_restrictions", value, true); got != want {
		t.Errorf("folded:\n%q\nwant\n%q", got, want)
	}
	if got := FormatNameValue("empty", "  ", true); got != "empty =\n" {
		t.Errorf("empty value = %q", got)
	}
}
