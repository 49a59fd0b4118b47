// Command postmap builds, queries and edits Postfix lookup tables.
package main

import (
	"os"

	"github.com/postern/postern/pkg/maps/tablecmd"
)

func main() {
	env := tablecmd.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(tablecmd.Run(tablecmd.Postmap, "postmap", os.Args[1:], env))
}
