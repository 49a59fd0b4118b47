// Cleanup's settings: the main.cf parameters and lookup tables it works with.

package cleanup

import (
	"fmt"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/hbc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/milter"
	"github.com/postern/postern/pkg/resolve"
)

// Settings are what cleanup needs from main.cf. FromConfig fills them;
// tests may build them directly.
type Settings struct {
	MyHostname string `param:"myhostname"` // in Received: and Message-Id:
	MyOrigin   string `param:"myorigin"`   // appended to addresses without a domain
	MyDomain   string `param:"mydomain"`   // for append_dot_mydomain
	MailName   string `param:"mail_name"`  // in Received:

	AppendAtMyOrigin  bool `param:"append_at_myorigin"`
	AppendDotMyDomain bool `param:"append_dot_mydomain"`

	// AlwaysAddMissingHeaders is always_add_missing_headers: add From:,
	// Date:, Message-Id: and To: to remote submissions too.
	AlwaysAddMissingHeaders bool `param:"always_add_missing_headers"`
	// LocalHeaderClients is local_header_rewrite_clients: SMTP mail from
	// these clients is treated as a local submission's headers are; nil
	// matches no SMTP client.
	LocalHeaderClients *RewriteClients
	// RemoteHeaderDomain is remote_header_rewrite_domain: when set, the
	// header addresses of other SMTP mail are rewritten with this domain;
	// when empty they are left alone.
	RemoteHeaderDomain string `param:"remote_header_rewrite_domain"`
	// UndisclosedRecipients is undisclosed_recipients_header, the To:
	// header added when a message has none ("" adds nothing).
	UndisclosedRecipients string `param:"undisclosed_recipients_header"`

	MessageSizeLimit int64 `param:"message_size_limit"` // <= 0: unlimited
	HopcountLimit    int   `param:"hopcount_limit"`

	// Extensions are recipient_delimiter and the local parts it does
	// not split.
	Extensions          addr.Extensions
	PropagateCanonical  bool // propagate_unmatched_extensions has "canonical"
	PropagateVirtual    bool // propagate_unmatched_extensions has "virtual"
	AliasRecursionLimit int  `param:"virtual_alias_recursion_limit"`
	AliasExpansionLimit int  `param:"virtual_alias_expansion_limit"`

	VirtualAliasMaps       []maps.Table // virtual_alias_maps
	CanonicalMaps          []maps.Table // canonical_maps
	SenderCanonicalMaps    []maps.Table // sender_canonical_maps
	RecipientCanonicalMaps []maps.Table // recipient_canonical_maps
	// AlwaysBCC is always_bcc; SenderBCCMaps and RecipientBCCMaps are
	// sender_bcc_maps and recipient_bcc_maps.
	AlwaysBCC        string `param:"always_bcc"`
	SenderBCCMaps    []maps.Table
	RecipientBCCMaps []maps.Table
	// Masquerade is masquerade_domains, masquerade_exceptions and
	// masquerade_classes; nil without masquerade_domains.
	Masquerade *Masquerade
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
	BodyChecksSizeLimit int64 `param:"body_checks_size_limit"`
	// DisableMIME is disable_mime_input_processing: the body is not split
	// into MIME parts, so mime_ and nested_header_checks never apply.
	DisableMIME bool `param:"disable_mime_input_processing"`

	// Milter holds the milter_* parameters; NonSMTPDMilters is
	// non_smtpd_milters; MilterHeaderChecks is milter_header_checks, for
	// the headers milters add.
	Milter             *milter.Settings
	NonSMTPDMilters    []milter.Spec
	MilterHeaderChecks *hbc.Checks

	// QmgrTrigger is the queue manager's trigger socket
	// ("public/$queue_service_name"); "" sends no trigger.
	QmgrTrigger string

	// Now replaces time.Now in tests.
	Now func() time.Time
}

// tableParams are the parameters FromConfig turns into tables and flags.
type tableParams struct {
	QueueService           string   `param:"queue_service_name"`
	Propagate              []string `param:"propagate_unmatched_extensions"`
	VirtualAliasMaps       []string `param:"virtual_alias_maps"`
	CanonicalMaps          []string `param:"canonical_maps"`
	SenderCanonicalMaps    []string `param:"sender_canonical_maps"`
	RecipientCanonicalMaps []string `param:"recipient_canonical_maps"`
	LocalHeaderClients     []string `param:"local_header_rewrite_clients"`
	MyNetworks             []string `param:"mynetworks"`
	SenderBCCMaps          []string `param:"sender_bcc_maps"`
	RecipientBCCMaps       []string `param:"recipient_bcc_maps"`
	MasqueradeDomains      []string `param:"masquerade_domains"`
	MasqueradeExceptions   []string `param:"masquerade_exceptions"`
	MasqueradeClasses      []string `param:"masquerade_classes"`
}

