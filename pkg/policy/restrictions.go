// What each restriction does: the dispatch from a restriction name to its
// test, with the subject (client, HELO name, sender, recipient) it is about.

package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/postern/postern/pkg/addr"
)

// The checks a bare "type:table" item stands for, named in the warning
// for a stage that has none.
const defACLNames = "check_client_access, check_reverse_client_hostname_access, check_helo_access, check_sender_access, check_recipient_access, check_etrn_access"

// apply evaluates one restriction.
func (e *evaluation) apply(r restriction, ctx replyContext) Decision {
	c, s := e.c, e.s
	name := r.name
	if r.broken != "" {
		c.warn(r.broken)
		return serverConfigError
	}
	if r.implied {
		if e.defACL == "" {
			c.warn(fmt.Sprintf("specify one of (%s) before %s restriction \"%s\"", defACLNames, ctx.class, r.arg))
			return serverConfigError
		}
		name = e.defACL
	}
	clientCtx := replyContext{name: s.namaddr(), class: classClient}
	senderCtx := replyContext{name: s.Sender.Internal(), class: classSender}
	rcptCtx := replyContext{name: s.Recipient.Internal(), class: classRecipient}
	helo := s.Helo != ""
	sender := s.Mail && s.Sender.Internal() != ""
	rcpt := e.hasRecipient()
	switch name {
	case "permit":
		return Decision{Action: Permit}
	case "reject":
		return reject(c.set.RejectCode, "5.7.1", ctx, "Access denied")
	case "defer":
		return reject(c.set.DeferCode, "4.3.2", ctx, "Try again later")
	case "defer_if_permit":
		return e.deferIfPermit(reject(450, "4.7.0", ctx, "defer_if_permit requested"))
	case "defer_if_reject":
		return e.deferIfReject(reject(450, "4.7.0", ctx, "defer_if_reject requested"))
	case "sleep":
		n, _ := strconv.Atoi(r.arg)
		c.sleep(time.Duration(n) * time.Second)
		return Decision{}
	case "check_policy_service":
		return e.policyService(r.service, ctx)
	case "reject_plaintext_session":
		if s.TLSProtocol == "" {
			return Decision{Action: actionFor(c.set.PlaintextCode), Code: c.set.PlaintextCode, DSN: "4.7.1", Text: "Session encryption is required"}
		}
		return Decision{}
	case "reject_unauth_pipelining":
		if s.IllegalPipelining {
			return reject(503, "5.5.0", ctx, "Improper use of SMTP command pipelining")
		}
		return Decision{}

	// The client.
	case "permit_mynetworks":
		ok, err := c.mynetworks.Match(s.clientName(), s.ClientAddr)
		if err != nil {
			c.warn(fmt.Sprintf("mynetworks: %v", err))
			return tempFailure(s.namaddr())
		}
		return permitIf(ok)
	case "permit_sasl_authenticated":
		return permitIf(s.SASLUser != "")
	case "check_sasl_access":
		if !c.set.SASLEnabled {
			c.warn(fmt.Sprintf("restriction `%s' ignored: no SASL support", name))
			return Decision{}
		}
		if s.SASLUser == "" {
			return Decision{}
		}
		return e.checkAccess(r.table, []lookupKey{{key: s.SASLUser}}, replyContext{name: printableName(s.SASLUser), class: classSASLUser})
	case "permit_tls_clientcerts", "permit_tls_all_clientcerts":
		return e.permitClientCert(name == "permit_tls_all_clientcerts")
	case "check_ccert_access":
		return e.checkClientCert(r.table)
	case "reject_unknown_client_hostname", "reject_unknown_client":
		return e.unknownClient(s.NameStatus, s.clientName(), "4.7.25", "cannot find your hostname")
	case "reject_unknown_reverse_client_hostname":
		return e.unknownClient(s.ReverseStatus, s.reverseName(), "4.7.1", "cannot find your reverse hostname")
	case "check_client_access":
		return e.checkAccess(r.table, e.clientKeys(s.clientName()), clientCtx)
	case "check_reverse_client_hostname_access":
		return e.checkAccess(r.table, e.clientKeys(s.reverseName()),
			replyContext{name: s.reverseName(), class: classReverseClient})
	case "reject_rbl_client", "reject_rbl":
		return e.rblClient(r.arg, false)
	case "permit_dnswl_client":
		return e.rblClient(r.arg, true)
	case "reject_rhsbl_client", "permit_rhswl_client":
		if s.clientName() == "unknown" {
			return Decision{}
		}
		return e.rhsbl(r.arg, s.clientName(), classClient, name == "permit_rhswl_client")
	case "reject_rhsbl_reverse_client":
		if s.reverseName() == "unknown" {
			return Decision{}
		}
		return e.rhsbl(r.arg, s.reverseName(), classReverseClient, false)
	case "check_client_mx_access", "check_client_ns_access", "check_client_a_access":
		if s.clientName() == "unknown" {
			return Decision{}
		}
		return e.serverAccess(r.table, s.clientName(), serverType(name), clientCtx)
	case "check_reverse_client_hostname_mx_access", "check_reverse_client_hostname_ns_access", "check_reverse_client_hostname_a_access":
		if s.reverseName() == "unknown" {
			return Decision{}
		}
		return e.serverAccess(r.table, s.reverseName(), serverType(name), replyContext{name: s.reverseName(), class: classReverseClient})

	// The HELO name.
	case "check_helo_access":
		if !helo {
			return Decision{}
		}
		return e.checkAccess(r.table, e.domainKeys(s.Helo, false), replyContext{name: s.Helo, class: classHelo})
	case "reject_invalid_helo_hostname", "reject_invalid_hostname":
		if !helo {
			return Decision{}
		}
		return e.invalidHelo()
	case "reject_non_fqdn_helo_hostname", "reject_non_fqdn_hostname":
		if !helo {
			return Decision{}
		}
		return e.nonFQDNHelo()
	case "reject_unknown_helo_hostname", "reject_unknown_hostname":
		if !helo {
			return Decision{}
		}
		return e.unknownHelo()
	case "reject_rhsbl_helo":
		if !helo {
			return Decision{}
		}
		return e.rhsbl(r.arg, s.Helo, classHelo, false)
	case "check_helo_mx_access", "check_helo_ns_access", "check_helo_a_access":
		if !helo {
			return Decision{}
		}
		return e.serverAccess(r.table, s.Helo, serverType(name), replyContext{name: s.Helo, class: classHelo})

	// The sender.
	case "check_sender_access":
		if !s.Mail {
			return Decision{}
		}
		if !sender {
			return e.checkAccess(r.table, []lookupKey{{key: c.set.NullAccessKey}}, senderCtx)
		}
		keys, err := e.addressKeys(s.Sender.Internal(), true)
		if err != nil {
			c.warn(err.Error())
			return tempFailure(senderCtx.name)
		}
		return e.checkAccess(r.table, keys, senderCtx)
	case "reject_sender_login_mismatch", "reject_authenticated_sender_login_mismatch",
		"reject_known_sender_login_mismatch", "reject_unauthenticated_sender_login_mismatch":
		return e.senderLoginMismatch(name)
	case "reject_non_fqdn_sender":
		if !sender {
			return Decision{}
		}
		return e.nonFQDN(senderCtx, s.Sender.Internal())
	case "reject_unknown_sender_domain":
		if !sender {
			return Decision{}
		}
		return e.unknownAddress(s.Sender.Internal(), senderCtx)
	case "reject_rhsbl_sender":
		if !sender {
			return Decision{}
		}
		return e.rhsbl(r.arg, s.Sender.Internal(), classSender, false)
	case "reject_unlisted_sender":
		if !sender {
			return Decision{}
		}
		return e.unlistedSender()
	case "reject_unverified_sender":
		if !sender {
			return Decision{}
		}
		return e.unverified(s.Sender.Internal(), senderCtx)
	case "check_sender_mx_access", "check_sender_ns_access", "check_sender_a_access":
		if !sender {
			return Decision{}
		}
		return e.serverAccess(r.table, s.Sender.Domain, serverType(name), senderCtx)

	// The recipient.
	case "check_recipient_access":
		if !rcpt {
			return Decision{}
		}
		keys, err := e.addressKeys(s.Recipient.Internal(), false)
		if err != nil {
			c.warn(err.Error())
			return tempFailure(rcptCtx.name)
		}
		return e.checkAccess(r.table, keys, rcptCtx)
	case "permit_auth_destination", "reject_unauth_destination", "defer_unauth_destination":
		if !rcpt {
			return Decision{}
		}
		return e.relayCheck(name)
	case "permit_mx_backup":
		if !rcpt {
			return Decision{}
		}
		return e.permitMXBackup(rcptCtx)
	case "reject_non_fqdn_recipient":
		if !rcpt {
			return Decision{}
		}
		return e.nonFQDN(rcptCtx, s.Recipient.Internal())
	case "reject_unknown_recipient_domain":
		if !rcpt {
			return Decision{}
		}
		return e.unknownAddress(s.Recipient.Internal(), rcptCtx)
	case "reject_unlisted_recipient", "check_recipient_maps":
		if !rcpt || s.recipientValidated {
			return Decision{}
		}
		if s.warnIfReject == 0 {
			s.recipientValidated = true
		}
		return c.validateRecipient(s.Recipient)
	case "reject_unverified_recipient":
		if !rcpt {
			return Decision{}
		}
		return e.unverified(s.Recipient.Internal(), rcptCtx)
	case "reject_rhsbl_recipient":
		if !rcpt {
			return Decision{}
		}
		return e.rhsbl(r.arg, s.Recipient.Internal(), classRecipient, false)
	case "check_recipient_mx_access", "check_recipient_ns_access", "check_recipient_a_access":
		if !rcpt {
			return Decision{}
		}
		return e.serverAccess(r.table, s.Recipient.Domain, serverType(name), rcptCtx)
	case "reject_multi_recipient_bounce":
		min := 0
		if s.where != "RCPT" {
			min = 1
		}
		if s.Mail && s.Sender.Internal() == "" && s.RecipientCount > min {
			return reject(c.set.MultiRecipientCode, "5.5.3", ctx, "Multi-recipient bounce")
		}
		return Decision{}

	// ETRN.
	case "check_etrn_access":
		if s.Etrn == "" {
			return Decision{}
		}
		return e.checkAccess(r.table, e.domainKeys(s.Etrn, false), replyContext{name: s.Etrn, class: classEtrn})
	}
	if r.class != nil {
		return e.run(r.class, ctx)
	}
	c.warn(fmt.Sprintf("unknown smtpd restriction: \"%s\"", name))
	return serverConfigError
}

