// Tests of the DSN parameters sent with MAIL FROM and RCPT TO.

package smtpclient

import (
	"testing"

	"github.com/postern/postern/pkg/ipc"
)

func TestDSNParams(t *testing.T) {
	mailTests := []struct {
		msg  Message
		want string
	}{
		{Message{}, ""},
		{Message{DSNRet: ipc.DSNRetFull}, " RET=FULL"},
		{Message{DSNRet: ipc.DSNRetHeaders, DSNEnvID: "id+1 x"}, " RET=HDRS ENVID=id+2B1+20x"},
	}
	for _, tt := range mailTests {
		if got := mailDSNParams(&tt.msg); got != tt.want {
			t.Errorf("mailDSNParams(%+v) = %q, want %q", tt.msg, got, tt.want)
		}
	}
	rcptTests := []struct {
		rcpt ipc.Recipient
		want string
	}{
		{ipc.Recipient{}, ""},
		{ipc.Recipient{Notify: ipc.DSNNotifyNever | ipc.DSNNotifyFailure}, " NOTIFY=NEVER"},
		{ipc.Recipient{Notify: ipc.DSNNotifyDelay | ipc.DSNNotifySuccess}, " NOTIFY=SUCCESS,DELAY"},
		{ipc.Recipient{ORCPT: "rfc822;a+b=c@x.test"}, " ORCPT=rfc822;a+2Bb+3Dc@x.test"},
		{ipc.Recipient{ORCPT: "garbage"}, ""},
	}
	for _, tt := range rcptTests {
		if got := rcptDSNParams(tt.rcpt); got != tt.want {
			t.Errorf("rcptDSNParams(%+v) = %q, want %q", tt.rcpt, got, tt.want)
		}
	}
}
