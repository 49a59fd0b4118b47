// Command lmtp is the LMTP client delivery agent: Postfix's smtp(8) in LMTP mode, for Dovecot and other mailbox servers (see pkg/smtpclient).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Lmtp() }
