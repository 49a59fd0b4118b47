// Command cleanup canonicalises submitted messages and writes them to the incoming queue (see pkg/cleanup).
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Cleanup() }
