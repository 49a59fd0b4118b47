// The postqueue -j format: one JSON object per message per line, quoted as Postfix quotes.

package showq

import (
	"bufio"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/queue/cli"
)

func writeJSON(out *bufio.Writer, m listedMessage) {
	forced := "false"
	if m.forcedExpire {
		forced = "true"
	}
	fmt.Fprintf(out, `{"queue_name": "%s", "queue_id": "%s", "arrival_time": %d, "message_size": %d, "forced_expire": %s, "sender": "%s", "recipients": [`,
		jsonQuote(m.queue), jsonQuote(m.id), m.arrival, m.size, forced, jsonQuote(m.sender))
	for i, r := range m.recipients {
		if i > 0 {
			out.WriteString(", ")
		}
		fmt.Fprintf(out, `{"address": "%s"`, jsonQuote(r.address))
		if r.reason != "" {
			fmt.Fprintf(out, `, "delay_reason": "%s"`, jsonQuote(r.reason))
		}
		out.WriteString("}")
	}
	out.WriteString("]}\n")
}

// jsonQuote escapes a string for a JSON string literal: backslash and
// double quote, the five short control escapes, other controls as \u00XX;
// then anything unprintable becomes '?'.
func jsonQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c < 0x20 || c == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	return printable(b.String())
}

// asctimeField is the arrival time as the listing shows it.
func asctimeField(secs int64) string {
	return cli.Asctime(time.Unix(secs, 0))
}
