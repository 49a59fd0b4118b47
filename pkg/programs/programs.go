// Package programs holds the main function of each resident daemon, so
// that one executable can be every daemon: each daemon's own command
// (smtpd/main.go, ...) calls its function here, and the multi-call
// binary (postern/main.go), installed under every daemon's name, calls
// the one its name asks for. Processes started from one file share its
// text pages: a system of seven daemons maps the Go runtime and the
// shared packages once instead of seven times.
package programs

import (
	"sort"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/queue"
)

// daemons maps each daemon's program name to its main function.
var daemons = map[string]func(){
	"master":   Master,
	"smtpd":    Smtpd,
	"cleanup":  Cleanup,
	"qmgr":     Qmgr,
	"pickup":   Pickup,
	"showq":    Showq,
	"smtp":     Smtp,
	"lmtp":     Lmtp,
	"local":    Local,
	"virtual":  Virtual,
	"pipe":     Pipe,
	"spawn":    Spawn,
	"anvil":    Anvil,
	"verify":   Verify,
	"postlogd": Postlogd,
}

// Lookup returns the main function of the daemon called name.
func Lookup(name string) (main func(), ok bool) {
	main, ok = daemons[name]
	return main, ok
}

// Names returns the daemons' program names, sorted.
func Names() []string {
	names := make([]string, 0, len(daemons))
	for name := range daemons {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// queueLayout is the configuration's queue layout rooted at the working
// directory, which is queue_directory, inside the chroot or not
// ("unix:private/..." nexthops are relative to it too).
func queueLayout(cfg *config.Config) (*queue.Layout, error) {
	layout, err := queue.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	layout.Root = "."
	return layout, nil
}
