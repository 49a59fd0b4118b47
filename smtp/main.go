// Command smtp is the SMTP client delivery agent: it serves qmgr's delivery requests (see pkg/smtpclient).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Smtp() }
