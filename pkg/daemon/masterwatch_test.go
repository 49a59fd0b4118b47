// Tests that a daemon stops when master's status pipe (fd 5) reads end of file.

package daemon

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestMasterDisconnect(t *testing.T) {
	tests := []struct {
		name    string
		setup   daemonSetup
		session bool // a client session is in progress when master goes
	}{
		{name: "stream server with a session", setup: daemonSetup{program: "echod"}, session: true},
		{name: "stream server verbose", setup: daemonSetup{program: "echod", args: []string{"-v"}}, session: true},
		{name: "trigger server", setup: daemonSetup{program: "triggerd", args: []string{"-p", "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := startDaemon(t, tt.setup)
			td.waitReady()
			var session *echoClient
			if tt.session {
				session = td.dial()
				session.mustEcho("before")
			}
			// Nothing happens while master is there.
			time.Sleep(200 * time.Millisecond)
			if !td.running() {
				t.Fatal("daemon exited while master's status pipe was open")
			}
			td.masterEnd.Close()
			if status := td.waitExit(patience); status != 0 {
				t.Errorf("exit status %d, want 0", status)
			}
			if session != nil {
				if _, err := session.readLine(patience); err != io.EOF {
					t.Errorf("session read after master's exit: %v, want EOF", err)
				}
			}
			verbose := len(tt.setup.args) > 0 && tt.setup.args[0] == "-v"
			if logged := strings.Contains(td.log(), "master disconnect -- exiting"); logged != verbose {
				t.Errorf("log has \"master disconnect -- exiting\": %v, want %v (only with -v):\n%s", logged, verbose, td.log())
			}
		})
	}
}
