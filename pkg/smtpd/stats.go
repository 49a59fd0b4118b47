// Per-session command counts for the "disconnect from" line, in Postfix's form.

package smtpd

import (
	"fmt"
	"strings"
)

// statOrder is the order in which Postfix lists commands on the
// "disconnect from" line.
var statOrder = []string{"helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "bdat", "rset", "noop", "vrfy", "etrn", "quit", "unknown"}

// commandStats counts, per command, how often it was given and how often it
// succeeded.
type commandStats struct {
	ok, total map[string]int
}

func newCommandStats() *commandStats {
	return &commandStats{ok: map[string]int{}, total: map[string]int{}}
}

// count records one command and whether it succeeded.
func (c *commandStats) count(name string, ok bool) {
	c.total[name]++
	if ok {
		c.ok[name]++
	}
}

// String formats " ehlo=1 mail=1/2 ... commands=N[/M]" (with the leading
// space), or "" when no command was counted.
func (c *commandStats) String() string {
	var b strings.Builder
	ok, total := 0, 0
	for _, name := range statOrder {
		if c.total[name] == 0 {
			continue
		}
		fmt.Fprintf(&b, " %s=%s", name, ratio(c.ok[name], c.total[name]))
		ok += c.ok[name]
		total += c.total[name]
	}
	if total == 0 {
		return " commands=0/0"
	}
	fmt.Fprintf(&b, " commands=%s", ratio(ok, total))
	return b.String()
}

// ratio is "n" when all succeeded, else "ok/total".
func ratio(ok, total int) string {
	if ok == total {
		return fmt.Sprint(total)
	}
	return fmt.Sprintf("%d/%d", ok, total)
}
