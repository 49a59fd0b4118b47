// The syslog destination: RFC 3164 datagrams to /dev/log, as glibc sends them.

package maillog

import (
	"fmt"
	"time"
)

// DefaultSyslogSocket is where the system logger listens.
const DefaultSyslogSocket = "/dev/log"

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
	"lpr": 6, "news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// ParseFacility returns the syslog facility code for a syslog_facility
// value; the error is worded as Postfix's, for the caller to prefix with
// "file main.cf: ".
func ParseFacility(name string) (int, error) {
	code, ok := facilities[name]
	if !ok {
		return 0, fmt.Errorf("parameter syslog_facility: unrecognized value: %s", name)
	}
	return code, nil
}

// syslogSeverity maps a level to the syslog severity Postfix uses.
func syslogSeverity(l Level) int {
	switch l {
	case LevelInfo:
		return 6 // LOG_INFO
	case LevelWarning:
		return 4 // LOG_WARNING
	case LevelError:
		return 3 // LOG_ERR
	default:
		return 2 // LOG_CRIT, for fatal and panic
	}
}

// AppendSyslogMessage appends a datagram in the form glibc's syslog()
// sends with LOG_PID: "<22>Nov  5 13:01:26 postfix/smtpd[7751]: text",
// with a space-padded day and no host name or newline.
func AppendSyslogMessage(dst []byte, now time.Time, facility int, tag string, pid int, level Level, text string) []byte {
	dst = fmt.Appendf(dst, "<%d>", facility*8+syslogSeverity(level))
	dst = now.AppendFormat(dst, "Jan _2 15:04:05 ")
	dst = appendTagPID(dst, tag, pid)
	return appendText(dst, level, text)
}
