// Package milter is the MTA side of the Sendmail milter protocol (v6,
// on github.com/d--j/go-milter) as Postfix speaks it. A Chain holds one
// session per milter of a list (smtpd_milters, non_smtpd_milters) for
// one SMTP session: smtpd sends each event (connect, HELO, MAIL, RCPT,
// DATA) at its command with Postfix's macros, and the content stages
// (headers, body, end of message) run one milter at a time, so that each
// sees what the previous ones changed.
package milter

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	gomilter "github.com/d--j/go-milter"

	"github.com/postern/postern/pkg/config"
)

// Settings are the milter_* parameters.
type Settings struct {
	ConnectTimeout time.Duration `param:"milter_connect_timeout"`
	CommandTimeout time.Duration `param:"milter_command_timeout"`
	ContentTimeout time.Duration `param:"milter_content_timeout"`
	// DefaultAction is milter_default_action: accept, reject, tempfail
	// or quarantine, for a milter that cannot be reached or fails.
	DefaultAction string `param:"milter_default_action"`
	Protocol      uint32 // milter_protocol
	// Macros are the macro names sent at each stage
	// (milter_connect_macros, ...), by stage.
	Macros map[gomilter.MacroStage][]gomilter.MacroName
	// MacroDefaults is milter_macro_defaults: values for macros that
	// have none of their own.
	MacroDefaults map[string]string
	DaemonName    string `param:"milter_macro_daemon_name"`
	Version       string `param:"milter_macro_v"`
	MyHostname    string `param:"myhostname"`
}

// FromConfig reads the milter_* parameters.
func FromConfig(cfg *config.Config) (*Settings, error) {
	s := &Settings{Macros: map[gomilter.MacroStage][]gomilter.MacroName{}, MacroDefaults: map[string]string{}}
	if err := cfg.Fill(s); err != nil {
		return nil, err
	}
	if err := checkDefaultAction(s.DefaultAction); err != nil {
		return nil, err
	}
	proto, err := cfg.Get("milter_protocol")
	if err != nil {
		return nil, err
	}
	if s.Protocol, err = parseProtocol(proto); err != nil {
		return nil, err
	}
	for _, m := range []struct {
		name  string
		stage gomilter.MacroStage
	}{
		{"milter_connect_macros", gomilter.StageConnect}, {"milter_helo_macros", gomilter.StageHelo},
		{"milter_mail_macros", gomilter.StageMail}, {"milter_rcpt_macros", gomilter.StageRcpt},
		{"milter_data_macros", gomilter.StageData}, {"milter_end_of_header_macros", gomilter.StageEOH},
		{"milter_end_of_data_macros", gomilter.StageEOM},
	} {
		names, err := cfg.List(m.name)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			s.Macros[m.stage] = append(s.Macros[m.stage], gomilter.MacroName(n))
		}
	}
	defaults, err := cfg.List("milter_macro_defaults")
	if err != nil {
		return nil, err
	}
	for _, d := range defaults {
		name, value, ok := strings.Cut(d, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("milter_macro_defaults: missing '=' after macro name in %q", d)
		}
		s.MacroDefaults[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return s, nil
}

func checkDefaultAction(a string) error {
	switch a {
	case "accept", "reject", "tempfail", "quarantine":
		return nil
	}
	return fmt.Errorf("bad milter_default_action value: %q", a)
}

// parseProtocol reads a milter_protocol value: 2 to 6, optionally with
// Postfix's "_no_header_reply" suffix.
func parseProtocol(v string) (uint32, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(v, "_no_header_reply"))
	if err != nil || n < 2 || n > 6 {
		return 0, fmt.Errorf("bad milter_protocol value: %q", v)
	}
	return uint32(n), nil
}

// Spec is one milter of a list with its own settings: the global ones,
// overridden by Postfix 3.0's "{ inet:host:port, name=value, ... }".
type Spec struct {
	// Name is the endpoint as written ("inet:127.0.0.1:8891"), which
	// log lines name.
	Name             string
	Network, Address string
	ConnectTimeout   time.Duration
	CommandTimeout   time.Duration
	ContentTimeout   time.Duration
	DefaultAction    string
	Protocol         uint32
}

// Specs parses a milter list (smtpd_milters, non_smtpd_milters, a
// smtpd_milter_maps result).
func (s *Settings) Specs(list string) ([]Spec, error) {
	var specs []Spec
	for _, item := range config.SplitList(list) {
		sp, err := s.spec(item)
		if err != nil {
			return nil, err
		}
		specs = append(specs, sp)
	}
	return specs, nil
}

