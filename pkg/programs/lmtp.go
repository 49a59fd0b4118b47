// Wiring of the lmtp daemon (its command is lmtp/main.go, or the multi-call binary).

package programs

import "github.com/postern/postern/pkg/smtpclient"

// Lmtp is the lmtp daemon's main function: the smtp agent in LMTP mode.
func Lmtp() { runClientAgent(smtpclient.LMTPFromConfig) }
