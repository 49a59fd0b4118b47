// Command postcat prints Postern queue files in the form Postfix's postcat(1) uses.
package main

import (
	"os"

	"github.com/postern/postern/pkg/queue/cli"
)

func main() {
	env := cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(run(os.Args[1:], env))
}
