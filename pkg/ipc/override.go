// receive_override_options: which of cleanup's optional processing a
// receiving program (smtpd, pickup, qmqpd) turns off.

package ipc

import (
	"fmt"
	"strings"
)

// ReceiveOverride is a parsed receive_override_options value.
type ReceiveOverride struct {
	NoUnknownRecipientChecks bool // no_unknown_recipient_checks (smtpd only)
	NoAddressMappings        bool // no_address_mappings
	NoHeaderBodyChecks       bool // no_header_body_checks
	NoMilters                bool // no_milters
}

// ParseReceiveOverride parses the list of receive_override_options.
func ParseReceiveOverride(options []string) (ReceiveOverride, error) {
	var o ReceiveOverride
	for _, opt := range options {
		switch strings.ToLower(opt) {
		case "no_unknown_recipient_checks":
			o.NoUnknownRecipientChecks = true
		case "no_address_mappings":
			o.NoAddressMappings = true
		case "no_header_body_checks":
			o.NoHeaderBodyChecks = true
		case "no_milters":
			o.NoMilters = true
		default:
			return o, fmt.Errorf("unknown receive_override_options value \"%s\" in \"%s\"", opt, strings.Join(options, ", "))
		}
	}
	return o, nil
}

// CleanupFlags returns the flags a receiving program asks cleanup for:
// header and body checks, address mapping with automatic BCC, and
// non-SMTP milters, minus what the options turn off.
func (o ReceiveOverride) CleanupFlags() CleanupFlags {
	flags := CleanupFlagFilter | CleanupFlagMapOK | CleanupFlagBCCOK | CleanupFlagMilter
	if o.NoHeaderBodyChecks {
		flags &^= CleanupFlagFilter
	}
	if o.NoAddressMappings {
		flags &^= CleanupFlagMapOK | CleanupFlagBCCOK
	}
	if o.NoMilters {
		flags &^= CleanupFlagMilter
	}
	return flags
}
