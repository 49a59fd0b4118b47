// Bounce templates: Postfix's bounce(5) template file format, its built-in
// defaults, and the expansion of $name in a template's message text.

package dsn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Template classes, in the order postconf -b and -t print them.
const (
	ClassFailure = "failure"
	ClassDelay   = "delay"
	ClassSuccess = "success"
	ClassVerify  = "verify"
)

// classes lists the template classes in postconf's order.
var classes = []string{ClassFailure, ClassDelay, ClassSuccess, ClassVerify}

// Template is one notice template as bounce(5) writes it: headers, then
// the message text with $name references.
type Template struct {
	Class   string
	Charset string
	From    string
	Subject string
	// PostmasterSubject is the subject of postmaster copies (failure and
	// delay templates only).
	PostmasterSubject string
	// Text is the message text before $name expansion, one line each.
	Text []string
	// Origin names where the template came from: "[built-in]" or the file.
	Origin string
}

// Templates are the four notice templates.
type Templates struct {
	Failure, Delay, Success, Verify *Template
}

// byClass returns the template of a class.
func (ts *Templates) byClass(class string) **Template {
	switch class {
	case ClassFailure:
		return &ts.Failure
	case ClassDelay:
		return &ts.Delay
	case ClassSuccess:
		return &ts.Success
	case ClassVerify:
		return &ts.Verify
	}
	return nil
}

// builtin holds Postfix's default templates, as postconf -t prints them.
var builtin = map[string]string{
	ClassFailure: `Charset: us-ascii
From: Mail Delivery System <MAILER-DAEMON>
Subject: Undelivered Mail Returned to Sender
Postmaster-Subject: Postmaster Copy: Undelivered Mail

This is the mail system at host $myhostname.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system`,
	ClassDelay: `Charset: us-ascii
From: Mail Delivery System <MAILER-DAEMON>
Subject: Delayed Mail (still being retried)
Postmaster-Subject: Postmaster Warning: Delayed Mail

This is the mail system at host $myhostname.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

Your message could not be delivered for more than $delay_warning_time_hours hour(s).
It will be retried until it is $maximal_queue_lifetime_days day(s) old.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system`,
	ClassSuccess: `Charset: us-ascii
From: Mail Delivery System <MAILER-DAEMON>
Subject: Successful Mail Delivery Report

This is the mail system at host $myhostname.

Your message was successfully delivered to the destination(s)
listed below. If the message was delivered to mailbox you will
receive no further notifications. Otherwise you may still receive
notifications of mail delivery errors from other systems.

                   The mail system`,
	ClassVerify: `Charset: us-ascii
From: Mail Delivery System <MAILER-DAEMON>
Subject: Mail Delivery Status Report

This is the mail system at host $myhostname.

Enclosed is the mail delivery report that you requested.

                   The mail system`,
}

// DefaultTemplates returns Postfix's built-in templates.
func DefaultTemplates() *Templates {
	ts := &Templates{}
	for _, class := range classes {
		t, err := parseTemplate(class, "[built-in]", builtin[class])
		if err != nil {
			panic(fmt.Sprintf("built-in %s template: %v", class, err))
		}
		*ts.byClass(class) = t
	}
	return ts
}

// LoadTemplates reads a bounce_template_file: its templates replace the
// defaults, the others stay built-in. Problems that Postfix only warns
// about (an unknown template name, a template it ignores) go to warn; a
// malformed file is an error.
func LoadTemplates(path string, warn func(string)) (*Templates, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("open %s: %s", path, strerror(err))
	}
	defer f.Close()
	return ReadTemplates(f, path, warn)
}

