// Command smtpd is Postern's SMTP server: it takes mail from the network and hands it to cleanup.
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Smtpd() }
