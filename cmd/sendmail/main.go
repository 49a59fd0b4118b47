// Command sendmail is the Sendmail-compatible submission interface: it
// queues a message read from standard input into maildrop/ for pickup
// (-t, -f, -F, -i), and as -bp/mailq, -bi/newaliases and -q runs
// postqueue or postalias.
package main

import (
	"os"
	"path/filepath"
)

func main() {
	os.Exit(run(filepath.Base(os.Args[0]), os.Args[1:], os.Stdin, os.Stderr))
}
