// Envelope recipients as carried in submissions and delivery requests.

package ipc

// DSNNotify holds the RFC 3461 NOTIFY= keywords of a recipient as bits.
type DSNNotify uint8

// NOTIFY keywords. Zero means the client gave no NOTIFY parameter.
const (
	DSNNotifyNever   DSNNotify = 1 << 0
	DSNNotifySuccess DSNNotify = 1 << 1
	DSNNotifyFailure DSNNotify = 1 << 2
	DSNNotifyDelay   DSNNotify = 1 << 3
)

// DSNRet is the RFC 3461 RET= parameter of a message.
type DSNRet uint8

// RET values. Zero means the client gave no RET parameter.
const (
	DSNRetFull    DSNRet = 1
	DSNRetHeaders DSNRet = 2
)

// Recipient is one envelope recipient.
type Recipient struct {
	// Address is the recipient address, without angle brackets.
	Address string
	// OriginalRecipient is the address before aliasing or rewriting, as
	// logged in orig_to=; empty when it is the same as Address.
	OriginalRecipient string
	// Offset is the position of the recipient's record in the queue file,
	// where the delivery agent's result marks it done. Delivery requests
	// only; zero in submissions.
	Offset int64
	// Notify is the RFC 3461 NOTIFY= parameter.
	Notify DSNNotify
	// ORCPT is the RFC 3461 ORCPT= parameter as given, e.g.
	// "rfc822;user@example.com".
	ORCPT string
}

func (rc *Recipient) fields(c *codec) {
	c.string(1, &rc.Address)
	c.string(2, &rc.OriginalRecipient)
	c.offset(3, &rc.Offset)
	c.dsnNotify(4, &rc.Notify)
	c.string(5, &rc.ORCPT)
}
