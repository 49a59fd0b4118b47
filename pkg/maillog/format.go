// Package maillog writes Postfix-format log lines to maillog_file or syslog.
package maillog

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Level is the severity of a log line.
type Level int

// Severities, as Postfix's msg_info, msg_warn, msg_error, msg_fatal and
// msg_panic.
const (
	LevelInfo Level = iota
	LevelWarning
	LevelError
	LevelFatal
	LevelPanic
)

var levelNames = [...]string{"info", "warning", "error", "fatal", "panic"}

func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("level %d", int(l))
	}
	return levelNames[l]
}

// prefix is what precedes the text: nothing for info, "warning: " etc.
func (l Level) prefix() string {
	if l == LevelInfo {
		return ""
	}
	return l.String() + ": "
}

// ParseLevel parses a severity as postlog -p takes it: info, warning,
// error, fatal or panic, or the syslog names warn, err and crit, in any
// case.
func ParseLevel(name string) (Level, error) {
	switch lower := strings.ToLower(name); lower {
	case "warn":
		return LevelWarning, nil
	case "err":
		return LevelError, nil
	case "crit":
		return LevelFatal, nil
	default:
		for i, n := range levelNames {
			if n == lower {
				return Level(i), nil
			}
		}
	}
	return 0, fmt.Errorf("bad severity: %q", name)
}

// MaxTextLength is the most bytes of message text a line carries, after
// the severity prefix; longer text is cut, as Postfix does.
const MaxTextLength = 2000

// ProgramName returns the log tag of a Postfix program: syslog_name, a
// slash, and the base name of argv0 ("postfix/smtpd", or
// "postfix/submission/smtpd" with -o syslog_name=postfix/submission). A
// syslog_name that contains slashes is used as it is.
func ProgramName(syslogName, argv0 string) string {
	if i := strings.LastIndexByte(argv0, '/'); i >= 0 && i+1 < len(argv0) {
		argv0 = argv0[i+1:]
	}
	return syslogName + "/" + argv0
}

// ShortHostname returns the first label of a host name, as maillog_file
// lines show it.
func ShortHostname(host string) string {
	if i := strings.IndexByte(host, '.'); i >= 0 {
		return host[:i]
	}
	return host
}

// appendText appends the severity prefix and text, cut to MaxTextLength
// bytes and with control characters and invalid UTF-8 replaced by '?', so
// that no input can split a log line or forge another.
func appendText(dst []byte, level Level, text string) []byte {
	dst = append(dst, level.prefix()...)
	if len(text) > MaxTextLength {
		// Cut before the character that straddles the limit, if any.
		cut := MaxTextLength
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	return appendSanitized(dst, text)
}

// appendSanitized appends text with control characters and invalid UTF-8
// replaced by '?'.
func appendSanitized(dst []byte, text string) []byte {
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f {
				c = '?'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, '?')
		} else {
			dst = append(dst, text[i:i+size]...)
		}
		i += size
	}
	return dst
}

// AppendFileLine appends one maillog_file line, with its newline:
// "Nov 28 13:01:26 mx postfix/smtpd[7751]: warning: text".
func AppendFileLine(dst []byte, now time.Time, host, tag string, pid int, level Level, text string) []byte {
	dst = now.AppendFormat(dst, "Jan 02 15:04:05 ")
	dst = append(dst, ShortHostname(host)...)
	dst = append(dst, ' ')
	dst = appendTagPID(dst, tag, pid)
	dst = appendText(dst, level, text)
	return append(dst, '\n')
}

func appendTagPID(dst []byte, tag string, pid int) []byte {
	dst = append(dst, tag...)
	dst = append(dst, '[')
	dst = strconv.AppendInt(dst, int64(pid), 10)
	return append(dst, "]: "...)
}
