// Command anvil is Postern's anvil(8): per-client connection counts and event rates shared by every smtpd process of a service.
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Anvil() }