// ReadTemplates parses a template file read from r; name is its path for
// messages.
func ReadTemplates(r io.Reader, name string, warn func(string)) (*Templates, error) {
	ts := DefaultTemplates()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	// Postfix's messages name the line after the one they are about.
	lineno := 1
	for sc.Scan() {
		lineno++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return nil, fmt.Errorf("%s, line %d: missing '=' after attribute name: %q", name, lineno, line)
		}
		if marker, ok := strings.CutPrefix(value, "<<"); ok {
			marker = strings.TrimSpace(marker)
			if marker == "" {
				return nil, fmt.Errorf("%s, line %d: missing end marker after <<", name, lineno)
			}
			if c := marker[0]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return nil, fmt.Errorf("%s, line %d: malformed end marker after <<", name, lineno)
			}
			var body []string
			ended := false
			for sc.Scan() {
				lineno++
				if sc.Text() == marker {
					ended = true
					break
				}
				body = append(body, sc.Text())
			}
			if !ended {
				warn(fmt.Sprintf("%s, line %d: missing %q end marker", name, lineno, marker))
			}
			value = strings.Join(body, "\n")
		}
		class, ok := strings.CutSuffix(key, "_template")
		slot := ts.byClass(class)
		if !ok || slot == nil {
			warn(fmt.Sprintf("%s, line %d: unknown template name: %s -- ignoring this template", name, lineno, key))
			continue
		}
		t, err := parseTemplate(class, name, value)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				warn(line)
			}
			continue
		}
		*slot = t
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return ts, nil
}

// parseTemplate splits a template into its headers and message text. A
// template Postfix would ignore gives an error, and the built-in one stays.
func parseTemplate(class, origin, raw string) (*Template, error) {
	def := builtinHeaders(class)
	t := &Template{Class: class, Origin: origin, Charset: "us-ascii",
		From: def.From, Subject: def.Subject, PostmasterSubject: def.PostmasterSubject}
	lines := strings.Split(raw, "\n")
	i := 0
	for ; i < len(lines); i++ {
		name, value, ok := templateHeader(lines[i])
		if !ok {
			break
		}
		ignore := func(what string) error {
			return fmt.Errorf("%s: "+what+" in %s template -- ignoring this template", origin, name, class)
		}
		if value == "" {
			return nil, ignore("empty %q header value")
		}
		if !isASCII(value) {
			return nil, ignore("non-ASCII %q header value")
		}
		switch strings.ToLower(name) {
		case "charset":
			t.Charset = value
		case "from":
			t.From = value
		case "subject":
			t.Subject = value
		case "postmaster-subject":
			if t.PostmasterSubject == "" {
				return nil, ignore("inapplicable %q header label")
			}
			t.PostmasterSubject = value
		default:
			return nil, ignore("unknown %q header label")
		}
	}
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	if i == len(lines) {
		return nil, fmt.Errorf("%s: missing message text in %s template -- ignoring this template", origin, class)
	}
	t.Text = lines[i:]
	if strings.EqualFold(t.Charset, "us-ascii") && !isASCII(strings.Join(t.Text, "\n")) {
		return nil, fmt.Errorf("%s: 8-bit message text in %s template\nplease specify a charset value other than us-ascii\n-- ignoring this template for now", origin, class)
	}
	return t, nil
}

// builtinHeaders are a class's header defaults (only the built-in
// failure and delay templates have a Postmaster-Subject).
func builtinHeaders(class string) Template {
	from := "Mail Delivery System <MAILER-DAEMON>"
	switch class {
	case ClassFailure:
		return Template{From: from, Subject: "Undelivered Mail Returned to Sender", PostmasterSubject: "Postmaster Copy: Undelivered Mail"}
	case ClassDelay:
		return Template{From: from, Subject: "Delayed Mail (still being retried)", PostmasterSubject: "Postmaster Warning: Delayed Mail"}
	case ClassSuccess:
		return Template{From: from, Subject: "Successful Mail Delivery Report"}
	}
	return Template{From: from, Subject: "Mail Delivery Status Report"}
}

// templateHeader recognises a "Name: value" template header line.
func templateHeader(line string) (name, value string, ok bool) {
	colon := strings.IndexByte(line, ':')
	if colon <= 0 {
		return "", "", false
	}
	for _, c := range line[:colon] {
		if c <= ' ' || c >= 127 {
			return "", "", false
		}
	}
	return line[:colon], strings.TrimSpace(line[colon+1:]), true
}

