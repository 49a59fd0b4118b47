// Command pickup hands the local submissions in maildrop/ to cleanup (see pkg/pickup).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Pickup() }
