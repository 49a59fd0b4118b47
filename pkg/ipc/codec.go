// One declaration of a message's fields serves encoding, decoding and
// resetting: each message type lists its fields once, in its fields method.

package ipc

import (
	"fmt"
	"time"
)

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

func (c *codec) string(tag uint64, p *string) {
	switch {
	case c.mode == encoding:
		c.w.putString(tag, *p)
	case c.mode == resetting:
		*p = ""
	case c.at(tag):
		*p = c.r.string()
	}
}

func (c *codec) bool(tag uint64, p *bool) {
	switch {
	case c.mode == encoding:
		c.w.putBool(tag, *p)
	case c.mode == resetting:
		*p = false
	case c.at(tag):
		*p = c.r.bool()
	}
}

// uint32 carries flag sets and other unsigned 32-bit values.
func (c *codec) uint32(tag uint64, p *uint32) {
	switch {
	case c.mode == encoding:
		c.w.putUint(tag, uint64(*p))
	case c.mode == resetting:
		*p = 0
	case c.at(tag):
		*p = c.r.uint32()
	}
}

// count is a non-negative int that fits in 32 bits.
func (c *codec) count(tag uint64, p *int) {
	switch {
	case c.mode == encoding:
		c.w.putUint(tag, uint64(*p))
	case c.mode == resetting:
		*p = 0
	case c.at(tag):
		*p = int(c.r.uint32())
	}
}

// offset is a file offset or size, never negative.
func (c *codec) offset(tag uint64, p *int64) {
	switch {
	case c.mode == encoding:
		c.w.putInt(tag, *p)
	case c.mode == resetting:
		*p = 0
	case c.at(tag):
		*p = c.r.offset()
	}
}

// time travels as Unix nanoseconds; the zero time is left out.
func (c *codec) time(tag uint64, p *time.Time) {
	switch {
	case c.mode == encoding:
		putTime(&c.w, tag, *p)
	case c.mode == resetting:
		*p = time.Time{}
	case c.at(tag):
		*p = c.r.time()
	}
}

// duration travels as nanoseconds, never negative.
func (c *codec) duration(tag uint64, p *time.Duration) {
	switch {
	case c.mode == encoding:
		c.w.putInt(tag, int64(*p))
	case c.mode == resetting:
		*p = 0
	case c.at(tag):
		*p = c.r.duration()
	}
}

func (c *codec) dsnRet(tag uint64, p *DSNRet) {
	switch {
	case c.mode == encoding:
		c.w.putUint(tag, uint64(*p))
	case c.mode == resetting:
		*p = 0
	case c.at(tag):
		*p = c.r.dsnRet()
	}
}

func (c *codec) dsnNotify(tag uint64, p *DSNNotify) {
	switch {
	case c.mode == encoding:
		c.w.putUint(tag, uint64(*p))
	case c.mode == resetting:
		*p = 0
	case c.at(tag):
		v := c.r.uint()
		if v > uint64(DSNNotifyNever|DSNNotifySuccess|DSNNotifyFailure|DSNNotifyDelay) {
			c.r.fail("invalid DSN notify bits 0x%x", v)
		}
		*p = DSNNotify(v)
	}
}

func (c *codec) deliveryStatus(tag uint64, p *DeliveryStatus) {
	switch {
	case c.mode == encoding:
		c.w.putUint(tag, uint64(*p))
	case c.mode == resetting:
		*p = 0
	case c.at(tag):
		v := c.r.uint()
		if v < uint64(StatusSent) || v > uint64(StatusBounced) {
			c.r.fail("unknown delivery status %d", v)
		}
		*p = DeliveryStatus(v)
	}
}

// chunk is message content: written even when empty, at most MaxChunk
// bytes, and sharing memory with the payload it was decoded from.
func (c *codec) chunk(tag uint64, p *[]byte) {
	switch {
	case c.mode == encoding:
		c.w.putBytes(tag, *p)
	case c.mode == resetting:
		*p = nil
	case c.at(tag):
		*p = c.r.bytes()
		if len(*p) > MaxChunk {
			c.r.fail("content chunk of %d bytes exceeds %d", len(*p), MaxChunk)
		}
	}
}

// triggerCodes travel as one byte each; an unknown code is an error.
func (c *codec) triggerCodes(tag uint64, p *[]TriggerCode) {
	switch {
	case c.mode == encoding:
		codes := make([]byte, len(*p))
		for i, code := range *p {
			codes[i] = byte(code)
		}
		c.w.putString(tag, string(codes))
	case c.mode == resetting:
		*p = nil
	case c.at(tag):
		*p = (*p)[:0]
		for _, b := range c.r.bytes() {
			if !TriggerCode(b).valid() {
				if c.r.err == nil {
					c.r.err = fmt.Errorf("unknown trigger code 0x%02x", b)
				}
				return
			}
			*p = append(*p, TriggerCode(b))
		}
	}
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
