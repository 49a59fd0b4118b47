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
	"github.com/postern/postern/pkg/maps"
)

// The checks a bare "type:table" item stands for, named in the warning
// for a stage that has none.
const defACLNames = "check_client_access, check_reverse_client_hostname_access, check_helo_access, check_sender_access, check_recipient_access, check_etrn_access"

// apply evaluates one restriction: a broken one or a bare table without a
// default access check is a configuration error; a name in
// restrictionSteps runs its step when its subject is there; a
// restriction class runs its list.
func (e *evaluation) apply(r restriction, ctx replyContext) Decision {
	c := e.c
	if r.broken != "" {
		c.warn(r.broken)
		return serverConfigError
	}
	if r.implied {
		if e.defACL == "" {
			c.warn(fmt.Sprintf("specify one of (%s) before %s restriction \"%s\"", defACLNames, ctx.class, r.arg))
			return serverConfigError
		}
		r.name = e.defACL
	}
	if st, ok := restrictionSteps[r.name]; ok {
		if !e.has(st.needs) {
			return Decision{}
		}
		return st.run(e, r, ctx)
	}
	if r.class != nil {
		return e.run(r.class, ctx)
	}
	c.warn(fmt.Sprintf("unknown smtpd restriction: \"%s\"", r.name))
	return serverConfigError
}

// subject is what a restriction is about; without it the restriction
// does nothing (DUNNO).
type subject int

const (
	needNothing     subject = iota
	needClientName          // the client's name is known
	needReverseName         // the client's reverse name is known
	needHelo                // HELO or EHLO gave a name
	needMail                // MAIL FROM was given, the null sender too
	needSender              // MAIL FROM gave a sender other than the null one
	needRecipient           // a recipient is being checked
	needEtrn                // ETRN gave a domain
)

// has reports whether the session has the subject.
func (e *evaluation) has(what subject) bool {
	s := e.s
	switch what {
	case needClientName:
		return s.clientName() != "unknown"
	case needReverseName:
		return s.reverseName() != "unknown"
	case needHelo:
		return s.Helo != ""
	case needMail:
		return s.Mail
	case needSender:
		return s.Mail && s.Sender.Internal() != ""
	case needRecipient:
		return e.hasRecipient()
	case needEtrn:
		return s.Etrn != ""
	}
	return true
}

// The reply contexts of the subjects.
func (e *evaluation) clientCtx() replyContext {
	return replyContext{name: e.s.namaddr(), class: classClient}
}

func (e *evaluation) reverseCtx() replyContext {
	return replyContext{name: e.s.reverseName(), class: classReverseClient}
}

func (e *evaluation) heloCtx() replyContext { return replyContext{name: e.s.Helo, class: classHelo} }

func (e *evaluation) senderCtx() replyContext {
	return replyContext{name: e.s.Sender.Internal(), class: classSender}
}

func (e *evaluation) rcptCtx() replyContext {
	return replyContext{name: e.s.Recipient.Internal(), class: classRecipient}
}

// step is what one restriction does once its subject is there; ctx is
// the reply context of the stage that runs it.
type step struct {
	needs subject
	run   func(e *evaluation, r restriction, ctx replyContext) Decision
}

// restrictionSteps maps each restriction name to its step. It is filled
// by init: steps run restriction classes, which apply restrictions.
var restrictionSteps map[string]step

// addSteps registers one step under names.
func addSteps(needs subject, run func(e *evaluation, r restriction, ctx replyContext) Decision, names ...string) {
	for _, name := range names {
		restrictionSteps[name] = step{needs, run}
	}
}

func init() {
	restrictionSteps = map[string]step{}
	addGenericSteps()
	addClientSteps()
	addHeloSteps()
	addSenderSteps()
	addRecipientSteps()
	addSteps(needEtrn, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.checkAccess(r.table, e.domainKeys(e.s.Etrn, false), replyContext{name: e.s.Etrn, class: classEtrn})
	}, "check_etrn_access")
}

