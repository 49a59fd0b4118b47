// Command postern is every resident daemon in one executable: installed
// (hard-linked) under each daemon's name in daemon_directory, it runs the
// daemon its name says (see pkg/programs), so that all the daemons of a
// running system share one copy of the program text in memory.
//
// Usage: NAME ARGS..., where NAME is the program's base name as executed
// (master, smtpd, cleanup, qmgr, ...).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/postern/postern/pkg/programs"
)

func main() {
	name := filepath.Base(os.Args[0])
	run, ok := programs.Lookup(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "postern: fatal: run as one of the daemons' names (%s), not as %q\n",
			strings.Join(programs.Names(), ", "), name)
		os.Exit(1)
	}
	run()
}
