// sendmail's work: argument handling, delegation to other commands, and submission.

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maildrop"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
	"github.com/postern/postern/pkg/sysexits"
)

// run is sendmail's main; it returns the exit status. As Postfix's
// sendmail, every fatal error exits with EX_TEMPFAIL; name (argv[0]'s base
// name) starts the lines on standard error.
func run(name string, args []string, stdin io.Reader, stderr io.Writer) int {
	diag := func(line string) { fmt.Fprintln(stderr, line) }
	configDir := configDirOption(name, args, diag)
	if configDir != "" {
		if st, err := os.Stat(configDir); err == nil && !st.IsDir() {
			configDir = filepath.Dir(configDir) // -C names main.cf
		}
	}
	tool, err := maildrop.StartCommand("sendmail", name, configDir, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: fatal: %v\n", name, err)
		return sysexits.TempFail
	}
	defer tool.Close()
	verpFilter, err := tool.Config.Get("verp_delimiter_filter")
	if err != nil {
		return tool.Fatal(sysexits.TempFail, "%v", err)
	}
	opts, err := parseArgs(name, args, diag, func(text string) { tool.Log.Warning("%s", text) }, verpFilter)
	if err != nil {
		return tool.Fatal(sysexits.TempFail, "%v", err)
	}
	if opts.queueTime && opts.mode != modeDaemon {
		return cli.ExitOK
	}
	switch opts.mode {
	case modeIgnore:
		return cli.ExitOK
	case modeMailq:
		return delegate(tool, "postqueue", "postqueue", "-p")
	case modeAliases:
		if opts.aliasMap != "" {
			return delegate(tool, "postalias", "postalias", "--", opts.aliasMap)
		}
		return delegate(tool, "postalias", "newaliases")
	case modeFlush:
		return delegate(tool, "postqueue", "postqueue", "-f")
	case modeDaemon:
		return startMailSystem(tool)
	case modeSMTP:
		return serveSMTP(tool, opts, stdin, os.Stdout)
	}
	switch {
	case opts.flushSite != "":
		return delegate(tool, "postqueue", "postqueue", "-s", opts.flushSite)
	case opts.flushID != "":
		return delegate(tool, "postqueue", "postqueue", "-i", opts.flushID)
	}
	return submit(tool, opts, stdin)
}

// startMailSystem runs "postfix start" in the background for -bd, as
// Postfix's sendmail does, and does not wait for it.
func startMailSystem(tool *cli.Tool) int {
	path, err := commandPath(tool.Config, "postfix")
	if err != nil {
		return tool.Fatal(sysexits.TempFail, "%v", err)
	}
	cmd := exec.Command(path, "start")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+tool.Config.Dir)
	if err := cmd.Start(); err != nil {
		return tool.Fatal(sysexits.TempFail, "execute %s: %v", path, err)
	}
	return cli.ExitOK
}

// delegate runs another Postern command from command_directory (or the
// directory of this program) as argv0 with args and the same
// configuration, and returns its exit status.
func delegate(tool *cli.Tool, command, argv0 string, args ...string) int {
	path, err := commandPath(tool.Config, command)
	if err != nil {
		return tool.Fatal(sysexits.TempFail, "%v", err)
	}
	cmd := exec.Command(path, args...)
	cmd.Args[0] = argv0
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+tool.Config.Dir)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		return tool.Fatal(sysexits.TempFail, "execute %s: %v", path, err)
	}
	return cli.ExitOK
}

// commandPath finds command in command_directory, else beside sendmail.
func commandPath(cfg *config.Config, command string) (string, error) {
	var dirs []string
	if dir, err := cfg.Get("command_directory"); err == nil && dir != "" {
		dirs = append(dirs, dir)
	}
	if self, err := os.Executable(); err == nil {
		dirs = append(dirs, filepath.Dir(self))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, command)
		if unix.Access(p, unix.X_OK) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found in %s", command, strings.Join(dirs, " or "))
}

// submit reads the message and queues it in maildrop/.
func submit(tool *cli.Tool, opts *options, stdin io.Reader) int {
	sub, err := submission(tool.Config, opts, tool.Log.Warning)
	if err != nil {
		return tool.Fatal(sysexits.TempFail, "%v", err)
	}
	// As Postfix's sendmail: these fatals name the sender and uid.
	if len(sub.Recipients) == 0 && !sub.ExtractRecipients {
		return tool.Fatal(sysexits.TempFail, "%s(%d): Recipient addresses must be specified on the command line or via the -t option", sub.Sender, os.Getuid())
	}
	var content io.Reader = newInputReader(stdin, opts.ignoreDots)
	if opts.verify {
		content = strings.NewReader(verifyMessage(sub))
	}
	if _, err := deposit(tool, sub, content, opts.verbose > 0); err != nil {
		var exit *exec.ExitError
		errors.As(err, &exit)
		switch {
		case errors.Is(err, maildrop.ErrNoRecipients), exit != nil && exit.ExitCode() == maildrop.ExitNoRecipients:
			return tool.Fatal(sysexits.TempFail, "%s(%d): No recipient addresses found in message header", sub.Sender, os.Getuid())
		case exit != nil:
			// postdrop has said why; Postfix's sendmail then finds no
			// status from it.
			return tool.Fatal(sysexits.TempFail, "%s(%d): queue file write error", sub.Sender, os.Getuid())
		}
		return tool.Fatal(sysexits.TempFail, "%v", err)
	}
	if sub.UserVerify || sub.Record {
		fmt.Printf("Mail Delivery Status Report will be mailed to <%s>.\n", sub.Sender)
	}
	return cli.ExitOK
}

