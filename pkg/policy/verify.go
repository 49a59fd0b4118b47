// reject_unverified_recipient and reject_unverified_sender: the address
// is looked up in the verify service, which probes it through the
// delivery path when it does not know it yet.

package policy

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/resolve"
	"github.com/postern/postern/pkg/verify"
)

// verifySettings are the parameters of the two restrictions.
type verifySettings struct {
	Service   string        `param:"address_verify_service_name"`
	PollCount int           `param:"address_verify_poll_count"`
	PollDelay time.Duration `param:"address_verify_poll_delay"`

	RcptDeferCode    int    `param:"unverified_recipient_defer_code"`
	RcptRejectCode   int    `param:"unverified_recipient_reject_code"`
	RcptTempfail     string `param:"unverified_recipient_tempfail_action"`
	RcptReason       string `param:"unverified_recipient_reject_reason"`
	SenderDeferCode  int    `param:"unverified_sender_defer_code"`
	SenderRejectCode int    `param:"unverified_sender_reject_code"`
	SenderTempfail   string `param:"unverified_sender_tempfail_action"`
	SenderReason     string `param:"unverified_sender_reject_reason"`
}

// verifyChecker asks the verify service, and knows the probe sender.
type verifyChecker struct {
	set         verifySettings
	client      *verify.Client
	probeSender verify.ProbeSenderMatcher
}

// read fills the settings; the service's socket is relative to the
// queue directory, smtpd's working directory. The probe sender is
// address_verify_sender rewritten as a recipient is (user@$myorigin).
func (v *verifyChecker) read(cfg *config.Config, r *resolve.Resolver) error {
	if err := cfg.Fill(&v.set); err != nil {
		return err
	}
	v.client = &verify.Client{Path: filepath.Join(verify.ServiceDir, v.set.Service)}
	vs, err := verify.FromConfig(cfg)
	if err != nil {
		return err
	}
	v.probeSender.TTL = vs.SenderTTL
	if vs.Sender != "" && vs.Sender != "<>" && r != nil {
		res, err := r.Resolve(vs.Sender)
		if err != nil {
			return fmt.Errorf("address_verify_sender %s: %w", vs.Sender, err)
		}
		v.probeSender.Canonical = res.Recipient
	}
	return nil
}

// unverified implements both restrictions for address, the sender or
// the recipient as the client gave it (ctx says which). A status still
// unknown is asked again up to address_verify_poll_count times,
// address_verify_poll_delay apart, so that a quick probe decides this
// very command.
func (e *evaluation) unverified(address string, ctx replyContext) Decision {
	c := e.c
	v := &c.verify
	deferCode, rejectCode, tempfail, reason, dsn := v.set.RcptDeferCode, v.set.RcptRejectCode, v.set.RcptTempfail, v.set.RcptReason, "4.1.1"
	if ctx.class == classSender {
		deferCode, rejectCode, tempfail, reason, dsn = v.set.SenderDeferCode, v.set.SenderRejectCode, v.set.SenderTempfail, v.set.SenderReason, "4.1.7"
	}
	var (
		status verify.Status
		why    string
		err    error
	)
	for count := 0; ; {
		status, why, err = v.client.Query(context.Background(), address)
		if err != nil || status != verify.StatusTodo {
			break
		}
		if count++; count >= v.set.PollCount {
			break
		}
		c.sleep(v.set.PollDelay)
	}
	if err != nil {
		c.warn(v.set.Service + " service failure")
		return e.tempfail(tempfail, reject(450, dsn, ctx, "address verification problem"))
	}
	code := 0
	switch status {
	case verify.StatusTodo, verify.StatusDefer:
		code = deferCode
	case verify.StatusBounce:
		code = rejectCode
	}
	if code >= 400 && reason != "" {
		why = reason
	}
	switch code / 100 {
	case 4:
		return e.tempfail(tempfail, reject(code, dsn, ctx, fmt.Sprintf("unverified address: %.250s", why)))
	case 5:
		return reject(code, dsn, ctx, "undeliverable address: "+why)
	}
	return Decision{}
}
