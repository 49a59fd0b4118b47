// fill_test.go checks the parameter declarations and Fill: conversion by
// kind, bounds, Postfix's error texts, -o overrides and per-transport
// parameters.

package config

import (
	"strings"
	"testing"
	"time"
)

func TestDeclarations(t *testing.T) {
	for _, tt := range []struct {
		name     string
		kind     Kind
		unit     byte
		min, max int64
	}{
		{"message_size_limit", KindLong, 0, 0, 0},
		{"hash_queue_depth", KindInt, 0, 1, 0},
		{"smtpd_timeout", KindTime, 's', 1, 0},
		{"maximal_queue_lifetime", KindTime, 'd', 0, 8640000},
		{"delay_warning_time", KindTime, 'h', 0, 0},
		{"disable_vrfy_command", KindBool, 0, 0, 0},
		{"smtpd_forbid_bare_newline_reject_code", KindInt, 0, 500, 599},
		{"myhostname", KindString, 0, 0, 0},
		{"lmtp_connect_timeout", KindTime, 's', 0, 0},
	} {
		p, ok := Lookup(tt.name)
		if !ok || p.Name != tt.name || p.Kind != tt.kind || p.Unit != tt.unit || p.Min != tt.min || p.Max != tt.max {
			t.Errorf("Lookup(%s) = %+v, %v", tt.name, p, ok)
		}
	}
	if p, _ := Lookup("mail_name"); p.Default != "Postern" {
		t.Errorf("mail_name default = %q, want Postern's", p.Default)
	}
	if _, ok := Lookup("no_such_parameter"); ok {
		t.Error("unknown parameter declared")
	}
}

func TestParamErrors(t *testing.T) {
	for _, tt := range []struct {
		setting, want string
	}{
		{"message_size_limit = 10x", "bad numerical configuration: message_size_limit = 10x"},
		{"message_size_limit = 10k", "bad numerical configuration: message_size_limit = 10k"},
		{"message_size_limit = 99999999999999999999", "bad numerical configuration: message_size_limit = 99999999999999999999"},
		{"message_size_limit =", "bad numerical configuration: message_size_limit = "},
		{"hash_queue_depth = 0", "invalid hash_queue_depth parameter value 0 < 1"},
		{"hash_queue_depth = 3000000000", "bad numerical configuration: hash_queue_depth = 3000000000"},
		{"smtpd_forbid_bare_newline_reject_code = 600", "invalid smtpd_forbid_bare_newline_reject_code parameter value 600 > 599"},
		{"smtpd_timeout = 5x", "parameter smtpd_timeout: bad time value or unit: 5x"},
		{"smtpd_timeout = -5", "parameter smtpd_timeout: bad time value or unit: -5"},
		{"smtpd_timeout = 0", "invalid smtpd_timeout: 0 (min 1)"},
		{"maximal_queue_lifetime = 101", "invalid maximal_queue_lifetime: 8726400 (max 8640000)"},
		{"maximal_queue_lifetime = 9999w", "parameter maximal_queue_lifetime: bad time value or unit: 9999w"},
		{"disable_vrfy_command = maybe", "bad boolean configuration: disable_vrfy_command = maybe"},
	} {
		name, value, _ := strings.Cut(tt.setting, " =")
		value = strings.TrimSpace(value)
		p, _ := Lookup(name)
		if err := p.Check(value); err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.setting, err, tt.want)
		}
	}
}

func TestParamValues(t *testing.T) {
	size, _ := Lookup("message_size_limit")
	for v, want := range map[string]int64{"0": 0, "-1": -1, " 25": 25, "+7": 7, "9223372036854775807": 1<<63 - 1} {
		if n, err := size.Int(v); err != nil || n != want {
			t.Errorf("message_size_limit %q = %d, %v", v, n, err)
		}
	}
	life, _ := Lookup("maximal_queue_lifetime")
	for v, want := range map[string]time.Duration{"5": 5 * 24 * time.Hour, "3h": 3 * time.Hour, "90s": 90 * time.Second, "2w": 14 * 24 * time.Hour, "1hour": time.Hour} {
		if d, err := life.Time(v); err != nil || d != want {
			t.Errorf("maximal_queue_lifetime %q = %v, %v", v, d, err)
		}
	}
	vrfy, _ := Lookup("disable_vrfy_command")
	if b, err := vrfy.Bool("YES"); err != nil || !b {
		t.Errorf("YES = %v, %v", b, err)
	}
}

type fillTarget struct {
	Hostname   string        `param:"myhostname"`
	Size       int64         `param:"message_size_limit"`
	Depth      int           `param:"hash_queue_depth"`
	Timeout    time.Duration `param:"smtpd_timeout"`
	Lifetime   time.Duration `param:"maximal_queue_lifetime"`
	VRFY       bool          `param:"disable_vrfy_command"`
	Networks   []string      `param:"mynetworks"`
	Forward    string        `param:"forward_path"`
	Raw        string        `param:"smtpd_banner,raw"`
	TLSLogging int           `param:"smtp_tls_loglevel"`
	Nested     struct {
		Delimiter string `param:"recipient_delimiter"`
	}
	untouched int
}

