// Command showq lists the mail queue for postqueue -p and -j (see pkg/showq): it reads the queue as mail_owner so that users need no access to it.
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Showq() }
