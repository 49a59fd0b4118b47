// The Logger: Postfix's msg_info/msg_warn/msg_fatal for Postern programs.

package maillog

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Options configures a Logger with plain values taken from main.cf,
// master.cf and the command line.
type Options struct {
	// SyslogName is the syslog_name parameter; "postfix" when empty.
	SyslogName string
	// Program is the program's argv[0]; its base name follows SyslogName
	// in the tag.
	Program string
	// Tag, when set, is the whole tag instead (postlog -t).
	Tag string
	// Hostname is myhostname; maillog_file lines show its first label.
	Hostname string

	// File is maillog_file; when empty, lines go to syslog.
	File string
	// FilePrefixes is maillog_file_prefixes, which File must match.
	FilePrefixes string
	// PostlogSocket, when set with File, is postlogd's datagram socket
	// (queue_directory/public/postlog): lines go there, so that a chrooted,
	// unprivileged daemon can still log to File. When postlogd cannot be
	// reached the Logger appends to File itself, opening it only then.
	PostlogSocket string

	// SyslogFacility is syslog_facility; "mail" when empty.
	SyslogFacility string
	// SyslogSocket is the system logger's socket; DefaultSyslogSocket
	// when empty.
	SyslogSocket string

	// Stderr, when set, also receives every line as Postfix commands
	// print it: "postmap: fatal: text". Lines go to Stderr, too, when
	// the system logger cannot be reached.
	Stderr io.Writer
	// StderrName is the name on Stderr lines; the base name of Program
	// when empty.
	StderrName string

	// Now, PID, Sleep and Exit replace time.Now, os.Getpid, time.Sleep
	// and os.Exit in tests.
	Now   func() time.Time
	PID   int
	Sleep func(time.Duration)
	Exit  func(code int)
}

// Logger writes Postfix-format log lines. It is safe for concurrent use.
type Logger struct {
	syslogName string
	tag        string
	host       string
	facility   int
	pid        int
	now        func() time.Time
	sleep      func(time.Duration)
	exit       func(int)
	stderrName string

	file    *fileSink     // maillog_file, or nil
	postlog *datagramSink // postlogd, in front of file, or nil
	syslog  *datagramSink // syslog, when file is nil

	stderrMu sync.Mutex
	stderr   io.Writer // nil unless set in Options
	fallback io.Writer // os.Stderr as it was at New, for lines nothing else took
}