// deposit writes the message into maildrop/ and wakes pickup: directly
// when the maildrop directory is writable by this user (root, or a
// development instance owned by the user), otherwise through the
// set-group-id postdrop command. It returns the maildrop queue ID when it
// wrote the file itself.
func deposit(tool *cli.Tool, sub *maildrop.Submission, content io.Reader, verbose bool) (string, error) {
	maildropDir := filepath.Join(tool.Layout.Root, queue.Maildrop)
	if unix.Access(maildropDir, unix.W_OK|unix.X_OK) != nil {
		return "", viaPostdrop(tool, sub, content)
	}
	id, err := maildrop.Write(tool.Layout, sub, content)
	if err != nil {
		return "", err
	}
	if err := maildrop.WakePickup(tool.Config); err != nil && verbose {
		tool.Log.Info("%v", err)
	}
	return id, nil
}

// submission builds the envelope from the options and the user's account.
func submission(cfg *config.Config, opts *options, warn func(string, ...any)) (*maildrop.Submission, error) {
	origin, err := cfg.Get("myorigin")
	if err != nil {
		return nil, err
	}
	sub := &maildrop.Submission{FullName: opts.fullName, ExtractRecipients: opts.extract, Origin: origin, UserVerify: opts.verify, Record: opts.verbose > 0 && !opts.verify}
	if opts.senderSet {
		var malformed bool
		sub.Sender, malformed = senderOption(opts.sender)
		if malformed {
			warn("-f option specified malformed sender: %s", opts.sender)
		}
	}
	if !opts.senderSet || sub.FullName == "" {
		u, err := user.LookupId(fmt.Sprint(os.Getuid()))
		if err != nil {
			return nil, fmt.Errorf("no login name found for user ID %d", os.Getuid())
		}
		if !opts.senderSet {
			sub.Sender = u.Username
		}
		if sub.FullName == "" {
			sub.FullName, _, _ = strings.Cut(u.Name, ",")
		}
	}
	for _, arg := range opts.recipients {
		mailboxes, err := addr.ParseAddressList(arg)
		if err != nil || len(mailboxes) == 0 {
			sub.Recipients = append(sub.Recipients, strings.Join(strings.FieldsFunc(arg, isSpaceOrControl), " "))
			continue
		}
		for _, m := range mailboxes {
			sub.Recipients = append(sub.Recipients, m.Address.Internal())
		}
	}
	return sub, nil
}

// viaPostdrop hands the submission to postdrop, which may write to
// maildrop/ because it is set-group-id postdrop. postdrop reports its own
// errors on standard error; its failure comes back as an *exec.ExitError.
func viaPostdrop(tool *cli.Tool, sub *maildrop.Submission, content io.Reader) error {
	path, err := commandPath(tool.Config, "postdrop")
	if err != nil {
		return err
	}
	args := []string{"-f", sub.Sender}
	if sub.FullName != "" {
		args = append(args, "-F", sub.FullName)
	}
	if sub.ExtractRecipients {
		args = append(args, "-t")
	}
	if sub.UserVerify {
		args = append(args, "-V")
	}
	if sub.Record {
		args = append(args, "-R")
	}
	args = append(append(args, "--"), sub.Recipients...)
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = content, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "MAIL_CONFIG="+tool.Config.Dir)
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return err
		}
		return fmt.Errorf("execute %s: %w", path, err)
	}
	return nil
}

// senderOption is the envelope sender of -f as Postfix's sendmail takes
// it: the first address of the argument parsed as an address list, so
// that no line break or second address ever reaches the envelope;
// malformed reports that there was more than one.
func senderOption(arg string) (sender string, malformed bool) {
	mailboxes, err := addr.ParseAddressList(arg)
	if err == nil && len(mailboxes) > 0 {
		return mailboxes[0].Address.Internal(), len(mailboxes) > 1
	}
	fields := strings.FieldsFunc(arg, isSpaceOrControl)
	if len(fields) == 0 {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(fields[0], "<"), ">"), len(fields) > 1
}

// isSpaceOrControl is true for white space and control characters.
func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f
}

// verifyMessage is the message sendmail -bv queues instead of reading
// one, as Postfix's: From: the sender, "Subject: probe", and a To: with
// the recipients.
func verifyMessage(sub *maildrop.Submission) string {
	var b strings.Builder
	b.WriteString("From: " + sub.Sender + "\nSubject: probe\n")
	if len(sub.Recipients) > 0 {
		b.WriteString("To:\t" + strings.Join(sub.Recipients, ",\n\t") + "\n")
	}
	b.WriteString("\n")
	return b.String()
}
