// Command postlog logs text from the command line or standard input in
// Postfix's format, as Postfix's postlog(1).
//
// Usage: postlog [-iv] [-c config_dir] [-p priority] [-t tag] [text...]
//
// The configuration directory (-c, else MAIL_CONFIG, else /etc/postfix)
// must hold a main.cf, as with Postfix, but its parameters are not read
// yet: lines go to syslog through /dev/log with the defaults syslog_name =
// postfix and syslog_facility = mail, never to maillog_file. When standard
// error is a terminal, lines are written there too.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/maillog"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stderr))
}

func run(args []string, stdin io.Reader, stderr *os.File) int {
	opts, parseErr := parseArgs(args)
	tag := opts.tag
	if tag == "" {
		tag = maillog.ProgramName("postfix", "postlog")
	}
	host, _ := os.Hostname()
	logOpts := maillog.Options{Tag: tag, Hostname: host, StderrName: tag}
	if isTerminal(stderr) {
		logOpts.Stderr = stderr
	}
	logger, err := maillog.New(logOpts)
	if err != nil {
		fmt.Fprintf(stderr, "%s: fatal: %v\n", tag, err)
		return 1
	}
	defer logger.Close()

	var usageErr *usageError
	if errors.As(parseErr, &usageErr) {
		fmt.Fprintf(stderr, "postlog: %s\n", usageErr.complaint)
		logger.Fatal("%s", usage)
	}
	if err := checkConfigDir(opts.configDir); err != nil {
		logger.Fatal("%v", err)
	}
	level, err := maillog.ParseLevel(opts.priority)
	if err != nil {
		logger.Fatal("%v", err)
	}

	if len(opts.text) > 0 {
		logger.Log(level, strings.Join(opts.text, " "))
	} else if err := logLines(logger, level, stdin); err != nil {
		logger.Fatal("read standard input: %v", err)
	}
	if level >= maillog.LevelFatal {
		time.Sleep(maillog.FatalPause)
	}
	return 0
}

// checkConfigDir fails, as Postfix does, when the configuration directory
// has no readable main.cf.
func checkConfigDir(dir string) error {
	if dir == "" {
		dir = os.Getenv("MAIL_CONFIG")
	}
	if dir == "" {
		dir = "/etc/postfix"
	}
	f, err := os.Open(filepath.Join(dir, "main.cf"))
	if err != nil {
		return err
	}
	return f.Close()
}

// logLines logs each line of r as one record. Only the first
// maillog.MaxTextLength bytes of a longer line are kept in memory.
func logLines(logger *maillog.Logger, level maillog.Level, r io.Reader) error {
	br := bufio.NewReaderSize(r, maillog.MaxTextLength+1)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line) < maillog.MaxTextLength+1 {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' || (errors.Is(err, io.EOF) && len(line) > 0) {
			logger.Log(level, strings.TrimSuffix(string(line), "\n"))
			line = line[:0]
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
