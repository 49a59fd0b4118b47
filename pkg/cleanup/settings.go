// Cleanup's settings: the main.cf parameters and lookup tables it works with.
package cleanup

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/hbc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/milter"
	"github.com/postern/postern/pkg/resolve"
)

// Settings are what cleanup needs from main.cf. FromConfig fills them;
// tests may build them directly.
type Settings struct {
	MyHostname string // myhostname, in Received: and Message-Id:
	MyOrigin   string // myorigin, appended to addresses without a domain
	MyDomain   string // mydomain, for append_dot_mydomain
	MailName   string // mail_name, in Received:

	AppendAtMyOrigin  bool // append_at_myorigin
	AppendDotMyDomain bool // append_dot_mydomain

	// AlwaysAddMissingHeaders is always_add_missing_headers: add From:,
	// Date:, Message-Id: and To: to remote submissions too.
	AlwaysAddMissingHeaders bool
	// LocalHeaderClients is local_header_rewrite_clients: SMTP mail from
	// these clients is treated as a local submission's headers are; nil
	// matches no SMTP client.
	LocalHeaderClients *RewriteClients
	// RemoteHeaderDomain is remote_header_rewrite_domain: when set, the
	// header addresses of other SMTP mail are rewritten with this domain;
	// when empty they are left alone.
	RemoteHeaderDomain string
	// UndisclosedRecipients is undisclosed_recipients_header, the To:
	// header added when a message has none ("" adds nothing).
	UndisclosedRecipients string

	MessageSizeLimit int64 // message_size_limit, 0 = unlimited
	HopcountLimit    int   // hopcount_limit

	RecipientDelimiter  string // recipient_delimiter
	PropagateCanonical  bool   // propagate_unmatched_extensions has "canonical"
	PropagateVirtual    bool   // propagate_unmatched_extensions has "virtual"
	AliasRecursionLimit int    // virtual_alias_recursion_limit
	AliasExpansionLimit int    // virtual_alias_expansion_limit

	VirtualAliasMaps       []maps.Table // virtual_alias_maps
	CanonicalMaps          []maps.Table // canonical_maps
	SenderCanonicalMaps    []maps.Table // sender_canonical_maps
	RecipientCanonicalMaps []maps.Table // recipient_canonical_maps
	// IsLocalDomain says whether a domain is in mydestination or is an
	// address literal of this host; nil means only myorigin is local.
	IsLocalDomain func(domain string) (bool, error)

	// HeaderChecks, MIMEHeaderChecks, NestedHeaderChecks and BodyChecks
	// are header_checks, mime_header_checks, nested_header_checks and
	// body_checks; nil when empty.
	HeaderChecks       *hbc.Checks
	MIMEHeaderChecks   *hbc.Checks
	NestedHeaderChecks *hbc.Checks
	BodyChecks         *hbc.Checks
	// BodyChecksSizeLimit is body_checks_size_limit: body_checks look at
	// the body's first so many bytes (0 = all).
	BodyChecksSizeLimit int64
	// DisableMIME is disable_mime_input_processing: the body is not split
	// into MIME parts, so mime_ and nested_header_checks never apply.
	DisableMIME bool

	// Milter holds the milter_* parameters; NonSMTPDMilters is
	// non_smtpd_milters.
	Milter          *milter.Settings
	NonSMTPDMilters []string

	// QmgrTrigger is the queue manager's trigger socket
	// ("public/$queue_service_name"); "" sends no trigger.
	QmgrTrigger string

	// Now replaces time.Now in tests.
	Now func() time.Time
}

