// RFC 3461 parameters passed on to servers that offer DSN.

package smtpclient

import (
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/ipc"
)

// mailDSNParams are the RET= and ENVID= parameters of MAIL FROM.
func mailDSNParams(msg *Message) string {
	var params string
	switch msg.DSNRet {
	case ipc.DSNRetFull:
		params += " RET=FULL"
	case ipc.DSNRetHeaders:
		params += " RET=HDRS"
	}
	if msg.DSNEnvID != "" {
		params += " ENVID=" + addr.EncodeXtext(msg.DSNEnvID)
	}
	return params
}

// rcptDSNParams are the NOTIFY= and ORCPT= parameters of RCPT TO.
func rcptDSNParams(rcpt ipc.Recipient) string {
	var params string
	if rcpt.Notify&ipc.DSNNotifyNever != 0 {
		params += " NOTIFY=NEVER"
	} else if rcpt.Notify != 0 {
		var words []string
		for _, k := range []struct {
			bit  ipc.DSNNotify
			word string
		}{{ipc.DSNNotifySuccess, "SUCCESS"}, {ipc.DSNNotifyFailure, "FAILURE"}, {ipc.DSNNotifyDelay, "DELAY"}} {
			if rcpt.Notify&k.bit != 0 {
				words = append(words, k.word)
			}
		}
		params += " NOTIFY=" + strings.Join(words, ",")
	}
	if typ, address, ok := strings.Cut(rcpt.ORCPT, ";"); ok && typ != "" && address != "" {
		params += " ORCPT=" + typ + ";" + addr.EncodeXtext(address)
	}
	return params
}
