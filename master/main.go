// Command master is Postern's resident supervisor, Postfix's master(8):
// it runs the services of master.cf (see pkg/supervisor).
//
// Usage: master [-Ddistvw] [-c config_dir]
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Master() }
