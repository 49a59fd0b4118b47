// One declaration of a message's fields serves encoding, decoding and
// resetting: each message type lists its fields once, in its fields method.

package ipc

import "time"

// fielded is a message or a nested attribute group (a recipient, a
// recipient result). Its fields method calls one codec method per field,
// with the field's tag and its address. The tags are part of the wire
// format: never reuse or renumber one.
type fielded interface {
	fields(c *codec)
}

// checker is a fielded type with a rule across its fields, checked after
// it is decoded.
type checker interface {
	check() error
}

type codecMode uint8

const (
	encoding  codecMode = iota // append every non-zero field to w
	resetting                  // set every field to its zero value
	decoding                   // set the field whose tag is r's current attribute
)

// codec is one pass over a fielded value's fields.
type codec struct {
	mode codecMode
	w    attrWriter
	r    *attrReader
}

// encodeFields appends v's attributes to dst.
func encodeFields(dst []byte, v fielded) []byte {
	c := codec{mode: encoding, w: attrWriter{buf: dst}}
	v.fields(&c)
	return c.w.buf
}

// decodeFields replaces v's fields with the attributes r walks over.
// Attributes with tags v does not declare are skipped.
func decodeFields(v fielded, r *attrReader) {
	c := codec{mode: resetting}
	v.fields(&c)
	c = codec{mode: decoding, r: r}
	for r.next() {
		v.fields(&c)
	}
	if ch, ok := v.(checker); ok && r.err == nil {
		if err := ch.check(); err != nil {
			r.err = err
		}
	}
}

// decode replaces m's fields with those in payload.
func decode(m Message, payload []byte) error {
	r := attrReader{rest: payload}
	decodeFields(m, &r)
	return r.err
}

// at reports whether decoding is at the attribute with tag.
func (c *codec) at(tag uint64) bool {
	return c.mode == decoding && c.r.tag == tag
}

// field is one pass over the field at p with tag: encoding appends it
// with put, resetting zeroes it, decoding sets it with get when the
// reader is at tag.
func field[T any](c *codec, tag uint64, p *T, put func(*attrWriter, uint64, T), get func(*attrReader) T) {
	switch {
	case c.mode == encoding:
		put(&c.w, tag, *p)
	case c.mode == resetting:
		var zero T
		*p = zero
	case c.at(tag):
		*p = get(c.r)
	}
}

// The field types, each with how it travels (see attr.go).

func (c *codec) string(tag uint64, p *string) {
	field(c, tag, p, (*attrWriter).putString, (*attrReader).string)
}

func (c *codec) bool(tag uint64, p *bool) {
	field(c, tag, p, (*attrWriter).putBool, (*attrReader).bool)
}

// uint32 carries flag sets and other unsigned 32-bit values.
func (c *codec) uint32(tag uint64, p *uint32) {
	field(c, tag, p, (*attrWriter).putUint32, (*attrReader).uint32)
}

// count is a non-negative int that fits in 32 bits.
func (c *codec) count(tag uint64, p *int) {
	field(c, tag, p, (*attrWriter).putCount, (*attrReader).count)
}

// offset is a file offset or size, never negative.
func (c *codec) offset(tag uint64, p *int64) {
	field(c, tag, p, (*attrWriter).putInt, (*attrReader).offset)
}

// time travels as Unix nanoseconds; the zero time is left out.
func (c *codec) time(tag uint64, p *time.Time) {
	field(c, tag, p, (*attrWriter).putTime, (*attrReader).time)
}

// duration travels as nanoseconds, never negative.
func (c *codec) duration(tag uint64, p *time.Duration) {
	field(c, tag, p, (*attrWriter).putDuration, (*attrReader).duration)
}

func (c *codec) dsnRet(tag uint64, p *DSNRet) {
	field(c, tag, p, (*attrWriter).putDSNRet, (*attrReader).dsnRet)
}

func (c *codec) dsnNotify(tag uint64, p *DSNNotify) {
	field(c, tag, p, (*attrWriter).putDSNNotify, (*attrReader).dsnNotify)
}

func (c *codec) deliveryStatus(tag uint64, p *DeliveryStatus) {
	field(c, tag, p, (*attrWriter).putDeliveryStatus, (*attrReader).deliveryStatus)
}

// chunk is message content: written even when empty, at most MaxChunk
// bytes, and sharing memory with the payload it was decoded from.
func (c *codec) chunk(tag uint64, p *[]byte) {
	field(c, tag, p, (*attrWriter).putBytes, (*attrReader).chunk)
}

// triggerCodes travel as one byte each; an unknown code is an error.
func (c *codec) triggerCodes(tag uint64, p *[]TriggerCode) {
	field(c, tag, p, (*attrWriter).putTriggerCodes, (*attrReader).triggerCodes)
}

func (c *codec) recipients(tag uint64, p *[]Recipient) { nestedList(c, tag, p) }

func (c *codec) recipientResults(tag uint64, p *[]RecipientResult) { nestedList(c, tag, p) }

// nestedList carries a list of attribute groups, one attribute each.
func nestedList[T any, P interface {
	*T
	fielded
}](c *codec, tag uint64, list *[]T) {
	switch {
	case c.mode == encoding:
		for i := range *list {
			c.w.putBytes(tag, encodeFields(nil, P(&(*list)[i])))
		}
	case c.mode == resetting:
		*list = nil
	case c.at(tag):
		var v T
		inner := c.r.nested()
		decodeFields(P(&v), inner)
		c.r.adopt(inner)
		*list = append(*list, v)
	}
}
