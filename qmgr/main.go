// Command qmgr is the queue manager: it schedules the delivery of queued mail (see pkg/qmgr).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Qmgr() }
