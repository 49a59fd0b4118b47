// Command verify is Postern's verify(8): the address verification service that smtpd's reject_unverified_* restrictions ask (see pkg/verify).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Verify() }