// addGenericSteps: the restrictions about no subject in particular.
func addGenericSteps() {
	addSteps(needNothing, func(*evaluation, restriction, replyContext) Decision { return Decision{Action: Permit} }, "permit")
	addSteps(needNothing, func(e *evaluation, _ restriction, ctx replyContext) Decision {
		return reject(e.c.set.RejectCode, "5.7.1", ctx, "Access denied")
	}, "reject")
	addSteps(needNothing, func(e *evaluation, _ restriction, ctx replyContext) Decision {
		return reject(e.c.set.DeferCode, "4.3.2", ctx, "Try again later")
	}, "defer")
	addSteps(needNothing, func(e *evaluation, _ restriction, ctx replyContext) Decision {
		return e.deferIfPermit(reject(450, "4.7.0", ctx, "defer_if_permit requested"))
	}, "defer_if_permit")
	addSteps(needNothing, func(e *evaluation, _ restriction, ctx replyContext) Decision {
		return e.deferIfReject(reject(450, "4.7.0", ctx, "defer_if_reject requested"))
	}, "defer_if_reject")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		n, _ := strconv.Atoi(r.arg)
		e.c.sleep(time.Duration(n) * time.Second)
		return Decision{}
	}, "sleep")
	addSteps(needNothing, func(e *evaluation, r restriction, ctx replyContext) Decision {
		return e.policyService(r.service, ctx)
	}, "check_policy_service")
	addSteps(needNothing, func(e *evaluation, _ restriction, _ replyContext) Decision {
		if e.s.TLSProtocol == "" {
			code := e.c.set.PlaintextCode
			return Decision{Action: actionFor(code), Code: code, DSN: "4.7.1", Text: "Session encryption is required"}
		}
		return Decision{}
	}, "reject_plaintext_session")
	addSteps(needNothing, func(e *evaluation, _ restriction, ctx replyContext) Decision {
		if e.s.IllegalPipelining {
			return reject(503, "5.5.0", ctx, "Improper use of SMTP command pipelining")
		}
		return Decision{}
	}, "reject_unauth_pipelining")
	addSteps(needNothing, func(e *evaluation, _ restriction, ctx replyContext) Decision {
		s, min := e.s, 0
		if s.where != "RCPT" {
			min = 1
		}
		if s.Mail && s.Sender.Internal() == "" && s.RecipientCount > min {
			return reject(e.c.set.MultiRecipientCode, "5.5.3", ctx, "Multi-recipient bounce")
		}
		return Decision{}
	}, "reject_multi_recipient_bounce")
}

// addClientSteps: the restrictions about the client.
func addClientSteps() {
	addSteps(needNothing, func(e *evaluation, _ restriction, _ replyContext) Decision {
		ok, err := e.c.mynetworks.Match(e.s.clientName(), e.s.ClientAddr)
		if err != nil {
			e.c.warn(fmt.Sprintf("mynetworks: %v", err))
			return tempFailure(e.s.namaddr())
		}
		return permitIf(ok)
	}, "permit_mynetworks")
	addSteps(needNothing, func(e *evaluation, _ restriction, _ replyContext) Decision {
		return permitIf(e.s.SASLUser != "")
	}, "permit_sasl_authenticated")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		if !e.c.set.SASLEnabled {
			e.c.warn(fmt.Sprintf("restriction `%s' ignored: no SASL support", r.name))
			return Decision{}
		}
		if e.s.SASLUser == "" {
			return Decision{}
		}
		return e.checkAccess(r.table, []lookupKey{{key: e.s.SASLUser}}, replyContext{name: printableName(e.s.SASLUser), class: classSASLUser})
	}, "check_sasl_access")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.permitClientCert(r.name == "permit_tls_all_clientcerts")
	}, "permit_tls_clientcerts", "permit_tls_all_clientcerts")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.checkClientCert(r.table)
	}, "check_ccert_access")
	addSteps(needNothing, func(e *evaluation, _ restriction, _ replyContext) Decision {
		return e.unknownClient(e.s.NameStatus, e.s.clientName(), "4.7.25", "cannot find your hostname")
	}, "reject_unknown_client_hostname", "reject_unknown_client")
	addSteps(needNothing, func(e *evaluation, _ restriction, _ replyContext) Decision {
		return e.unknownClient(e.s.ReverseStatus, e.s.reverseName(), "4.7.1", "cannot find your reverse hostname")
	}, "reject_unknown_reverse_client_hostname")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.checkAccess(r.table, e.clientKeys(e.s.clientName()), e.clientCtx())
	}, "check_client_access")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.checkAccess(r.table, e.clientKeys(e.s.reverseName()), e.reverseCtx())
	}, "check_reverse_client_hostname_access")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.rblClient(r.arg, false)
	}, "reject_rbl_client", "reject_rbl")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.rblClient(r.arg, true)
	}, "permit_dnswl_client")
	addSteps(needClientName, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.rhsbl(r.arg, e.s.clientName(), classClient, r.name == "permit_rhswl_client")
	}, "reject_rhsbl_client", "permit_rhswl_client")
	addSteps(needReverseName, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.rhsbl(r.arg, e.s.reverseName(), classReverseClient, false)
	}, "reject_rhsbl_reverse_client")
	addSteps(needClientName, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.serverAccess(r.table, e.s.clientName(), serverType(r.name), e.clientCtx())
	}, "check_client_mx_access", "check_client_ns_access", "check_client_a_access")
	addSteps(needReverseName, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.serverAccess(r.table, e.s.reverseName(), serverType(r.name), e.reverseCtx())
	}, "check_reverse_client_hostname_mx_access", "check_reverse_client_hostname_ns_access", "check_reverse_client_hostname_a_access")
}

