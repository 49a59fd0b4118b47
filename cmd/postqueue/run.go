// postqueue's command line: the modes, their options, and exit statuses.

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/postern/postern/pkg/getopt"
	"github.com/postern/postern/pkg/queue/cli"
)

const usage = "usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site"

type mode int

const (
	modeNone mode = iota
	modeList
	modeJSON
	modeFlush
	modeFlushID
	modeFlushSite
)

func run(name string, args []string, env cli.Env) int {
	if name == "mailq" {
		return runMailq(args, env)
	}
	opts, operands, err := getopt.Parse(args, "c:fi:jps:v")
	if err != nil {
		fmt.Fprintf(env.Stderr, "postqueue: %v\n", err)
		return usageError(env)
	}
	var configDir, target string
	m := modeNone
	set := func(next mode, arg string) bool {
		if m != modeNone {
			return false
		}
		m, target = next, arg
		return true
	}
	for _, o := range opts {
		ok := true
		switch o.Letter {
		case 'c':
			configDir = o.Arg
		case 'f':
			ok = set(modeFlush, "")
		case 'i':
			ok = set(modeFlushID, o.Arg)
		case 'j':
			ok = set(modeJSON, "")
		case 'p':
			ok = set(modeList, "")
		case 's':
			ok = set(modeFlushSite, o.Arg)
		}
		if !ok {
			return usageError(env)
		}
	}
	if m == modeNone || len(operands) > 0 {
		return usageError(env)
	}
	return runMode("postqueue", configDir, m, target, env)
}

// runMailq lists the queue, as "sendmail -bp" does when called as mailq;
// -C and -c name the configuration directory.
func runMailq(args []string, env cli.Env) int {
	opts, _, err := getopt.Parse(args, "C:c:v")
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailq: %v\n", err)
		return cli.Fatalf("mailq", env, "usage: mailq [-C config_dir]")
	}
	configDir := ""
	for _, o := range opts {
		if o.Letter == 'C' || o.Letter == 'c' {
			configDir = o.Arg
		}
	}
	return runMode("mailq", configDir, modeList, "", env)
}

func usageError(env cli.Env) int {
	fmt.Fprintf(env.Stderr, "postqueue: fatal: %s\n", usage)
	return cli.ExitUnavailable
}

func runMode(name, configDir string, m mode, target string, env cli.Env) int {
	if err := cli.CleanEnvironment(); err != nil {
		return cli.Fatalf(name, env, "%v", err)
	}
	if err := cli.CheckConfigDir(configDir); err != nil {
		cli.Fatalf(name, env, "%v", err)
		return cli.ExitUnavailable
	}
	tool, err := cli.Start(name, configDir, env)
	if err != nil {
		cli.Fatalf(name, env, "%v", err)
		return cli.ExitUnavailable
	}
	defer tool.Close()
	if _, err := os.Stat(tool.Layout.Root); err != nil {
		return tool.Fatal(cli.ExitUnavailable, "chdir %s: %s", tool.Layout.Root, cli.Strerror(err))
	}
	switch m {
	case modeList, modeJSON:
		out := bufio.NewWriter(env.Stdout)
		err := list(tool, out, m == modeJSON)
		if flushErr := out.Flush(); err == nil && flushErr != nil && !errors.Is(flushErr, syscall.EPIPE) {
			err = fmt.Errorf("output write error: %w", flushErr)
		}
		var exit *exitError
		if errors.As(err, &exit) {
			return tool.Fatal(exit.status, "%v", exit.err)
		}
		if err != nil {
			return tool.Fatal(cli.ExitUnavailable, "%v", err)
		}
		return cli.ExitOK
	case modeFlush:
		return flushAll(tool)
	case modeFlushID:
		return flushID(tool, target)
	default:
		return flushSite(tool, target)
	}
}
