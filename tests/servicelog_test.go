// End-to-end test of the log tags of the programs qmgr stands in for
// (bounce, error, retry, discard) when their master.cf entries carry
// -o syslog_name.

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestServiceSyslogName: with -o syslog_name=postfix/$service_name on
// the error, retry and discard entries and -o syslog_name=postfix/notices
// on bounce, the lines qmgr writes for them carry those names, as the
// lines of Postfix's own error(8), discard(8) and bounce(8) processes
// would: postfix/error/error, postfix/retry/error,
// postfix/discard/discard, postfix/notices/bounce.
func TestServiceSyslogName(t *testing.T) {
	port := sinkPort(t)
	origin := startSink(t, "127.0.0.24:"+port, "origin.sink", sinkOptions{})
	in := newDelivery(t, "myhostname = out.test.example\nmydestination =\n")
	masterCF, err := os.ReadFile(filepath.Join(in.etc, "master.cf"))
	if err != nil {
		t.Fatal(err)
	}
	in.writeMasterCF(string(masterCF) + `bounce unix - - n - 0 bounce -o syslog_name=postfix/notices
error unix - - n - - error -o syslog_name=postfix/$service_name
retry unix - - n - - error -o syslog_name=postfix/$service_name
discard unix - - n - - discard -o syslog_name=postfix/$service_name
`)
	in.appendMainCF("transport_maps = " + in.writeMap("transport", fmt.Sprintf(`bad.example error:5.1.2 no such domain
later.example retry:4.4.0 try later
void.example discard:dropped
origin.example smtp:[127.0.0.24]:%s
`, port)) + "\n")
	in.run()
	in.send("sender@origin.example", []string{"a@bad.example", "b@later.example", "c@void.example"}, "Subject: tags\r\n\r\nbody\r\n")
	origin.waitMessages(t, in, 1, 60*time.Second)
	log := in.waitLog("sender non-delivery notification: ", 30*time.Second)
	for text, want := range map[string]string{
		"to=<a@bad.example>, relay=none":      "postfix/error/error",
		"to=<b@later.example>, relay=none":    "postfix/retry/error",
		"to=<c@void.example>, relay=none":     "postfix/discard/discard",
		"sender non-delivery notification: ":  "postfix/notices/bounce",
		"from=<sender@origin.example>, size=": "postfix/qmgr",
	} {
		if got, _ := loggedBy(t, log, text); got != want {
			t.Errorf("%q logged by %s, want %s", text, got, want)
		}
	}
}
