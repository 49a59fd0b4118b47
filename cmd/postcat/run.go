// postcat's command line: options, finding queue files, and the exit status.

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/postern/postern/pkg/getopt"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
)

const usage = "usage: postcat [-b (body text)] [-c config_dir] [-d (decimal record type)] [-e (envelope records)] [-h (header text)] [-o (offsets)] [-q (access queue)] [-v] [file(s)...]"

// What to print, from -b -d -e -h -o.
type flags struct {
	body, envelope, header bool
	offsets, decimalType   bool
}

// searchOrder is where postcat -q looks for a queue ID.
var searchOrder = []string{queue.Maildrop, queue.Incoming, queue.Active, queue.Deferred, queue.Hold, queue.Saved}

func run(args []string, env cli.Env) int {
	opts, operands, err := getopt.Parse(args, "bc:dehoqv")
	if err != nil {
		fmt.Fprintf(env.Stderr, "postcat: %v\n", err)
		return cli.Fatalf("postcat", env, "%s", usage)
	}
	var f flags
	var configDir string
	searchQueue := false
	for _, o := range opts {
		switch o.Letter {
		case 'b':
			f.body = true
		case 'c':
			configDir = o.Arg
		case 'd':
			f.decimalType = true
		case 'e':
			f.envelope = true
		case 'h':
			f.header = true
		case 'o':
			f.offsets = true
		case 'q':
			searchQueue = true
		}
	}
	if !f.body && !f.envelope && !f.header {
		f.body, f.envelope, f.header = true, true, true
	}
	tool, err := cli.Start("postcat", configDir, env)
	if err != nil {
		return cli.Fatalf("postcat", env, "%v", err)
	}
	defer tool.Close()
	out := bufio.NewWriter(env.Stdout)
	defer out.Flush()

	if len(operands) == 0 {
		return show(tool, out, env.Stdin, "stdin", f)
	}
	for _, name := range operands {
		var file *os.File
		var shown string
		if searchQueue {
			if !queue.ValidID(name) {
				out.Flush()
				return tool.Fatal(cli.ExitFatal, "bad mail queue ID: %s", name)
			}
			file, shown = openQueueFile(tool.Layout, name)
			if file == nil {
				out.Flush()
				return tool.Fatal(cli.ExitFatal, "open queue file %s: %s", name, cli.Strerror(syscall.ENOENT))
			}
		} else {
			file, err = os.Open(name)
			if err != nil {
				out.Flush()
				return tool.Fatal(cli.ExitFatal, "open %s: %s", name, cli.Strerror(err))
			}
			shown = name
		}
		status := show(tool, out, file, shown, f)
		file.Close()
		if status != cli.ExitOK {
			return status
		}
	}
	return cli.ExitOK
}

// openQueueFile looks for id in the queues, twice in case it was moving
// between queues, and returns the open file and its queue-relative path.
func openQueueFile(l *queue.Layout, id string) (*os.File, string) {
	for try := 0; try < 2; try++ {
		for _, q := range searchOrder {
			if f, err := os.Open(l.Path(q, id)); err == nil {
				return f, l.RelPath(q, id)
			}
		}
	}
	return nil, ""
}

// show prints one file and returns the exit status.
func show(tool *cli.Tool, out *bufio.Writer, r io.Reader, path string, f flags) int {
	err := printQueueFile(out, r, path, f, tool.Warn)
	if err != nil {
		out.Flush()
		if errors.Is(err, queue.ErrCorrupt) {
			return tool.Fatal(cli.ExitFatal, "record read error")
		}
		return tool.Fatal(cli.ExitFatal, "%v", err)
	}
	if err := out.Flush(); err != nil {
		return tool.Fatal(cli.ExitFatal, "write error: %v", err)
	}
	return cli.ExitOK
}
