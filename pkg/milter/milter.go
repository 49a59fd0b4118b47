// Package milter is the MTA side of the Sendmail milter protocol (v6,
// on github.com/d--j/go-milter) as Postfix speaks it: one message is run
// through a list of milters (smtpd_milters or non_smtpd_milters), stage
// by stage with Postfix's macros, and each milter's modifications
// (headers, body, recipients, sender, quarantine) are applied before the
// next one sees the message.
package milter

import (
	"bytes"
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
	Macros     map[gomilter.MacroStage][]gomilter.MacroName
	DaemonName string `param:"milter_macro_daemon_name"`
	Version    string `param:"milter_macro_v"`
	MyHostname string `param:"myhostname"`
}

// FromConfig reads the milter_* parameters.
func FromConfig(cfg *config.Config) (*Settings, error) {
	s := &Settings{Macros: map[gomilter.MacroStage][]gomilter.MacroName{}}
	if err := cfg.Fill(s); err != nil {
		return nil, err
	}
	switch s.DefaultAction {
	case "accept", "reject", "tempfail", "quarantine":
	default:
		return nil, fmt.Errorf("bad milter_default_action value: %q", s.DefaultAction)
	}
	proto, err := cfg.Get("milter_protocol")
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(proto, "_no_header_reply"))
	if err != nil || n < 2 || n > 6 {
		return nil, fmt.Errorf("bad milter_protocol value: %q", proto)
	}
	s.Protocol = uint32(n)
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
	return s, nil
}

// Header is one message header as a milter sees it: its name and its
// value with the line breaks of a folded header kept.
type Header struct {
	Name, Value string
}

// Message is what the milters inspect and may change.
type Message struct {
	QueueID string
	// The SMTP client; a local submission is localhost/127.0.0.1.
	ClientName, ClientAddr, ClientPort, Helo string
	Protocol                                 string // ESMTP, SMTP, ...
	SASLMethod, SASLUsername                 string
	Sender                                   string
	Recipients                               []string
	Headers                                  []Header
	Body                                     []byte
}

// Verdict is the outcome of a message's run through the milters.
type Verdict struct {
	// Reply is the complete SMTP reply of a rejection ("550 5.7.1 text",
	// "451 4.7.1 ..."); "" when the message goes on.
	Reply   string
	Discard bool
	// Hold is set by a quarantine action; HoldReason is its text.
	Hold       bool
	HoldReason string
	// Changed is true when a milter modified the message.
	Changed bool
}

// Postfix's replies for the milter actions without a text of their own.
const (
	replyReject   = "550 5.7.1 Command rejected"
	replyTempfail = "451 4.7.1 Service unavailable - try again later"
)

// Warner logs warnings.
type Warner interface {
	Warning(format string, args ...any)
}

// Run runs m through the milters named by specs ("inet:host:port",
// "unix:/path"), in order, applying the modifications of each to m.
func Run(s *Settings, specs []string, m *Message, log Warner) Verdict {
	var v Verdict
	for _, spec := range specs {
		stop := s.runOne(spec, m, &v, log)
		if stop || v.Reply != "" || v.Discard {
			break
		}
	}
	return v
}