// hasRecipient reports whether a recipient is being checked.
func (e *evaluation) hasRecipient() bool {
	return !e.s.noRecipient && (e.s.Recipient.Local != "" || e.s.Recipient.Domain != "")
}

// unknownClient implements reject_unknown_client_hostname and
// reject_unknown_reverse_client_hostname: a temporary lookup failure
// gets 450, a name that is missing or does not match unknown_client_reject_code.
func (e *evaluation) unknownClient(status PeerStatus, name, dsn, what string) Decision {
	if status == PeerOK && name != "unknown" {
		return Decision{}
	}
	code := e.c.set.UnknownClientCode
	if status == PeerTemp {
		code = 450
	}
	return Decision{Action: actionFor(code), Code: code, DSN: dsn,
		Text: fmt.Sprintf("Client host rejected: %s, [%s]", what, e.s.ClientAddr)}
}

// truncateDot drops one trailing dot (but not of "..") as Postfix does
// before checking a host name.
func truncateDot(name string) string {
	if len(name) > 1 && name[len(name)-1] == '.' && name[len(name)-2] != '.' {
		return name[:len(name)-1]
	}
	return name
}

// invalidHelo implements reject_invalid_helo_hostname.
func (e *evaluation) invalidHelo() Decision {
	ctx := replyContext{name: e.s.Helo, class: classHelo}
	if strings.HasPrefix(e.s.Helo, "[") {
		return e.invalidHostaddr(ctx)
	}
	name := truncateDot(e.s.Helo)
	if !validASCIIHostname(name) && !validHostAddr(name) {
		return reject(e.c.set.InvalidHostnameCode, "5.5.2", ctx, "Invalid name")
	}
	return Decision{}
}