func TestFill(t *testing.T) {
	c := testConfig(t, "message_size_limit=2048", "smtpd_timeout=1m", "mynetworks=127.0.0.0/8, [::1]/128",
		"disable_vrfy_command=yes", "recipient_delimiter=+", "smtp_tls_loglevel=1")
	var s fillTarget
	if err := c.Fill(&s); err != nil {
		t.Fatal(err)
	}
	if s.Hostname != "mx.test.example" || s.Size != 2048 || s.Depth != 1 || s.Timeout != time.Minute ||
		s.Lifetime != 5*24*time.Hour || !s.VRFY || len(s.Networks) != 2 || s.Networks[1] != "[::1]/128" ||
		s.Forward != "$home/.forward${recipient_delimiter}${extension}, $home/.forward" ||
		s.TLSLogging != 1 || s.Nested.Delimiter != "+" || s.Raw != "$myhostname ESMTP $mail_name" {
		t.Errorf("filled %+v", s)
	}
}

func TestFillErrors(t *testing.T) {
	var s fillTarget
	if err := testConfig(t, "hash_queue_depth=0").Fill(&s); err == nil || err.Error() != "invalid hash_queue_depth parameter value 0 < 1" {
		t.Errorf("bad bound: %v", err)
	}
	if err := testConfig(t, "smtp_tls_loglevel=x").Fill(&s); err == nil || err.Error() != "bad numerical configuration: smtp_tls_loglevel = x" {
		t.Errorf("bad number string: %v", err)
	}
	c := testConfig(t)
	var unknown struct {
		X string `param:"no_such_parameter"`
	}
	if err := c.Fill(&unknown); err == nil {
		t.Error("unknown parameter filled")
	}
	var wrong struct {
		X time.Duration `param:"hash_queue_depth"`
	}
	if err := c.Fill(&wrong); err == nil {
		t.Error("int parameter filled into a time.Duration")
	}
	var transport struct {
		X int `param:"_destination_concurrency_limit"`
	}
	if err := c.Fill(&transport); err == nil {
		t.Error("per-transport parameter filled without a transport")
	}
	if err := c.Fill(s); err == nil {
		t.Error("Fill took a struct value")
	}
}

func TestFillWith(t *testing.T) {
	c := testConfig(t, "smtp_helo_timeout=9s", "lmtp_lhlo_timeout=7s")
	var s struct {
		Timeout time.Duration `param:"smtp_helo_timeout"`
	}
	lmtp := func(name string) string { return strings.Replace(name, "smtp_helo", "lmtp_lhlo", 1) }
	if err := c.FillWith(&s, lmtp); err != nil || s.Timeout != 7*time.Second {
		t.Errorf("renamed: %v, %v; want lmtp_lhlo_timeout's 7s", s.Timeout, err)
	}
	if err := c.Fill(&s); err != nil || s.Timeout != 9*time.Second {
		t.Errorf("plain: %v, %v; want smtp_helo_timeout's 9s", s.Timeout, err)
	}
}

type transportLimits struct {
	Concurrency int           `param:"_destination_concurrency_limit"`
	Recipients  int           `param:"_destination_recipient_limit"`
	Initial     int           `param:"_initial_destination_concurrency"`
	RateDelay   time.Duration `param:"_destination_rate_delay"`
	TimeLimit   time.Duration `param:"_time_limit"`
}

func TestFillTransport(t *testing.T) {
	c := testConfig(t, "default_destination_concurrency_limit=7", "relay_destination_recipient_limit=3",
		"relay_destination_rate_delay=2m", "command_time_limit=100")
	c.AddService("relay", "smtp")
	var relay, local transportLimits
	if err := c.FillTransport("relay", &relay); err != nil {
		t.Fatal(err)
	}
	if relay.Concurrency != 7 || relay.Recipients != 3 || relay.Initial != 5 || relay.RateDelay != 2*time.Minute || relay.TimeLimit != 100*time.Second {
		t.Errorf("relay = %+v", relay)
	}
	// A transport master.cf does not list still gets the defaults.
	if err := c.FillTransport("other", &local); err != nil {
		t.Fatal(err)
	}
	if local.Concurrency != 7 || local.Recipients != 50 || local.RateDelay != 0 {
		t.Errorf("other = %+v", local)
	}
	c.Set("other_destination_concurrency_limit", "4")
	if err := c.FillTransport("other", &local); err != nil || local.Concurrency != 4 {
		t.Errorf("other = %+v, %v; want the setting 4", local, err)
	}
	var builtin transportLimits
	if err := c.FillTransport("local", &builtin); err != nil || builtin.Concurrency != 2 || builtin.Recipients != 1 {
		t.Errorf("local = %+v, %v; want the built-in defaults 2 and 1", builtin, err)
	}
	c.Set("relay_initial_destination_concurrency", "0")
	if err := c.FillTransport("relay", &relay); err == nil || err.Error() != "invalid relay_initial_destination_concurrency parameter value 0 < 1" {
		t.Errorf("bad per-transport bound: %v", err)
	}
}

func TestCheck(t *testing.T) {
	if err := testConfig(t, "message_size_limit=-1", "myhostname=x.example").Check(); err != nil {
		t.Errorf("valid settings: %v", err)
	}
	for setting, want := range map[string]string{
		"queue_run_delay=0":                     "invalid queue_run_delay: 0 (min 1)",
		"smtputf8_enable=maybe":                 "bad boolean configuration: smtputf8_enable = maybe",
		"relay_destination_concurrency_limit=x": "bad numerical configuration: relay_destination_concurrency_limit = x",
	} {
		c := testConfig(t, setting)
		c.AddService("relay", "smtp")
		if err := c.Check(); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", setting, err, want)
		}
	}
}