// spec parses one milter of a list.
func (s *Settings) spec(item string) (Spec, error) {
	sp := Spec{ConnectTimeout: s.ConnectTimeout, CommandTimeout: s.CommandTimeout, ContentTimeout: s.ContentTimeout,
		DefaultAction: s.DefaultAction, Protocol: s.Protocol}
	fields := []string{item}
	if strings.HasPrefix(item, "{") {
		if !strings.HasSuffix(item, "}") {
			return sp, fmt.Errorf("missing '}' in milter list item %q", item)
		}
		fields = nil
		for _, f := range strings.Split(item[1:len(item)-1], ",") {
			if f = strings.TrimSpace(f); f != "" {
				fields = append(fields, f)
			}
		}
		if len(fields) == 0 {
			return sp, fmt.Errorf("empty milter list item %q", item)
		}
	}
	sp.Name = fields[0]
	var err error
	if sp.Network, sp.Address, err = endpoint(sp.Name); err != nil {
		return sp, err
	}
	for _, f := range fields[1:] {
		name, value, ok := strings.Cut(f, "=")
		if !ok {
			return sp, fmt.Errorf("missing '=' in milter attribute %q of %q", f, item)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		switch name {
		case "connect_timeout", "command_timeout", "content_timeout":
			param, _ := config.Lookup("milter_" + name)
			d, err := param.Time(value)
			if err != nil {
				return sp, fmt.Errorf("bad %s value in %q: %w", name, item, err)
			}
			switch name {
			case "connect_timeout":
				sp.ConnectTimeout = d
			case "command_timeout":
				sp.CommandTimeout = d
			default:
				sp.ContentTimeout = d
			}
		case "default_action":
			if err := checkDefaultAction(value); err != nil {
				return sp, err
			}
			sp.DefaultAction = value
		case "protocol":
			if sp.Protocol, err = parseProtocol(value); err != nil {
				return sp, err
			}
		default:
			return sp, fmt.Errorf("unknown milter attribute %q in %q", name, item)
		}
	}
	return sp, nil
}

// endpoint turns "inet:host:port", "unix:/path" or "/path" into a
// network and address.
func endpoint(spec string) (network, address string, err error) {
	switch {
	case strings.HasPrefix(spec, "inet:"):
		return "tcp", strings.TrimPrefix(spec, "inet:"), nil
	case strings.HasPrefix(spec, "inet6:"):
		return "tcp6", strings.TrimPrefix(spec, "inet6:"), nil
	case strings.HasPrefix(spec, "unix:"):
		return "unix", strings.TrimPrefix(spec, "unix:"), nil
	case strings.HasPrefix(spec, "local:"):
		return "unix", strings.TrimPrefix(spec, "local:"), nil
	case strings.HasPrefix(spec, "/"):
		return "unix", spec, nil
	}
	return "", "", fmt.Errorf("unsupported milter endpoint: %q", spec)
}

// Header is one message header as a milter sees it: its name and its
// value as written after the colon (leading white space included), with
// the line breaks of a folded header kept as "\n".
type Header struct {
	Name, Value string
}

// Message is what the content stages inspect and the edits change: the
// envelope as the milters saw it at MAIL and RCPT, and the content.
type Message struct {
	QueueID    string
	Sender     string
	Recipients []string
	Headers    []Header
	Body       []byte // LF line ends
}

// Verdict is a milter's answer to an event or to the content.
type Verdict struct {
	// Reply is the complete SMTP reply of a rejection ("550 5.7.1 text",
	// "451 4.7.1 ..."); "" when the mail goes on.
	Reply   string
	Discard bool
	// Hold is set by a quarantine action or by milter_default_action =
	// quarantine; HoldReason is its text.
	Hold       bool
	HoldReason string
}

// Stop reports whether the verdict ends the command or the message.
func (v Verdict) Stop() bool { return v.Reply != "" || v.Discard }

// Postfix's replies for the milter actions without a text of their own.
const (
	replyReject   = "550 5.7.1 Command rejected"
	replyTempfail = "451 4.7.1 Service unavailable - try again later"
	holdDefault   = "milter triggers HOLD action"
)

// Warner logs warnings.
type Warner interface {
	Warning(format string, args ...any)
}

// errText is the reason of a connection failure, as Postfix logs it.
func errText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		text := op.Err.Error()
		if i := strings.LastIndex(text, ": "); i >= 0 {
			text = text[i+2:]
		}
		if text != "" {
			return strings.ToUpper(text[:1]) + text[1:]
		}
	}
	return err.Error()
}
