// Command virtual is the virtual(8) delivery agent: it serves qmgr's delivery requests for virtual mailbox domains (see pkg/virtual).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Virtual() }
