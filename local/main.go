// Command local is the local(8) delivery agent: it serves qmgr's delivery requests for the local domains (see pkg/local).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Local() }