// invalidHostaddr rejects a HELO address literal that is no address.
func (e *evaluation) invalidHostaddr(ctx replyContext) Decision {
	if _, ok := addr.ParseLiteral(e.s.Helo); !ok {
		return reject(e.c.set.InvalidHostnameCode, "5.5.2", ctx, "invalid ip address")
	}
	return Decision{}
}

// nonFQDNHelo implements reject_non_fqdn_helo_hostname.
func (e *evaluation) nonFQDNHelo() Decision {
	ctx := replyContext{name: e.s.Helo, class: classHelo}
	if strings.HasPrefix(e.s.Helo, "[") {
		return e.invalidHostaddr(ctx)
	}
	name := truncateDot(e.s.Helo)
	if !addr.ValidHostname(name) || !strings.Contains(name, ".") {
		return reject(e.c.set.NonFQDNCode, "5.5.2", ctx, "need fully-qualified hostname")
	}
	return Decision{}
}

// validASCIIHostname is Postfix's valid_hostname: an ASCII host name.
func validASCIIHostname(name string) bool {
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 {
			return false
		}
	}
	return addr.ValidHostname(name)
}

// validHostAddr reports whether s is a bare IPv4 or IPv6 address.
func validHostAddr(s string) bool {
	_, ok := addr.ParseLiteral("[" + s + "]")
	if !ok {
		_, ok = addr.ParseLiteral("[IPv6:" + s + "]")
	}
	return ok
}

// nonFQDN rejects an address whose domain is missing or has no dot
// (reject_non_fqdn_sender and _recipient, non_fqdn_reject_code).
func (e *evaluation) nonFQDN(ctx replyContext, address string) Decision {
	domain := ""
	if at := strings.LastIndexByte(address, '@'); at >= 0 {
		domain = address[at+1:]
	}
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		return Decision{}
	}
	domain = truncateDot(domain)
	if domain == "" || !addr.ValidHostname(domain) || !strings.Contains(domain, ".") {
		return reject(e.c.set.NonFQDNCode, "4.5.2", ctx, "need fully-qualified address")
	}
	return Decision{}
}

// printableName replaces each control character of a SASL login name
// with "_", as Postfix does before it uses the name as a key and in a
// reply.
func printableName(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '_'
		}
		return r
	}, name)
}
