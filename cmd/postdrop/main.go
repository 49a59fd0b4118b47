// Command postdrop writes a local submission into maildrop/ for users who
// cannot write there themselves: installed set-group-id postdrop (maildrop
// is mode 0730 owner mail_owner, group postdrop), it is what sendmail runs
// in that case. Usage: postdrop [-c dir] -f sender [-F fullname] [-t] [-V|-R]
// -- recipients..., with the message (already ended and unstuffed) on
// standard input; -V marks a sendmail -bv request, -R a sendmail -v one.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/postern/postern/pkg/maildrop"
	"github.com/postern/postern/pkg/queue/cli"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stderr))
}

func run(args []string, stdin io.Reader, stderr io.Writer) int {
	env := cli.Env{Stdin: stdin, Stdout: os.Stdout, Stderr: stderr}
	configDir, sub, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "postdrop: fatal: %v\n", err)
		return cli.ExitUsage
	}
	if err := cli.CleanEnvironment(); err != nil {
		return cli.Fatalf("postdrop", env, "%v", err)
	}
	if err := cli.CheckConfigDir(configDir); err != nil {
		return cli.Fatalf("postdrop", env, "%v", err)
	}
	tool, err := maildrop.StartCommand("postdrop", "postdrop", configDir, stderr)
	if err != nil {
		return cli.Fatalf("postdrop", env, "%v", err)
	}
	defer tool.Close()
	origin, err := tool.Config.Get("myorigin")
	if err != nil {
		return tool.Fatal(cli.ExitFatal, "%v", err)
	}
	sub.Origin = origin
	// Like Postfix's file size limit: a runaway submission stops at
	// message_size_limit (0 means none) instead of filling the disk.
	var p struct {
		Limit int64 `param:"message_size_limit"`
	}
	if err := tool.Config.Fill(&p); err != nil {
		return tool.Fatal(cli.ExitFatal, "%v", err)
	}
	if p.Limit > 0 {
		stdin = &sizeLimited{r: stdin, limit: p.Limit}
	}
	if _, err := maildrop.Write(tool.Layout, sub, stdin); err != nil {
		if errors.Is(err, errTooBig) {
			return tool.Fatal(cli.ExitFatal, "uid=%d: %v", os.Getuid(), err)
		}
		if errors.Is(err, maildrop.ErrNoRecipients) {
			return maildrop.ExitNoRecipients
		}
		return tool.Fatal(cli.ExitFatal, "%v", err)
	}
	// Pickup not running is fine: the file waits for its next scan.
	maildrop.WakePickup(tool.Config)
	return cli.ExitOK
}

// parseArgs reads postdrop's options.
func parseArgs(args []string) (string, *maildrop.Submission, error) {
	sub := &maildrop.Submission{}
	configDir := ""
	i := 0
	next := func(opt string) (string, error) {
		if i+1 >= len(args) {
			return "", fmt.Errorf("option requires an argument -- '%s'", opt)
		}
		i++
		return args[i], nil
	}
	for ; i < len(args); i++ {
		var err error
		switch args[i] {
		case "--":
			sub.Recipients = args[i+1:]
			return configDir, sub, nil
		case "-c":
			configDir, err = next("c")
		case "-f":
			sub.Sender, err = next("f")
		case "-F":
			sub.FullName, err = next("F")
		case "-t":
			sub.ExtractRecipients = true
		case "-V":
			sub.UserVerify = true
		case "-R":
			sub.Record = true
		default:
			sub.Recipients = args[i:]
			return configDir, sub, nil
		}
		if err != nil {
			return "", nil, err
		}
	}
	return configDir, sub, nil
}

// sizeLimited fails a read once more than limit bytes came through.
type sizeLimited struct {
	r     io.Reader
	limit int64
	n     int64
}

// errTooBig is returned past message_size_limit.
var errTooBig = errors.New("message file too big")

func (s *sizeLimited) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.n > s.limit {
		return n, errTooBig
	}
	return n, err
}
