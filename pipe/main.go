// Command pipe is the pipe(8) delivery agent: it hands messages to the command in the service's argv= (see pkg/pipe).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Pipe() }