// New returns a Logger for opts. It fails when File does not match
// FilePrefixes, when the file cannot be opened, or when SyslogFacility is
// unknown.
func New(opts Options) (*Logger, error) {
	l := &Logger{
		host:       opts.Hostname,
		pid:        opts.PID,
		now:        opts.Now,
		sleep:      opts.Sleep,
		exit:       opts.Exit,
		stderr:     opts.Stderr,
		stderrName: opts.StderrName,
		fallback:   os.Stderr,
	}
	syslogName := opts.SyslogName
	if syslogName == "" {
		syslogName = "postfix"
	}
	l.syslogName = syslogName
	l.tag = opts.Tag
	if l.tag == "" {
		l.tag = ProgramName(syslogName, opts.Program)
	}
	if l.stderrName == "" {
		l.stderrName = filepath.Base(opts.Program)
	}
	if l.pid == 0 {
		l.pid = os.Getpid()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.sleep == nil {
		l.sleep = time.Sleep
	}
	if l.exit == nil {
		l.exit = os.Exit
	}
	if opts.File != "" {
		if err := CheckFilePrefixes(opts.File, opts.FilePrefixes); err != nil {
			return nil, err
		}
		if opts.PostlogSocket != "" {
			l.file = &fileSink{path: opts.File, now: l.now}
			l.postlog = newDatagramSink(opts.PostlogSocket, l.now)
			l.postlog.batch = true
			file := l.file
			l.postlog.fallback = func(lines []byte) bool { return file.writeLine(lines) == nil }
			return l, nil
		}
		sink, err := openFileSink(opts.File, l.now)
		if err != nil {
			return nil, err
		}
		l.file = sink
		return l, nil
	}
	facilityName := opts.SyslogFacility
	if facilityName == "" {
		facilityName = "mail"
	}
	facility, err := ParseFacility(facilityName)
	if err != nil {
		return nil, err
	}
	l.facility = facility
	socket := opts.SyslogSocket
	if socket == "" {
		socket = DefaultSyslogSocket
	}
	l.syslog = newDatagramSink(socket, l.now)
	return l, nil
}

// Tag returns the program name the log lines carry, e.g. "postfix/smtpd".
func (l *Logger) Tag() string { return l.tag }

// ForProgram returns a Logger whose lines carry program instead of this
// Logger's program, under the same syslog_name and with the same PID and
// destination: a daemon that does the work of another Postfix program
// (qmgr sending notices, which Postfix's bounce daemon sends) logs those
// lines under that program's name. The two share their file and sockets;
// Close and Reopen only this Logger, never the one ForProgram returns.
func (l *Logger) ForProgram(program string) *Logger {
	return l.ForService(l.syslogName, program)
}

// ForService is ForProgram under syslogName: the lines of a program
// that Postfix runs as a master.cf service with its own -o syslog_name.
func (l *Logger) ForService(syslogName, program string) *Logger {
	return &Logger{
		syslogName: syslogName,
		tag:        ProgramName(syslogName, program),
		host:       l.host,
		facility:   l.facility,
		pid:        l.pid,
		now:        l.now,
		sleep:      l.sleep,
		exit:       l.exit,
		stderrName: program,
		file:       l.file,
		postlog:    l.postlog,
		syslog:     l.syslog,
		stderr:     l.stderr,
		fallback:   l.fallback,
	}
}

// Log writes text at level; it never exits, even for LevelFatal.
func (l *Logger) Log(level Level, text string) {
	text = Printable(text)
	now := l.now()
	if l.stderr != nil {
		l.writeStderr(level, text)
	}
	if l.file != nil {
		line := AppendFileLine(l.lineBuffer(text), now, l.host, l.tag, l.pid, level, text)
		if l.postlog != nil && l.postlog.send(line[:len(line)-1]) {
			return
		}
		if err := l.file.writeLine(line); err != nil && l.stderr == nil {
			l.writeFallback(line)
		}
		return
	}
	msg := AppendSyslogMessage(l.lineBuffer(text), now, l.facility, l.tag, l.pid, level, text)
	if !l.syslog.send(msg) && l.stderr == nil {
		l.writeFallback(AppendFileLine(nil, now, l.host, l.tag, l.pid, level, text))
	}
}

// lineBuffer returns an empty buffer with room for a line of text, so
// that formatting it allocates once.
func (l *Logger) lineBuffer(text string) []byte {
	// Time stamp or syslog header, PID, severity and newline.
	const fixed = 64
	return make([]byte, 0, fixed+len(l.host)+len(l.tag)+min(len(text), MaxTextLength))
}

func (l *Logger) writeStderr(level Level, text string) {
	line := append([]byte(l.stderrName+": "), appendText(nil, level, text)...)
	line = append(line, '\n')
	l.stderrMu.Lock()
	defer l.stderrMu.Unlock()
	l.stderr.Write(line)
}

func (l *Logger) writeFallback(line []byte) {
	l.stderrMu.Lock()
	defer l.stderrMu.Unlock()
	l.fallback.Write(line)
}

// Info logs an informational line, formatted as by fmt.Sprintf.
func (l *Logger) Info(format string, args ...any) {
	l.Log(LevelInfo, fmt.Sprintf(format, args...))
}

// Warning logs "warning: " and the formatted text.
func (l *Logger) Warning(format string, args ...any) {
	l.Log(LevelWarning, fmt.Sprintf(format, args...))
}

// Error logs "error: " and the formatted text.
func (l *Logger) Error(format string, args ...any) {
	l.Log(LevelError, fmt.Sprintf(format, args...))
}

// FatalPause is how long Fatal waits before exiting, as Postfix's
// msg_fatal does, so that a program that fails at once cannot spin.
const FatalPause = time.Second

// Fatal logs "fatal: " and the formatted text, pauses for FatalPause and
// exits with status 1, as Postfix's msg_fatal does.
func (l *Logger) Fatal(format string, args ...any) {
	l.Log(LevelFatal, fmt.Sprintf(format, args...))
	l.Close()
	l.sleep(FatalPause)
	l.exit(1)
}

// Reopen closes and reopens maillog_file, for `postfix logrotate` after
// it renamed the file. Lines written after a rename reach the new file
// within a second even without Reopen. With syslog it does nothing.
func (l *Logger) Reopen() error {
	if l.file == nil {
		return nil
	}
	return l.file.Reopen()
}

// Close releases the file and sockets.
func (l *Logger) Close() error {
	if l.file == nil {
		return l.syslog.Close()
	}
	if l.postlog != nil {
		l.postlog.Close()
	}
	return l.file.Close()
}
