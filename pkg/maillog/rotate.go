// Log file rotation for `postfix logrotate`: rename with a time-stamp suffix.

package maillog

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultRotateSuffix is Postfix's default maillog_file_rotate_suffix.
const DefaultRotateSuffix = "%Y%m%d-%H%M%S"

// Rotate renames file to file + "." + the suffix format expanded for now
// (maillog_file_rotate_suffix, in date(1)'s notation) and returns the new
// name, as `postfix logrotate` does before it makes the daemons reopen
// the log and compresses the old file. Loggers writing to file notice the
// rename within a second by themselves. Like Postfix it refuses a file
// under /dev.
func Rotate(file, suffixFormat string, now time.Time) (string, error) {
	if file == "" {
		return "", fmt.Errorf("empty 'maillog_file' parameter value - logfile rotation failed")
	}
	if suffixFormat == "" {
		return "", fmt.Errorf("empty 'maillog_file_rotate_suffix' parameter value - logfile rotation failed")
	}
	if strings.HasPrefix(file, "/dev/") {
		return "", fmt.Errorf("not rotating '%s'", file)
	}
	rotated := file + "." + FormatStrftime(suffixFormat, now)
	if err := os.Rename(file, rotated); err != nil {
		return "", fmt.Errorf("logfile '%s' rotation failed: %w", file, err)
	}
	return rotated, nil
}

// FormatStrftime expands the strftime conversions that make sense in a
// file name suffix (%Y %y %m %d %e %H %M %S %j %b %a %s %F %T %%); any
// other conversion is copied as it is, as date(1) does.
func FormatStrftime(format string, t time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			b.WriteString(t.Format("2006"))
		case 'y':
			b.WriteString(t.Format("06"))
		case 'm':
			b.WriteString(t.Format("01"))
		case 'd':
			b.WriteString(t.Format("02"))
		case 'e':
			b.WriteString(t.Format("_2"))
		case 'H':
			b.WriteString(t.Format("15"))
		case 'M':
			b.WriteString(t.Format("04"))
		case 'S':
			b.WriteString(t.Format("05"))
		case 'j':
			b.WriteString(t.Format("002"))
		case 'b':
			b.WriteString(t.Format("Jan"))
		case 'a':
			b.WriteString(t.Format("Mon"))
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'F':
			b.WriteString(t.Format("2006-01-02"))
		case 'T':
			b.WriteString(t.Format("15:04:05"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}
