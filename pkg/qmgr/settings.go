// The queue manager's main.cf parameters.
package qmgr

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
)

// Settings are the parameters the queue manager uses.
type Settings struct {
	MyHostname string // myhostname: the DSN's host and Reporting-MTA

	QueueRunDelay      time.Duration // queue_run_delay: deferred queue scans
	MinimalBackoff     time.Duration // minimal_backoff_time
	MaximalBackoff     time.Duration // maximal_backoff_time
	MaximalLifetime    time.Duration // maximal_queue_lifetime
	BounceLifetime     time.Duration // bounce_queue_lifetime, for null-sender mail
	ActiveLimit        int           // qmgr_message_active_limit
	InitialConcurrency int           // initial_destination_concurrency
	ReturnSizeLimit    int64         // bounce_size_limit: the most of the message a notification returns
	DoubleBounceSender string        // double_bounce_sender@myhostname
	DoubleBounceNotice string        // 2bounce_notice_recipient
	// NotifyBounces is true when notify_classes has bounce or 2bounce:
	// an undeliverable bounce then goes to DoubleBounceNotice.
	NotifyBounces bool

	// ConcurrencyLimit and RecipientLimit give a transport's
	// <transport>_destination_concurrency_limit and
	// <transport>_destination_recipient_limit, falling back to the
	// default_ parameters (0 = no limit).
	ConcurrencyLimit func(transport string) int
	RecipientLimit   func(transport string) int
}

// FromConfig reads the queue manager's parameters from cfg.
func FromConfig(cfg *config.Config) (*Settings, error) {
	s := &Settings{}
	var err error
	if s.MyHostname, err = cfg.Get("myhostname"); err != nil {
		return nil, err
	}
	durations := []struct {
		name string
		unit byte
		dst  *time.Duration
	}{
		{"queue_run_delay", 's', &s.QueueRunDelay},
		{"minimal_backoff_time", 's', &s.MinimalBackoff},
		{"maximal_backoff_time", 's', &s.MaximalBackoff},
		{"maximal_queue_lifetime", 'd', &s.MaximalLifetime},
		{"bounce_queue_lifetime", 'd', &s.BounceLifetime},
	}
	for _, d := range durations {
		if *d.dst, err = cfg.Duration(d.name, d.unit); err != nil {
			return nil, err
		}
	}
	ints := []struct {
		name string
		dst  *int
	}{
		{"qmgr_message_active_limit", &s.ActiveLimit},
		{"initial_destination_concurrency", &s.InitialConcurrency},
	}
	for _, p := range ints {
		if *p.dst, err = cfg.Int(p.name); err != nil {
			return nil, err
		}
	}
	if s.ReturnSizeLimit, err = cfg.Size("bounce_size_limit"); err != nil {
		return nil, err
	}
	sender, err := cfg.Get("double_bounce_sender")
	if err != nil {
		return nil, err
	}
	s.DoubleBounceSender = sender + "@" + s.MyHostname
	if s.DoubleBounceNotice, err = cfg.Get("2bounce_notice_recipient"); err != nil {
		return nil, err
	}
	classes, err := cfg.List("notify_classes")
	if err != nil {
		return nil, err
	}
	for _, c := range classes {
		if c := strings.ToLower(c); c == "bounce" || c == "2bounce" {
			s.NotifyBounces = true
		}
	}
	if s.ConcurrencyLimit, err = perTransport(cfg, "_destination_concurrency_limit"); err != nil {
		return nil, err
	}
	if s.RecipientLimit, err = perTransport(cfg, "_destination_recipient_limit"); err != nil {
		return nil, err
	}
	return s, nil
}

// perTransport returns a lookup of <transport>SUFFIX with default_SUFFIX
// as the fallback. The default is checked now; a bad per-transport value
// falls back to it.
func perTransport(cfg *config.Config, suffix string) (func(string) int, error) {
	def, err := cfg.Int("default" + suffix)
	if err != nil {
		return nil, err
	}
	return func(transport string) int {
		v, err := cfg.Get(transport + suffix)
		if err != nil || v == "" {
			return def
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return def
		}
		return n
	}, nil
}

// lifetime returns how long a message from sender may stay queued.
func (s *Settings) lifetime(sender string) time.Duration {
	if sender == "" {
		return s.BounceLifetime
	}
	return s.MaximalLifetime
}

// validate rejects settings the queue manager cannot run with.
func (s *Settings) validate() error {
	if s.MinimalBackoff <= 0 || s.MaximalBackoff < s.MinimalBackoff {
		return fmt.Errorf("minimal_backoff_time (%v) must be positive and not above maximal_backoff_time (%v)", s.MinimalBackoff, s.MaximalBackoff)
	}
	if s.QueueRunDelay <= 0 {
		return fmt.Errorf("queue_run_delay must be positive")
	}
	return nil
}
