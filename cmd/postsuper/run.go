// postsuper's command line: requests, queue names, and the summary lines.

package main

import (
	"bufio"
	"fmt"
	"slices"
	"strings"

	"github.com/postern/postern/pkg/getopt"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
)

const usage = "usage: postsuper [-c config_dir] [-d queue_id (delete)] [-e queue_id (expire)] [-f queue_id (expire and/or un-hold)] [-h queue_id (hold)] [-H queue_id (un-hold)] [-p (purge temporary files)] [-r queue_id (requeue)] [-s (structure fix)] [-v (verbose)] [queue...]"

// Requests are carried out in this order, which is also the order of
// the summary lines.
var actionOrder = []action{requeue, remove, expire, hold, release}

func run(args []string, env cli.Env) int {
	opts, operands, err := getopt.Parse(args, "c:d:e:f:h:H:pr:sSv")
	if err != nil {
		fmt.Fprintf(env.Stderr, "postsuper: %v\n", err)
		return cli.Fatalf("postsuper", env, "%s", usage)
	}
	var configDir string
	requests := map[action][]string{}
	structure, purge := false, false
	for _, o := range opts {
		switch o.Letter {
		case 'c':
			configDir = o.Arg
		case 'd':
			requests[remove] = append(requests[remove], o.Arg)
		case 'e':
			requests[expire] = append(requests[expire], o.Arg)
		case 'f':
			requests[expire] = append(requests[expire], o.Arg)
			requests[release] = append(requests[release], o.Arg)
		case 'h':
			requests[hold] = append(requests[hold], o.Arg)
		case 'H':
			requests[release] = append(requests[release], o.Arg)
		case 'r':
			requests[requeue] = append(requests[requeue], o.Arg)
		case 'p':
			purge = true
		case 's', 'S':
			structure = true
		}
	}
	if len(requests) == 0 && !purge {
		structure = true
	}
	for _, name := range operands {
		if !slices.Contains(queue.MessageQueues, name) {
			return cli.Fatalf("postsuper", env, "invalid directory name: %s", name)
		}
	}
	tool, err := cli.Start("postsuper", configDir, env)
	if err != nil {
		return cli.Fatalf("postsuper", env, "%v", err)
	}
	defer tool.Close()
	s := &super{tool: tool, scope: operands}
	if purge {
		if status := s.purge(); status != cli.ExitOK {
			return status
		}
	}
	if structure {
		if status := s.repair(); status != cli.ExitOK {
			return status
		}
	}
	var stdinIDs []string
	for _, a := range actionOrder {
		ids, wanted := requests[a]
		if !wanted {
			continue
		}
		if slices.Contains(ids, "-") && stdinIDs == nil {
			stdinIDs = readIDs(env)
		}
		count, err := s.perform(a, expandStdin(ids, stdinIDs))
		if err != nil {
			return tool.Fatal(cli.ExitFatal, "%v", err)
		}
		tool.Log.Info("%s: %d message%s", actions[a].summary, count, plural(count))
	}
	return cli.ExitOK
}

// readIDs reads queue IDs from standard input, one per line.
func readIDs(env cli.Env) []string {
	var ids []string
	sc := bufio.NewScanner(env.Stdin)
	for sc.Scan() {
		ids = append(ids, strings.TrimSpace(sc.Text()))
	}
	return ids
}

func expandStdin(ids, stdinIDs []string) []string {
	var out []string
	for _, id := range ids {
		if id == "-" {
			out = append(out, stdinIDs...)
		} else {
			out = append(out, id)
		}
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// purge removes the files in incoming/ and maildrop/ whose writer died
// before committing them (see queue.Layout.PurgeAbandoned).
func (s *super) purge() int {
	for _, q := range []string{queue.Incoming, queue.Maildrop} {
		removed, err := s.tool.Layout.PurgeAbandoned(q)
		if err != nil {
			return s.tool.Fatal(cli.ExitFatal, "%v", err)
		}
		for _, id := range removed {
			s.tool.Log.Info("%s: removed incomplete queue file from %s", id, q)
		}
	}
	return cli.ExitOK
}

func (s *super) repair() int {
	report, err := s.tool.Layout.RepairStructure(s.tool.Warn)
	if err != nil {
		return s.tool.Fatal(cli.ExitFatal, "%v", err)
	}
	if report.Renamed > 0 {
		s.tool.Log.Info("Renamed to match inode number: %d message%s", report.Renamed, plural(report.Renamed))
		s.tool.Log.Warning("QUEUE FILE NAMES WERE CHANGED TO MATCH INODE NUMBERS")
	}
	return cli.ExitOK
}
