// Command postsuper deletes, holds, releases, requeues and expires queued mail, and repairs the queue structure.
package main

import (
	"os"

	"github.com/postern/postern/pkg/queue/cli"
)

func main() {
	env := cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(run(os.Args[1:], env))
}
