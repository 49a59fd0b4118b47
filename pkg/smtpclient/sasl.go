// SMTP AUTH as a client: password lookup, mechanism choice under
// smtp_sasl_security_options, and the PLAIN, LOGIN and CRAM-MD5 exchanges.

package smtpclient

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// mechanism describes one SASL mechanism this client speaks.
type mechanism struct {
	name      string
	plaintext bool
	// exchange returns the initial response (empty for none) and a
	// function answering each decoded server challenge.
	exchange func(user, password string) (initial string, answer func(challenge []byte) string)
}

// mechanisms in order of preference.
var mechanisms = []mechanism{
	{name: "CRAM-MD5", exchange: func(user, password string) (string, func([]byte) string) {
		return "", func(challenge []byte) string {
			mac := hmac.New(md5.New, []byte(password))
			mac.Write(challenge)
			return user + " " + hex.EncodeToString(mac.Sum(nil))
		}
	}},
	{name: "PLAIN", plaintext: true, exchange: func(user, password string) (string, func([]byte) string) {
		return "\x00" + user + "\x00" + password, func([]byte) string { return "" }
	}},
	{name: "LOGIN", plaintext: true, exchange: func(user, password string) (string, func([]byte) string) {
		step := 0
		return "", func([]byte) string {
			step++
			if step == 1 {
				return user
			}
			return password
		}
	}},
}

// choose picks the best mechanism the server offers and the options
// allow. Every mechanism here is open to dictionary and active attacks,
// so nodictionary, noactive and mutual_auth leave none.
func chooseMechanism(offered []string, options []string) (mechanism, bool) {
	if slices.Contains(options, "nodictionary") || slices.Contains(options, "noactive") || slices.Contains(options, "mutual_auth") {
		return mechanism{}, false
	}
	for _, m := range mechanisms {
		if m.plaintext && slices.Contains(options, "noplaintext") {
			continue
		}
		for _, o := range offered {
			if strings.EqualFold(o, m.name) {
				return m, true
			}
		}
	}
	return mechanism{}, false
}

// credentials looks up "user:password" by the nexthop as given, then by
// the nexthop's host and the server's name.
func (s *session) credentials() (user, password string, found bool, err error) {
	keys := []string{s.target.nexthop, s.target.destHost, s.target.host}
	for _, table := range s.client.cfg.SASL.Passwords {
		for _, key := range keys {
			value, ok, err := table.Lookup(key)
			if err != nil {
				return "", "", false, fmt.Errorf("%s lookup error for %q", table.Spec(), key)
			}
			if ok {
				user, password, _ = strings.Cut(value, ":")
				return user, password, true, nil
			}
		}
	}
	return "", "", false, nil
}

// authenticate runs AUTH when SASL is enabled, the server offers it and
// there are credentials for it. ok is false when the session ended with
// verdict v.
func (s *session) authenticate() (v verdict, ok bool) {
	policy := s.client.cfg.SASL
	offered, hasAuth := s.ext["AUTH"]
	if !policy.Enable || !hasAuth {
		return verdict{}, true
	}
	user, password, found, err := s.credentials()
	if err != nil {
		s.client.warnf("%v", err)
		return deferred("4.3.0", "Temporary lookup failure"), false
	}
	if !found {
		return verdict{}, true
	}
	options := policy.Options
	if s.tls {
		options = policy.TLSOptions
	}
	mech, ok := chooseMechanism(strings.Fields(offered), options)
	if !ok {
		s.client.warnf("SASL authentication failure: No worthy mechs found")
		return deferred("4.7.0", fmt.Sprintf("SASL authentication failed; cannot authenticate to server %s: no mechanism available", s.target.hostAddr())), false
	}
	initial, answer := mech.exchange(user, password)
	line := "AUTH " + mech.name
	if initial != "" {
		line += " " + base64.StdEncoding.EncodeToString([]byte(initial))
	}
	timeout := s.client.cfg.CommandTimeout
	reply, err := s.command(timeout, "sending AUTH", "%s", line)
	for err == nil && reply.Code == 334 {
		challenge, decodeErr := base64.StdEncoding.DecodeString(strings.Join(reply.Lines, ""))
		if decodeErr != nil {
			_, _ = s.command(timeout, "sending AUTH", "*")
			return deferred("4.7.0", fmt.Sprintf("SASL authentication failed; server %s sent a malformed challenge", s.target.hostAddr())), false
		}
		reply, err = s.command(timeout, "sending AUTH", "%s", base64.StdEncoding.EncodeToString([]byte(answer(challenge))))
	}
	if err != nil {
		return s.lostConnection("performing SASL authentication", err), false
	}
	if reply.Class() != 2 {
		return deferred("4"+reply.DSN()[1:], fmt.Sprintf("SASL authentication failed; server %s said: %s", s.target.hostAddr(), reply.Text())), false
	}
	s.authenticated = true
	return verdict{}, true
}