// FromConfig reads cleanup's settings from cfg and opens its tables. The
// returned close function releases the tables.
func FromConfig(cfg *config.Config) (*Settings, func() error, error) {
	s := &Settings{}
	var p tableParams
	if err := cfg.Fill(s); err != nil {
		return nil, nil, err
	}
	if err := cfg.Fill(&p); err != nil {
		return nil, nil, err
	}
	s.QmgrTrigger = "public/" + p.QueueService
	for _, v := range p.Propagate {
		switch v {
		case "canonical":
			s.PropagateCanonical = true
		case "virtual":
			s.PropagateVirtual = true
		}
	}
	o := &opened{checks: hbc.NewOpener(cfg)}
	if err := o.open(cfg, s, p); err != nil {
		o.close(s)
		return nil, nil, err
	}
	return s, func() error { return o.close(s) }, nil
}

// opened are the tables FromConfig opened, for closing them.
type opened struct {
	tables   []maps.Table
	checks   *hbc.Opener
	resolver *resolve.Resolver
}

// open opens the address tables, the header and body checks, the milter
// settings, the rewrite clients and the resolver for IsLocalDomain.
func (o *opened) open(cfg *config.Config, s *Settings, p tableParams) error {
	for _, t := range []struct {
		name  string
		specs []string
		dst   *[]maps.Table
	}{
		{"virtual_alias_maps", p.VirtualAliasMaps, &s.VirtualAliasMaps},
		{"canonical_maps", p.CanonicalMaps, &s.CanonicalMaps},
		{"sender_canonical_maps", p.SenderCanonicalMaps, &s.SenderCanonicalMaps},
		{"recipient_canonical_maps", p.RecipientCanonicalMaps, &s.RecipientCanonicalMaps},
		{"sender_bcc_maps", p.SenderBCCMaps, &s.SenderBCCMaps},
		{"recipient_bcc_maps", p.RecipientBCCMaps, &s.RecipientBCCMaps},
	} {
		for _, spec := range t.specs {
			table, err := maps.Open(spec, maps.Options{})
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			o.tables = append(o.tables, table)
			*t.dst = append(*t.dst, table)
		}
	}
	var err error
	openTable := func(spec string) (maps.Table, error) {
		t, err := maps.Open(spec, maps.Options{})
		if err == nil {
			o.tables = append(o.tables, t)
		}
		return t, err
	}
	if s.Masquerade, err = newMasquerade(p.MasqueradeDomains, p.MasqueradeExceptions, p.MasqueradeClasses, openTable); err != nil {
		return err
	}
	for _, c := range []struct {
		name string
		dst  **hbc.Checks
	}{
		{"header_checks", &s.HeaderChecks}, {"mime_header_checks", &s.MIMEHeaderChecks},
		{"nested_header_checks", &s.NestedHeaderChecks}, {"body_checks", &s.BodyChecks},
		{"milter_header_checks", &s.MilterHeaderChecks},
	} {
		if *c.dst, err = o.checks.Open(c.name); err != nil {
			return err
		}
	}
	if s.Milter, err = milter.FromConfig(cfg); err != nil {
		return err
	}
	nonSMTPD, err := cfg.Get("non_smtpd_milters")
	if err != nil {
		return err
	}
	if s.NonSMTPDMilters, err = s.Milter.Specs(nonSMTPD); err != nil {
		return fmt.Errorf("non_smtpd_milters: %w", err)
	}
	locals, err := cfg.LocalAddresses()
	if err != nil {
		return err
	}
	if s.LocalHeaderClients, err = NewRewriteClients(p.LocalHeaderClients, RewriteClientsConfig{LocalAddresses: locals, MyNetworks: p.MyNetworks}); err != nil {
		return err
	}
	if o.resolver, err = resolve.FromConfig(cfg, locals, nil); err != nil {
		return err
	}
	s.IsLocalDomain = o.resolver.IsLocalDomain
	return nil
}

// close releases what open opened and returns the first error.
func (o *opened) close(s *Settings) error {
	errs := []error{s.LocalHeaderClients.Close(), o.checks.Close()}
	for _, t := range o.tables {
		errs = append(errs, t.Close())
	}
	if o.resolver != nil {
		errs = append(errs, o.resolver.Close())
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