// failed applies milter_default_action to a milter that cannot be used.
func (s *Settings) failed(v *Verdict) bool {
	switch s.DefaultAction {
	case "accept":
		return false
	case "reject":
		v.Reply = replyReject
	case "quarantine":
		v.Hold, v.HoldReason = true, "milter triggers HOLD action"
		return false
	default:
		v.Reply = replyTempfail
	}
	return true
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

// runOne runs m through one milter; stop is true when the milter
// ended the processing (accept for this message counts as done).
func (s *Settings) runOne(spec string, m *Message, v *Verdict, log Warner) (stop bool) {
	network, address, err := endpoint(spec)
	if err != nil {
		log.Warning("%v", err)
		return s.failed(v)
	}
	macros := s.macroBag(m)
	client := gomilter.NewClient(network, address,
		gomilter.WithDialer(&net.Dialer{Timeout: s.ConnectTimeout}),
		gomilter.WithReadTimeout(s.ContentTimeout), gomilter.WithWriteTimeout(s.CommandTimeout),
		gomilter.WithMaximumVersion(s.Protocol),
		gomilter.WithActions(gomilter.AllClientSupportedActionMasks),
		gomilter.WithoutDefaultMacros(),
		gomilter.WithMacroRequest(gomilter.StageConnect, s.Macros[gomilter.StageConnect]),
		gomilter.WithMacroRequest(gomilter.StageHelo, s.Macros[gomilter.StageHelo]),
		gomilter.WithMacroRequest(gomilter.StageMail, s.Macros[gomilter.StageMail]),
		gomilter.WithMacroRequest(gomilter.StageRcpt, s.Macros[gomilter.StageRcpt]),
		gomilter.WithMacroRequest(gomilter.StageData, s.Macros[gomilter.StageData]),
		gomilter.WithMacroRequest(gomilter.StageEOH, s.Macros[gomilter.StageEOH]),
		gomilter.WithMacroRequest(gomilter.StageEOM, s.Macros[gomilter.StageEOM]),
	)
	session, err := client.Session(macros)
	if err != nil {
		log.Warning("connect to Milter service %s: %s", spec, errText(err))
		return s.failed(v)
	}
	defer session.Close()
	res, err := s.converse(session, macros, m)
	if err != nil {
		log.Warning("milter %s: %v", spec, err)
		return s.failed(v)
	}
	switch {
	case res.act == nil:
	case res.act.Type == gomilter.ActionDiscard:
		v.Discard = true
		return true
	case res.act.Type == gomilter.ActionReject:
		v.Reply = replyReject
		return true
	case res.act.Type == gomilter.ActionTempFail:
		v.Reply = replyTempfail
		return true
	case res.act.Type == gomilter.ActionRejectWithCode:
		v.Reply = strings.ReplaceAll(strings.TrimRight(res.act.SMTPReply, "\r\n"), "\r\n", " ")
		return true
	case res.act.Type == gomilter.ActionAccept:
		// accepted without looking further: the modifications so far
		// still apply
	}
	if len(res.mods) > 0 {
		v.Changed = true
		apply(m, res.mods, v, session.ProtocolOption(gomilter.OptHeaderLeadingSpace))
	}
	return false
}

type result struct {
	act  *gomilter.Action
	mods []gomilter.ModifyAction
}

// stopped reports whether act ends the conversation.
func stopped(act *gomilter.Action) bool {
	return act != nil && (act.StopProcessing() || act.Type == gomilter.ActionDiscard || act.Type == gomilter.ActionAccept)
}

// converse runs the stages; a non-continue action ends it early.
func (s *Settings) converse(cs *gomilter.ClientSession, macros *gomilter.MacroBag, m *Message) (result, error) {
	family := gomilter.FamilyInet
	addr := m.ClientAddr
	if strings.Contains(addr, ":") {
		family = gomilter.FamilyInet6
	}
	port, _ := strconv.Atoi(m.ClientPort)
	act, err := cs.Conn(m.ClientName, family, uint16(port), addr)
	if err != nil || stopped(act) {
		return result{act: act}, err
	}
	if act, err = cs.Helo(m.Helo); err != nil || stopped(act) {
		return result{act: act}, err
	}
	macros.Set(gomilter.MacroMailAddr, m.Sender)
	macros.Set(gomilter.MacroMailHost, domainOf(m.Sender))
	macros.Set(gomilter.MacroMailMailer, "smtp")
	if act, err = cs.Mail("<"+m.Sender+">", ""); err != nil || stopped(act) {
		return result{act: act}, err
	}
	for _, r := range m.Recipients {
		macros.Set(gomilter.MacroRcptAddr, r)
		macros.Set(gomilter.MacroRcptHost, domainOf(r))
		macros.Set(gomilter.MacroRcptMailer, "smtp")
		act, err = cs.Rcpt("<"+r+">", "")
		if err != nil || stopped(act) {
			return result{act: act}, err
		}
	}
	macros.Set(gomilter.MacroQueueId, m.QueueID)
	if act, err = cs.DataStart(); err != nil || stopped(act) {
		return result{act: act}, err
	}
	leadSpace := cs.ProtocolOption(gomilter.OptHeaderLeadingSpace)
	for _, h := range m.Headers {
		value := h.Value
		if !leadSpace {
			value = strings.TrimPrefix(value, " ")
		}
		if act, err = cs.HeaderField(h.Name, value, nil); err != nil || stopped(act) {
			return result{act: act}, err
		}
	}
	if act, err = cs.HeaderEnd(); err != nil || stopped(act) {
		return result{act: act}, err
	}
	body := bytes.ReplaceAll(m.Body, []byte("\n"), []byte("\r\n"))
	mods, act, err := cs.BodyReadFrom(bytes.NewReader(body))
	return result{act: act, mods: mods}, err
}

// macroBag holds the macros Postfix gives milters, with its values.
func (s *Settings) macroBag(m *Message) *gomilter.MacroBag {
	b := gomilter.NewMacroBag()
	b.Set(gomilter.MacroMTAFQDN, s.MyHostname)
	b.Set(gomilter.MacroDaemonName, s.DaemonName)
	b.Set(gomilter.MacroMTAVersion, s.Version)
	b.Set(gomilter.MacroClientAddr, m.ClientAddr)
	b.Set(gomilter.MacroClientPort, m.ClientPort)
	b.Set(gomilter.MacroClientName, m.ClientName)
	b.Set(gomilter.MacroClientPTR, m.ClientName)
	b.Set(gomilter.MacroSenderHostName, m.ClientName)
	b.Set(gomilter.MacroProtocolUsed, m.Protocol)
	b.Set(gomilter.MacroName("{client_resolve}"), "OK")
	if m.SASLMethod != "" {
		b.Set(gomilter.MacroAuthType, m.SASLMethod)
		b.Set(gomilter.MacroAuthAuthen, m.SASLUsername)
	}
	return b
}

func domainOf(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[i+1:]
	}
	return ""
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
