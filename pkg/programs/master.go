// Wiring of the master daemon (its command is master/main.go, or the multi-call binary).

package programs

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/gcpace"
	"github.com/postern/postern/pkg/privs"
	"github.com/postern/postern/pkg/profile"
	"github.com/postern/postern/pkg/supervisor"
)

// Master is the master daemon's main function.
func Master() {
	gcpace.Start()
	// Nothing master's own parent left open reaches a daemon or, through
	// one, a user's command.
	if err := privs.CloseOnExecFrom(3); err != nil {
		fmt.Fprintf(os.Stderr, "master: fatal: %v\n", err)
		os.Exit(1)
	}
	opts, err := supervisor.ParseMasterArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "master: fatal: %v\n", err)
		os.Exit(1)
	}
	configDir := config.ConfigDir(opts.ConfigDir)
	if opts.Test {
		os.Exit(masterTestRunning(configDir))
	}
	if opts.Wait {
		self, err := os.Executable()
		if err == nil {
			err = supervisor.StartBackground(self, opts.BackgroundArgs(), os.Stderr)
		}
		if errors.Is(err, supervisor.ErrMasterDied) {
			os.Exit(1) // the background master printed and logged why
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "master: fatal: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}

	notifier := supervisor.BackgroundNotifier()
	var echo io.Writer
	switch {
	case opts.Debug:
		echo = os.Stderr
	case notifier != nil:
		// `postfix start` shows why start-up failed, as a fatal line.
		echo = supervisor.FatalLinesOnly(os.Stderr)
	}
	log, err := supervisor.OpenLog(configDir, "master", echo)
	if log == nil {
		fmt.Fprintf(os.Stderr, "master: fatal: %v\n", err)
		os.Exit(1)
	}
	if err != nil {
		log.Fatal("%v", err)
	}
	if notifier == nil && !opts.Debug && !opts.Foreground {
		if err := supervisor.DetachStdio(); err != nil {
			log.Fatal("%v", err)
		}
		unix.Setsid() // fails harmlessly when already a group leader
	}
	sup, err := supervisor.New(configDir, log)
	if err != nil {
		log.Fatal("%v", err)
	}
	if notifier != nil {
		if err := notifier.NotifyStarted(); err != nil {
			log.Warning("report start-up: %v", err)
		}
	}
	stopProfile := profile.Start("master", log.Warning)
	sup.Run()
	stopProfile()
}

// masterTestRunning is `master -t`: exit 0 when no master holds the pid file
// lock, 1 when one does.
func masterTestRunning(configDir string) int {
	cfg, err := config.Load(configDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "master: fatal: %v\n", err)
		return 1
	}
	settings, err := supervisor.FromConfig(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "master: fatal: %v\n", err)
		return 1
	}
	if _, running, _ := supervisor.RunningPID(settings.QueueDir); running {
		return 1
	}
	return 0
}
