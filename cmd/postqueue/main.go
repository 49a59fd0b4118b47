// Command postqueue lists (-p, -j) and flushes (-f, -i, -s) the Postern mail queue; as mailq it lists.
package main

import (
	"os"
	"path/filepath"

	"github.com/postern/postern/pkg/queue/cli"
)

func main() {
	env := cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	os.Exit(run(filepath.Base(os.Args[0]), os.Args[1:], env))
}
