package spawn

import (
	"os/user"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestParseAttrs: user= and argv= as spawn(8) reads them, with Postfix's
// fatal messages for what it refuses.
func TestParseAttrs(t *testing.T) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	s, err := ParseAttrs([]string{"user=nobody", "argv=/usr/bin/policyd-spf", "-v", "user=x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.UID != uid || !reflect.DeepEqual(s.Argv, []string{"/usr/bin/policyd-spf", "-v", "user=x"}) {
		t.Errorf("parsed %+v", s)
	}
	if s, err := ParseAttrs([]string{"USER=nobody:root", "argv=/bin/cat"}, nil); err == nil {
		t.Errorf("group root accepted: %+v", s)
	} else if err.Error() != "request to use privileged group id 0" {
		t.Errorf("group root: %v", err)
	}
	for words, want := range map[string]string{
		"argv=/bin/cat":                   "missing user= attribute",
		"user=nobody":                     "missing argv= attribute",
		"user=root argv=/bin/cat":         "request to deliver as root",
		"user=nosuchuser4 argv=/bin/cat":  "unknown user name: nosuchuser4",
		"user=nobody:nosuchgroup4 argv=x": "unknown group name: nosuchgroup4",
		"flags=R user=nobody argv=x":      "unknown attribute name: flags=R",
		"user=nobody argv=x owner":        "",
	} {
		_, err := ParseAttrs(strings.Fields(words), &Owner{UID: -2, GID: -2})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%q: error %q, want %q", words, got, want)
		}
	}
	if _, err := ParseAttrs([]string{"user=nobody", "argv=x"}, &Owner{UID: uid}); err == nil || err.Error() != "request to deliver as mail system owner" {
		t.Errorf("mail owner: %v", err)
	}
}
