// Command spawn is spawn(8): it runs the command of the service's argv= on each connection (see pkg/spawn).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Spawn() }
