// One authentication: AUTH with an optional initial response, CONT rounds,
// OK or FAIL, and cancellation.

package sasl

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Request starts an authentication.
type Request struct {
	Mechanism string // as the SMTP client named it
	Service   string // smtpd_sasl_service, "smtp"
	LocalIP   string // the server address the client connected to
	RemoteIP  string // the client address
	Secured   bool   // the SMTP session is encrypted (TLS)
	// InitialResponse is the base64 text after the mechanism in
	// "AUTH PLAIN dGVzdA..."; HasInitial tells "" from absent.
	InitialResponse string
	HasInitial      bool
}

// Status is the state an authentication step ends in.
type Status int

// The outcomes of a step.
const (
	Continue Status = iota // Dovecot sent a challenge: answer with Next
	Success                // authenticated as Reply.User
	Failure                // refused; Reply.Reason says why, if Dovecot said
)

// Reply is the outcome of one step.
type Reply struct {
	Status    Status
	Challenge string // base64 challenge for Continue ("" is an empty one)
	User      string // the authenticated (or attempted) user name
	Reason    string // reason= of a FAIL, or the local refusal's text
	Temporary bool   // FAIL carried the "temp" flag
	// Local is set on a refusal decided here (unknown mechanism, bad
	// base64) that never reached Dovecot.
	Local bool
}

// Texts of refusals decided here, as Postfix words them.
const (
	TextInvalidMechanism       = "Invalid authentication mechanism"
	textInvalidInitialBase64   = "Invalid base64 data in initial response"
	textInvalidContinuedBase64 = "Invalid base64 data in continued response"
)

// Exchange is an authentication in progress.
type Exchange struct {
	c    *Client
	cn   *conn
	id   uint32
	ch   chan reply
	done bool
}

// Begin sends AUTH. Mechanisms Dovecot did not announce and initial
// responses that are not base64 are refused here (Dovecot drops a client
// that asks for an unknown mechanism). An error means Dovecot could not
// be reached (*UnavailableError) or ctx ended.
func (c *Client) Begin(ctx context.Context, req Request) (*Exchange, Reply, error) {
	mech := strings.ToUpper(req.Mechanism)
	if req.HasInitial && !isBase64(req.InitialResponse) {
		return nil, Reply{Status: Failure, Reason: textInvalidInitialBase64, Local: true}, nil
	}
	// A connection that died unnoticed (Dovecot restarted) fails the
	// write: dial once more, as Postfix does.
	for attempt := 0; ; attempt++ {
		cn, err := c.connection(ctx)
		if err != nil {
			return nil, Reply{}, err
		}
		if !offered(cn.mechs, mech) {
			return nil, Reply{Status: Failure, Reason: TextInvalidMechanism, Local: true}, nil
		}
		x := &Exchange{c: c, cn: cn, id: c.nextID()}
		x.ch = cn.register(x.id)
		if err := cn.send(authLine(x.id, mech, req), c.timeout); err != nil {
			cn.unregister(x.id)
			if attempt == 0 {
				continue
			}
			return nil, Reply{}, &UnavailableError{Text: textConnectionLost, Err: err}
		}
		r, err := x.await(ctx)
		return x, r, err
	}
}

// authLine is the AUTH request.
func authLine(id uint32, mech string, req Request) string {
	var b strings.Builder
	b.WriteString("AUTH\t" + strconv.FormatUint(uint64(id), 10) + "\t" + mech)
	b.WriteString("\tservice=" + escape(req.Service) + "\tnologin")
	if req.LocalIP != "" {
		b.WriteString("\tlip=" + escape(req.LocalIP))
	}
	if req.RemoteIP != "" {
		b.WriteString("\trip=" + escape(req.RemoteIP))
	}
	if req.Secured {
		b.WriteString("\tsecured")
	}
	if req.HasInitial {
		b.WriteString("\tresp=" + req.InitialResponse)
	}
	return b.String() + "\n"
}

// Next answers a challenge with the client's base64 response. A response
// that is not base64 ends the exchange with a Failure.
func (x *Exchange) Next(ctx context.Context, response string) (Reply, error) {
	if x.done {
		return Reply{}, errors.New("authentication already finished")
	}
	if !isBase64(response) {
		x.Cancel()
		return Reply{Status: Failure, Reason: textInvalidContinuedBase64, Local: true}, nil
	}
	if err := x.cn.send("CONT\t"+strconv.FormatUint(uint64(x.id), 10)+"\t"+response+"\n", x.c.timeout); err != nil {
		x.finish()
		return Reply{}, &UnavailableError{Text: textConnectionLost, Err: err}
	}
	return x.await(ctx)
}

// Cancel abandons the exchange (the SMTP client answered "*"), telling
// Dovecot to forget the request.
func (x *Exchange) Cancel() {
	if x.done {
		return
	}
	x.finish()
	x.cn.send("CANCEL\t"+strconv.FormatUint(uint64(x.id), 10)+"\n", x.c.timeout)
}

// await waits for the reply to the last line sent.
func (x *Exchange) await(ctx context.Context) (Reply, error) {
	r, err := x.cn.wait(ctx, x.ch, x.c.timeout)
	if err != nil {
		x.finish()
		return Reply{}, err
	}
	var rep Reply
	switch r.cmd {
	case "CONT":
		rep.Status = Continue
		if len(r.args) > 0 {
			rep.Challenge = r.args[0]
		}
		return rep, nil
	case "OK":
		rep.Status = Success
	default:
		rep.Status = Failure
	}
	x.finish()
	for _, a := range r.args {
		name, value, _ := strings.Cut(a, "=")
		switch name {
		case "user":
			rep.User = value
		case "reason":
			rep.Reason = value
		case "temp":
			rep.Temporary = true
		}
	}
	return rep, nil
}

// finish forgets the request.
func (x *Exchange) finish() {
	x.done = true
	x.cn.unregister(x.id)
}

// offered tells whether mech is among mechs.
func offered(mechs []Mechanism, mech string) bool {
	for _, m := range mechs {
		if m.Name == mech {
			return true
		}
	}
	return false
}

// isBase64 accepts the base64 alphabet, as Postfix checks before passing
// a response on (Dovecot decodes it).
func isBase64(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch == '+' || ch == '/' || ch == '=') {
			return false
		}
	}
	return true
}