// strerror words a system error as the C library does: "No such file or
// directory".
func strerror(err error) string {
	msg := err.Error()
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// timeDivisors are the suffixes of the time parameters a template may use
// ($delay_warning_time_hours) and their seconds.
var timeDivisors = []struct {
	suffix  string
	seconds int64
}{{"seconds", 1}, {"minutes", 60}, {"hours", 3600}, {"days", 86400}, {"weeks", 604800}}

// TimeVars returns the template variables derived from the two time
// parameters, e.g. delay_warning_time_hours, as whole units (rounded
// down). Postfix's warnings for a result of zero or over 999 go to warn.
func TimeVars(t *Template, delayWarning, maxLifetime time.Duration, warn func(string)) map[string]string {
	vars := map[string]string{}
	used := strings.Join(t.Text, "\n")
	for _, p := range []struct {
		name  string
		value time.Duration
	}{{"delay_warning_time", delayWarning}, {"maximal_queue_lifetime", maxLifetime}} {
		secs := int64(p.value / time.Second)
		for _, d := range timeDivisors {
			key := p.name + "_" + d.suffix
			result := secs / d.seconds
			vars[key] = strconv.FormatInt(result, 10)
			if warn == nil || !strings.Contains(used, key) {
				continue
			}
			switch {
			case result > 999 && d.seconds < 86400:
				warn(fmt.Sprintf("%s: excessive result \"%d\" in %s template conversion of parameter \"%s\"", t.Origin, result, t.Class, key))
				warn(fmt.Sprintf("please increase time unit \"%s\" of \"%s\" in %s template", d.suffix, key, t.Class))
				warn("for instructions see the bounce(5) manual")
			case result == 0 && secs != 0 && d.seconds > 1:
				warn(fmt.Sprintf("%s: zero result in %s template conversion of parameter \"%s\"", t.Origin, t.Class, key))
				warn(fmt.Sprintf("please reduce time unit \"%s\" of \"%s\" in %s template", d.suffix, key, t.Class))
				warn("for instructions see the bounce(5) manual")
			}
		}
	}
	return vars
}

// Expand returns the template's message text with $name expanded by
// expand (main.cf parameters and vars), one "\n"-ended line per template
// line.
func (t *Template) Expand(expand func(text string) (string, error)) (string, error) {
	var b strings.Builder
	for _, line := range t.Text {
		x, err := expand(line)
		if errors.Is(err, errUndefined) {
			return "", fmt.Errorf("%s: undefined $name in %s template: %s", t.Origin, t.Class, line)
		}
		if err != nil {
			return "", fmt.Errorf("%s: bad $name syntax in %s template: %s", t.Origin, t.Class, line)
		}
		b.WriteString(x)
		b.WriteString("\n")
	}
	return b.String(), nil
}

// WriteExpanded prints the templates' expanded texts as postconf -b does;
// expand gives a template's text (ExpandTemplate).
func (ts *Templates) WriteExpanded(w io.Writer, expand func(t *Template) (string, error)) error {
	for i, class := range classes {
		text, err := expand(*ts.byClass(class))
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "expanded_%s_text = <<EOF\n%sEOF\n%s", class, text, separator(i)); err != nil {
			return err
		}
	}
	return nil
}

// WriteTemplates prints the templates as postconf -t does: every header
// with its value, then the text unexpanded.
func (ts *Templates) WriteTemplates(w io.Writer) error {
	for i, class := range classes {
		t := *ts.byClass(class)
		var b strings.Builder
		fmt.Fprintf(&b, "%s_template = <<EOF\nCharset: %s\nFrom: %s\nSubject: %s\n", class, t.Charset, t.From, t.Subject)
		if t.PostmasterSubject != "" {
			fmt.Fprintf(&b, "Postmaster-Subject: %s\n", t.PostmasterSubject)
		}
		fmt.Fprintf(&b, "\n%s\nEOF\n%s", strings.Join(t.Text, "\n"), separator(i))
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// separator is the blank line between two templates in postconf's output.
func separator(i int) string {
	if i == len(classes)-1 {
		return ""
	}
	return "\n"
}
