// Command postalias builds, queries and edits alias databases; run as
// newaliases it rebuilds every table in alias_database.
package main

import (
	"os"
	"path/filepath"

	"github.com/postern/postern/pkg/maps/tablecmd"
)

func main() {
	prog := filepath.Base(os.Args[0])
	if prog != "newaliases" {
		prog = "postalias"
	}
	env := tablecmd.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(tablecmd.Run(tablecmd.Postalias, prog, os.Args[1:], env))
}