// addHeloSteps: the restrictions about the HELO name.
func addHeloSteps() {
	addSteps(needHelo, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.checkAccess(r.table, e.domainKeys(e.s.Helo, false), e.heloCtx())
	}, "check_helo_access")
	addSteps(needHelo, func(e *evaluation, _ restriction, _ replyContext) Decision { return e.invalidHelo() },
		"reject_invalid_helo_hostname", "reject_invalid_hostname")
	addSteps(needHelo, func(e *evaluation, _ restriction, _ replyContext) Decision { return e.nonFQDNHelo() },
		"reject_non_fqdn_helo_hostname", "reject_non_fqdn_hostname")
	addSteps(needHelo, func(e *evaluation, _ restriction, _ replyContext) Decision { return e.unknownHelo() },
		"reject_unknown_helo_hostname", "reject_unknown_hostname")
	addSteps(needHelo, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.rhsbl(r.arg, e.s.Helo, classHelo, false)
	}, "reject_rhsbl_helo")
	addSteps(needHelo, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.serverAccess(r.table, e.s.Helo, serverType(r.name), e.heloCtx())
	}, "check_helo_mx_access", "check_helo_ns_access", "check_helo_a_access")
}

// addSenderSteps: the restrictions about the sender.
func addSenderSteps() {
	addSteps(needMail, func(e *evaluation, r restriction, _ replyContext) Decision {
		if !e.has(needSender) {
			return e.checkAccess(r.table, []lookupKey{{key: e.c.set.NullAccessKey}}, e.senderCtx())
		}
		return e.checkAddressAccess(r.table, e.s.Sender, true, e.senderCtx())
	}, "check_sender_access")
	addSteps(needNothing, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.senderLoginMismatch(r.name)
	}, senderLoginRestrictions...)
	addSteps(needSender, func(e *evaluation, _ restriction, _ replyContext) Decision { return e.unlistedSender() },
		"reject_unlisted_sender")
	addAddressSteps(needSender, "sender", func(e *evaluation) addr.Address { return e.s.Sender }, (*evaluation).senderCtx, classSender)
}

// addRecipientSteps: the restrictions about the recipient.
func addRecipientSteps() {
	addAddressSteps(needRecipient, "recipient", func(e *evaluation) addr.Address { return e.s.Recipient }, (*evaluation).rcptCtx, classRecipient)
	addSteps(needRecipient, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.checkAddressAccess(r.table, e.s.Recipient, false, e.rcptCtx())
	}, "check_recipient_access")
	addSteps(needRecipient, func(e *evaluation, r restriction, _ replyContext) Decision { return e.relayCheck(r.name) },
		"permit_auth_destination", "reject_unauth_destination", "defer_unauth_destination")
	addSteps(needRecipient, func(e *evaluation, _ restriction, _ replyContext) Decision { return e.permitMXBackup(e.rcptCtx()) },
		"permit_mx_backup")
	addSteps(needRecipient, func(e *evaluation, _ restriction, _ replyContext) Decision {
		s := e.s
		if s.recipientValidated {
			return Decision{}
		}
		if s.warnIfReject == 0 {
			s.recipientValidated = true
		}
		return e.c.validateRecipient(s.Recipient)
	}, "reject_unlisted_recipient", "check_recipient_maps")
}

// addAddressSteps registers the restrictions that the sender and the
// recipient (kind) have alike: reject_non_fqdn_KIND,
// reject_unknown_KIND_domain, reject_rhsbl_KIND, reject_unverified_KIND
// and check_KIND_{mx,ns,a}_access.
func addAddressSteps(needs subject, kind string, address func(*evaluation) addr.Address, ctx func(*evaluation) replyContext, class string) {
	addSteps(needs, func(e *evaluation, _ restriction, _ replyContext) Decision {
		return e.nonFQDN(ctx(e), address(e).Internal())
	}, "reject_non_fqdn_"+kind)
	addSteps(needs, func(e *evaluation, _ restriction, _ replyContext) Decision {
		return e.unknownAddress(address(e).Internal(), ctx(e))
	}, "reject_unknown_"+kind+"_domain")
	addSteps(needs, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.rhsbl(r.arg, address(e).Internal(), class, false)
	}, "reject_rhsbl_"+kind)
	addSteps(needs, func(e *evaluation, _ restriction, _ replyContext) Decision {
		return e.unverified(address(e).Internal(), ctx(e))
	}, "reject_unverified_"+kind)
	addSteps(needs, func(e *evaluation, r restriction, _ replyContext) Decision {
		return e.serverAccess(r.table, address(e).Domain, serverType(r.name), ctx(e))
	}, "check_"+kind+"_mx_access", "check_"+kind+"_ns_access", "check_"+kind+"_a_access")
}

// checkAddressAccess is check_sender_access and check_recipient_access
// for a non-null address: its lookup keys, then the table.
func (e *evaluation) checkAddressAccess(table maps.Table, a addr.Address, sender bool, ctx replyContext) Decision {
	keys, err := e.addressKeys(a.Internal(), sender)
	if err != nil {
		e.c.warn(err.Error())
		return tempFailure(ctx.name)
	}
	return e.checkAccess(table, keys, ctx)
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
