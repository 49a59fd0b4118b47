// The maillog_file_prefixes check on the maillog_file parameter.

package maillog

import (
	"fmt"
	"strings"
)

// DefaultFilePrefixes is Postfix's default maillog_file_prefixes.
const DefaultFilePrefixes = "/var, /dev/stdout"

// CheckFilePrefixes reports an error, worded as Postfix's fatal message,
// when file (the maillog_file value) does not start with one of the
// prefixes in the maillog_file_prefixes value (separated by commas or
// white space). As in Postfix the comparison is a plain string prefix
// match. An empty file means syslog and always passes.
func CheckFilePrefixes(file, prefixes string) error {
	if file == "" {
		return nil
	}
	for _, p := range strings.FieldsFunc(prefixes, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		if strings.HasPrefix(file, p) {
			return nil
		}
	}
	return fmt.Errorf("maillog_file value '%s' does not match any prefix in maillog_file_prefixes", file)
}
