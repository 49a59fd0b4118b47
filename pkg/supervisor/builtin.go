// Which Postfix daemons Postern does not run as separate programs, and why.

package supervisor

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/postern/postern/pkg/mastercf"
)

// builtInCommands maps a Postfix daemon whose job Postern does inside
// another program to the Postern program(s) that do it. Services running
// these commands are never started, even if a binary of that name exists.
var builtInCommands = map[string]string{
	"trivial-rewrite": "cleanup and qmgr",
	"bounce":          "qmgr",
	"flush":           "qmgr",
	"proxymap":        "every program that reads tables",
	"tlsmgr":          "smtpd and smtp",
	"scache":          "smtp",
	"error":           "qmgr",
	"discard":         "qmgr",
}

// optionalCommands are Postfix daemons that Postern does not provide.
// A service running one is started only when daemon_directory holds a
// program of that name; otherwise it is reported once and left alone.
// The daemons Postern provides (pipe, lmtp, spawn, verify, ...) are
// started like any other: a missing binary gets Postfix's start-up
// failure ("master_spawn: exec PATH: No such file or directory", then
// "PATH: bad command startup -- throttling").
var optionalCommands = map[string]bool{
	"postscreen": true,
	"dnsblog":    true,
	"tlsproxy":   true,
	"qmqpd":      true,
	"oqmgr":      true,
}

// skipReason says why master does not start e's command, as the line it
// logs once ("service rewrite: trivial-rewrite is built into cleanup and
// qmgr; not started"), or "" when the service is to be run.
func skipReason(e *mastercf.Entry, daemonDir string) string {
	command := filepath.Base(e.Command)
	if where, ok := builtInCommands[command]; ok {
		return fmt.Sprintf("service %s: %s is built into %s; not started", e.Service, command, where)
	}
	if optionalCommands[command] {
		path := filepath.Join(daemonDir, command)
		if _, err := os.Stat(path); err != nil {
			return fmt.Sprintf("service %s: %s is not provided by Postern (no %s); not started", e.Service, command, path)
		}
	}
	return ""
}