// FromConfig reads cleanup's settings from cfg and opens its tables. The
// returned close function releases the tables.
func FromConfig(cfg *config.Config) (*Settings, func() error, error) {
	s := &Settings{}
	var tables []maps.Table
	var resolver *resolve.Resolver
	checks := hbc.NewOpener(cfg)
	closeAll := func() error {
		first := s.LocalHeaderClients.Close()
		if err := checks.Close(); err != nil && first == nil {
			first = err
		}
		for _, t := range tables {
			if err := t.Close(); err != nil && first == nil {
				first = err
			}
		}
		if resolver != nil {
			if err := resolver.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	fail := func(err error) (*Settings, func() error, error) {
		closeAll()
		return nil, nil, err
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{
		{"myhostname", &s.MyHostname}, {"myorigin", &s.MyOrigin}, {"mydomain", &s.MyDomain},
		{"mail_name", &s.MailName}, {"undisclosed_recipients_header", &s.UndisclosedRecipients},
		{"recipient_delimiter", &s.RecipientDelimiter}, {"queue_service_name", &s.QmgrTrigger},
		{"remote_header_rewrite_domain", &s.RemoteHeaderDomain},
	} {
		v, err := cfg.Get(p.name)
		if err != nil {
			return fail(err)
		}
		*p.dst = v
	}
	for _, p := range []struct {
		name string
		dst  *bool
	}{
		{"append_at_myorigin", &s.AppendAtMyOrigin}, {"append_dot_mydomain", &s.AppendDotMyDomain},
		{"always_add_missing_headers", &s.AlwaysAddMissingHeaders},
		{"disable_mime_input_processing", &s.DisableMIME},
	} {
		v, err := cfg.Bool(p.name)
		if err != nil {
			return fail(err)
		}
		*p.dst = v
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{
		{"hopcount_limit", &s.HopcountLimit}, {"virtual_alias_recursion_limit", &s.AliasRecursionLimit},
		{"virtual_alias_expansion_limit", &s.AliasExpansionLimit},
	} {
		v, err := cfg.Int(p.name)
		if err != nil {
			return fail(err)
		}
		*p.dst = v
	}
	s.QmgrTrigger = "public/" + s.QmgrTrigger
	limit, err := cfg.Size("message_size_limit")
	if err != nil {
		return fail(err)
	}
	s.MessageSizeLimit = limit
	propagate, err := cfg.List("propagate_unmatched_extensions")
	if err != nil {
		return fail(err)
	}
	for _, p := range propagate {
		switch p {
		case "canonical":
			s.PropagateCanonical = true
		case "virtual":
			s.PropagateVirtual = true
		}
	}
	for _, p := range []struct {
		name string
		dst  *[]maps.Table
	}{
		{"virtual_alias_maps", &s.VirtualAliasMaps}, {"canonical_maps", &s.CanonicalMaps},
		{"sender_canonical_maps", &s.SenderCanonicalMaps}, {"recipient_canonical_maps", &s.RecipientCanonicalMaps},
	} {
		specs, err := cfg.List(p.name)
		if err != nil {
			return fail(err)
		}
		for _, spec := range specs {
			t, err := maps.Open(spec, maps.Options{})
			if err != nil {
				return fail(fmt.Errorf("%s: %w", p.name, err))
			}
			tables = append(tables, t)
			*p.dst = append(*p.dst, t)
		}
	}
	for _, p := range []struct {
		name string
		dst  **hbc.Checks
	}{
		{"header_checks", &s.HeaderChecks}, {"mime_header_checks", &s.MIMEHeaderChecks},
		{"nested_header_checks", &s.NestedHeaderChecks}, {"body_checks", &s.BodyChecks},
	} {
		if *p.dst, err = checks.Open(p.name); err != nil {
			return fail(err)
		}
	}
	if s.BodyChecksSizeLimit, err = cfg.Size("body_checks_size_limit"); err != nil {
		return fail(err)
	}
	if s.Milter, err = milter.SettingsFromConfig(cfg); err != nil {
		return fail(err)
	}
	if s.NonSMTPDMilters, err = cfg.List("non_smtpd_milters"); err != nil {
		return fail(err)
	}
	locals, err := cfg.LocalAddresses()
	if err != nil {
		return fail(err)
	}
	if s.LocalHeaderClients, err = rewriteClientsFromConfig(cfg, locals); err != nil {
		return fail(err)
	}
	resolver, err = resolve.FromConfig(cfg, locals, nil)
	if err != nil {
		return fail(err)
	}
	s.IsLocalDomain = resolver.IsLocalDomain
	return s, closeAll, nil
}

// rewriteClientsFromConfig builds the local_header_rewrite_clients list;
// locals are the addresses of inet_interfaces.
func rewriteClientsFromConfig(cfg *config.Config, locals []netip.Addr) (*RewriteClients, error) {
	list, err := cfg.List("local_header_rewrite_clients")
	if err != nil {
		return nil, err
	}
	networks, err := cfg.List("mynetworks")
	if err != nil {
		return nil, err
	}
	return NewRewriteClients(list, RewriteClientsConfig{LocalAddresses: locals, MyNetworks: networks})
}
