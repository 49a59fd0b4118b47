// header_checks, mime_header_checks, nested_header_checks and body_checks:
// matching each header and body line and acting on the result as
// Postfix's cleanup does, with its log lines.

package cleanup

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/hbc"
	"github.com/postern/postern/pkg/mimestate"
)

// Reply texts for content rejections without a text of their own.
const (
	contentRejectDefault = "5.7.1 message content rejected"
	replyCodeContent     = "550"
	replyCodeDefer       = "451"
)

// verdict is what the checks decided about the whole message.
type verdict struct {
	reason   string // REJECT: "5.7.1 text" or "4.x.x text"; "" when accepted
	discard  bool
	hold     bool
	filter   string   // FILTER transport:nexthop
	redirect string   // REDIRECT user@domain
	bcc      []string // BCC user@domain
	tableErr bool     // a table could not be read: try again later
}

// rejected reports whether the message must not be queued.
func (v *verdict) rejected() bool { return v.reason != "" || v.tableErr }

// checkContext names what was matched in the log line.
const (
	contextHeader = "header"
	contextBody   = "body"
)

// logAction writes the line Postfix's cleanup logs for an action:
// "ID: reject: header Subject: x from host[addr]; from=<a> to=<b>
// proto=ESMTP helo=<h>: 5.7.1 text".
func (c *contentWriter) logAction(action, class, content, text string) {
	if len(content) > 200 {
		content = content[:200]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s %s from %s;", c.w.ID, action, class, content, c.logOrigin())
	fmt.Fprintf(&b, " from=<%s>", c.sender)
	if n := len(c.sub.Recipients); n > 0 {
		fmt.Fprintf(&b, " to=<%s>", addr.Split(c.s.qualify(c.sub.Recipients[n-1].Address)).String())
	}
	if c.sub.Protocol != "" && !c.local {
		fmt.Fprintf(&b, " proto=%s", c.sub.Protocol)
	}
	if c.sub.HeloName != "" && !c.local {
		fmt.Fprintf(&b, " helo=<%s>", c.sub.HeloName)
	}
	if text != "" {
		fmt.Fprintf(&b, ": %s", text)
	}
	c.log.Info("%s", b.String())
}

// logOrigin is "host[addr]" for network mail and "local" for pickup.
func (c *contentWriter) logOrigin() string {
	if c.local {
		return "local"
	}
	if c.sub.ClientAddress == "" {
		return "unknown"
	}
	name := c.sub.ClientName
	if name == "" {
		name = "unknown"
	}
	return name + "[" + c.sub.ClientAddress + "]"
}

// actResult is what becomes of the matched header or line.
type actResult struct {
	drop    bool   // IGNORE, STRIP
	replace string // REPLACE text, "" when unchanged
	prepend string // PREPEND text, output before it
}

// act carries out one table answer for content (a header or a body line).
func (c *contentWriter) act(class, content, value, table string) actResult {
	a := hbc.ParseAction(value)
	v := &c.verdict
	var res actResult
	switch a.Command {
	case "REJECT":
		reason := contentRejectDefault
		if a.Text != "" {
			reason = hbc.PrependDSN("5.7.1", a.Text)
			if reason[0] != '4' && reason[0] != '5' {
				c.log.Warning("bad DSN action in %s -- need 4.x.x or 5.x.x", a.Text)
				reason = "4" + reason[1:]
			}
		}
		v.reason = reason
		c.filtering = false
		c.logAction("reject", class, content, reason)
	case "WARN":
		c.logAction("warning", class, content, a.Text)
	case "INFO":
		c.logAction("info", class, content, a.Text)
	case "FILTER":
		switch {
		case a.Text == "":
			c.log.Warning("missing FILTER command argument in %s map", table)
		case !strings.Contains(a.Text, ":"):
			c.log.Warning("bad FILTER command %s in %s -- need transport:destination", a.Text, table)
		default:
			v.filter = a.Text
			c.logAction("filter", class, content, a.Text)
		}
	case "PASS":
		c.logAction("pass", class, content, a.Text)
		c.filtering = false
	case "DISCARD":
		c.logAction("discard", class, content, a.Text)
		v.discard = true
		c.filtering = false
	case "HOLD":
		if !v.hold && !v.discard {
			c.logAction("hold", class, content, a.Text)
			v.hold = true
		}
	case "PREPEND":
		switch {
		case a.Text == "":
			c.log.Warning("PREPEND action without text in %s map", table)
		case class == contextHeader && !mimestate.IsHeader([]byte(a.Text)):
			c.log.Warning("bad PREPEND header text \"%s\" in %s map -- need \"headername: headervalue\"", a.Text, table)
		default:
			c.logAction("prepend", class, content, a.Text)
			res.prepend = a.Text
		}
	case "REPLACE":
		switch {
		case a.Text == "":
			c.log.Warning("REPLACE action without text in %s map", table)
		case class == contextHeader && !mimestate.IsHeader([]byte(a.Text)):
			c.log.Warning("bad REPLACE header text \"%s\" in %s map -- need \"headername: headervalue\"", a.Text, table)
		default:
			c.logAction("replace", class, content, a.Text)
			res.replace = a.Text
		}
	case "REDIRECT":
		if !strings.Contains(a.Text, "@") {
			c.log.Warning("bad REDIRECT target \"%s\" in %s map -- need user@domain", a.Text, table)
		} else {
			v.redirect = a.Text
			c.logAction("redirect", class, content, a.Text)
			c.filtering = false
		}
	case "BCC":
		if !strings.Contains(a.Text, "@") {
			c.log.Warning("bad BCC address \"%s\" in %s map -- need user@domain", a.Text, table)
		} else {
			v.bcc = append(v.bcc, a.Text)
			c.logAction("bcc", class, content, a.Text)
		}
	case "STRIP":
		c.logAction("strip", class, content, a.Text)
		res.drop = true
	case "IGNORE":
		res.drop = true
	case "DUNNO", "OK":
	default:
		c.log.Warning("unknown command in %s map: %s", table, value)
	}
	return res
}

// check looks content up in checks and acts on a match. A table that
// cannot be read makes cleanup refuse the message for now.
func (c *contentWriter) check(checks *hbc.Checks, class, content string) actResult {
	if !c.filtering || checks.Empty() {
		return actResult{}
	}
	value, found, err := checks.Find(content)
	if err != nil {
		c.log.Warning("%s: %s map lookup problem -- message not accepted, try again later", c.w.ID, checks.Name)
		c.verdict.tableErr = true
		return actResult{}
	}
	if !found {
		return actResult{}
	}
	return c.act(class, content, value, checks.Name)
}

// headerChecksFor returns the tables that inspect a header of class.
func (c *contentWriter) headerChecksFor(class mimestate.Class, header []byte) *hbc.Checks {
	if mimestate.IsMIMEHeader(header) {
		class = mimestate.Multipart
	}
	switch class {
	case mimestate.Multipart:
		return c.s.MIMEHeaderChecks
	case mimestate.Nested:
		return c.s.NestedHeaderChecks
	}
	return c.s.HeaderChecks
}
