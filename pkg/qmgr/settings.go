// The queue manager's main.cf parameters.

package qmgr

import (
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
)

// Settings are the parameters the queue manager uses.
type Settings struct {
	MyHostname string `param:"myhostname"` // the DSN's host and Reporting-MTA

	QueueRunDelay   time.Duration `param:"queue_run_delay"` // deferred queue scans
	MinimalBackoff  time.Duration `param:"minimal_backoff_time"`
	MaximalBackoff  time.Duration `param:"maximal_backoff_time"`
	MaximalLifetime time.Duration `param:"maximal_queue_lifetime"`
	BounceLifetime  time.Duration `param:"bounce_queue_lifetime"` // for null-sender mail
	ActiveLimit     int           `param:"qmgr_message_active_limit"`
	// RecipientsInMemory is qmgr_message_recipient_limit: the scans
	// take no new message while the active messages hold this many
	// pending recipients (a message being loaded counts as one), unless
	// the active queue is empty. A message is loaded whole.
	RecipientsInMemory int `param:"qmgr_message_recipient_limit"`
	// PendingProbeLimit is address_verify_pending_request_limit: probes
	// beyond this many in the active queue are deferred at once.
	PendingProbeLimit  int `param:"address_verify_pending_request_limit"`
	InitialConcurrency int `param:"initial_destination_concurrency"`
	// ReturnSizeLimit is bounce_size_limit: the most of the message a
	// notification returns.
	ReturnSizeLimit    int64  `param:"bounce_size_limit"`
	DoubleBounceSender string // double_bounce_sender@myhostname
	DoubleBounceNotice string `param:"2bounce_notice_recipient"`
	// NotifyBounces is true when notify_classes has bounce or 2bounce:
	// an undeliverable bounce then goes to DoubleBounceNotice.
	NotifyBounces bool
	// Notify holds the parameters of notices: delay_warning_time,
	// notify_classes, the postmaster copies' recipients and templates.
	Notify NoticeSettings
	// DefaultFilterNexthop is default_filter_nexthop: the next hop of a
	// content filter given without one ("" = the recipient's domain).
	DefaultFilterNexthop string `param:"default_filter_nexthop"`
	// DeferTransports is defer_transports: recipients routed to these
	// transports are deferred without an attempt, except during a flush
	// (postqueue -f, sendmail -q).
	DeferTransports []string `param:"defer_transports"`
	// TransportRetryTime is transport_retry_time: how long a transport
	// whose delivery agent could not be reached is not tried.
	TransportRetryTime time.Duration `param:"transport_retry_time"`

	// ConcurrencyLimit and RecipientLimit give a transport's
	// <transport>_destination_concurrency_limit and
	// <transport>_destination_recipient_limit, falling back to the
	// default_ parameters (0 = no limit).
	ConcurrencyLimit func(transport string) int
	RecipientLimit   func(transport string) int
}

// derivedParams are the parameters FromConfig combines into Settings.
type derivedParams struct {
	DoubleBounceSender string   `param:"double_bounce_sender"`
	NotifyClasses      []string `param:"notify_classes"`
	Defaults           transportLimits
}

// transportLimits are the per-transport parameters, or their defaults.
type transportLimits struct {
	Concurrency int `param:"_destination_concurrency_limit"`
	Recipients  int `param:"_destination_recipient_limit"`
}

// FromConfig reads the queue manager's parameters from cfg.
func FromConfig(cfg *config.Config) (*Settings, error) {
	s := &Settings{}
	var p derivedParams
	if err := cfg.Fill(s); err != nil {
		return nil, err
	}
	if err := cfg.FillTransport("default", &p); err != nil {
		return nil, err
	}
	s.DoubleBounceSender = p.DoubleBounceSender + "@" + s.MyHostname
	for _, c := range p.NotifyClasses {
		if c := strings.ToLower(c); c == "bounce" || c == "2bounce" {
			s.NotifyBounces = true
		}
	}
	s.Notify.loadNotices(cfg)
	limits := func(transport string) transportLimits {
		var l transportLimits
		if cfg.FillTransport(transport, &l) != nil {
			return p.Defaults // a bad per-transport value: the defaults
		}
		return l
	}
	s.ConcurrencyLimit = func(t string) int { return limits(t).Concurrency }
	s.RecipientLimit = func(t string) int { return limits(t).Recipients }
	return s, nil
}

// deferredTransport reports whether defer_transports holds transport.
func (s *Settings) deferredTransport(transport string) bool {
	for _, t := range s.DeferTransports {
		if t == transport {
			return true
		}
	}
	return false
}

// lifetime returns how long a message from sender may stay queued.
func (s *Settings) lifetime(sender string) time.Duration {
	if sender == "" {
		return s.BounceLifetime
	}
	return s.MaximalLifetime
}

// validate rejects settings the queue manager cannot run with (main.cf's
// values are already checked against their bounds when read) and, as
// Postfix's qmgr does, adjusts a bounce_queue_lifetime above
// maximal_queue_lifetime with a warning. minimal_backoff_time above
// maximal_backoff_time is no error: Backoff lets the minimal time win.
func (s *Settings) validate(warn func(format string, args ...any)) error {
	if s.MinimalBackoff <= 0 || s.MaximalBackoff <= 0 {
		return fmt.Errorf("minimal_backoff_time (%v) and maximal_backoff_time (%v) must be positive", s.MinimalBackoff, s.MaximalBackoff)
	}
	for _, w := range s.Notify.warnings {
		warn("%s", w)
	}
	if s.QueueRunDelay <= 0 {
		return fmt.Errorf("queue_run_delay must be positive")
	}
	if s.BounceLifetime > s.MaximalLifetime {
		warn("bounce_queue_lifetime is larger than maximal_queue_lifetime - adjusting bounce_queue_lifetime")
		s.BounceLifetime = s.MaximalLifetime
	}
	return nil
}
