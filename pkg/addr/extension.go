// Address extensions: where recipient_delimiter splits a local part, and
// the local parts Postfix never splits.

package addr

import "strings"

// Extensions are the parameters that decide whether and where a local
// part has an address extension ("user+ext"). A settings struct embeds
// it (untagged) and config.Fill fills it.
type Extensions struct {
	// Delimiter is recipient_delimiter: the characters that start an
	// extension ("" for none).
	Delimiter string `param:"recipient_delimiter"`
	// OwnerRequestSpecial is owner_request_special: with "-" among the
	// delimiters, "owner-list" and "list-request" are not split.
	OwnerRequestSpecial bool `param:"owner_request_special"`
	// DoubleBounceSender is double_bounce_sender, a local part that is
	// never split.
	DoubleBounceSender string `param:"double_bounce_sender"`
}

// Split splits a local part at its first delimiter character into the
// base and the extension, the delimiter left out of both: "user+ext"
// gives "user", "ext", true. As Postfix's split_addr, it leaves alone
// postmaster, MAILER-DAEMON and $double_bounce_sender (case ignored),
// "owner-*" and "*-request" when "-" is a delimiter and
// owner_request_special is on, and a local part whose base would be
// empty.
func (e Extensions) Split(local string) (base, ext string, ok bool) {
	if e.Delimiter == "" {
		return local, "", false
	}
	if strings.EqualFold(local, "postmaster") || strings.EqualFold(local, "MAILER-DAEMON") ||
		strings.EqualFold(local, e.DoubleBounceSender) {
		return local, "", false
	}
	if e.OwnerRequestSpecial && strings.Contains(e.Delimiter, "-") {
		if len(local) >= 6 && strings.EqualFold(local[:6], "owner-") {
			return local, "", false
		}
		if len(local) > 8 && strings.EqualFold(local[len(local)-8:], "-request") {
			return local, "", false
		}
	}
	// Bytes, as Postfix compares them.
	for i := 0; i < len(local); i++ {
		if strings.IndexByte(e.Delimiter, local[i]) >= 0 {
			if i == 0 {
				break
			}
			return local[:i], local[i+1:], true
		}
	}
	return local, "", false
}

// Strip is the local part without its extension and delimiter.
func (e Extensions) Strip(local string) string {
	base, _, _ := e.Split(local)
	return base
}
