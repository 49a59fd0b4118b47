// Attribute-list encoding of message payloads: tag, length, value triples.

package ipc

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// attrWriter appends attributes to a payload buffer. Zero values are
// omitted, so a decoder sees a missing attribute and a zero one alike.
type attrWriter struct {
	buf []byte
}

func (w *attrWriter) header(tag uint64, length int) {
	w.buf = binary.AppendUvarint(w.buf, tag)
	w.buf = binary.AppendUvarint(w.buf, uint64(length))
}

func (w *attrWriter) putString(tag uint64, s string) {
	if s == "" {
		return
	}
	w.header(tag, len(s))
	w.buf = append(w.buf, s...)
}

// putBytes always writes the attribute, even when b is empty.
func (w *attrWriter) putBytes(tag uint64, b []byte) {
	w.header(tag, len(b))
	w.buf = append(w.buf, b...)
}

func (w *attrWriter) putUint(tag uint64, v uint64) {
	if v == 0 {
		return
	}
	var tmp [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(tmp[:], v)
	w.header(tag, n)
	w.buf = append(w.buf, tmp[:n]...)
}

func (w *attrWriter) putInt(tag uint64, v int64) {
	if v == 0 {
		return
	}
	var tmp [binary.MaxVarintLen64]byte
	n := binary.PutVarint(tmp[:], v)
	w.header(tag, n)
	w.buf = append(w.buf, tmp[:n]...)
}

func (w *attrWriter) putBool(tag uint64, v bool) {
	if v {
		w.putUint(tag, 1)
	}
}

func (w *attrWriter) putUint32(tag uint64, v uint32) { w.putUint(tag, uint64(v)) }

func (w *attrWriter) putCount(tag uint64, v int) { w.putUint(tag, uint64(v)) }

func (w *attrWriter) putDuration(tag uint64, d time.Duration) { w.putInt(tag, int64(d)) }

func (w *attrWriter) putDSNRet(tag uint64, v DSNRet) { w.putUint(tag, uint64(v)) }

func (w *attrWriter) putDSNNotify(tag uint64, v DSNNotify) { w.putUint(tag, uint64(v)) }

func (w *attrWriter) putDeliveryStatus(tag uint64, v DeliveryStatus) { w.putUint(tag, uint64(v)) }

// putTriggerCodes writes the codes one byte each; no codes, nothing.
func (w *attrWriter) putTriggerCodes(tag uint64, codes []TriggerCode) {
	b := make([]byte, len(codes))
	for i, code := range codes {
		b[i] = byte(code)
	}
	w.putString(tag, string(b))
}

// attrReader walks the attributes of a payload. After next returns true,
// tag and value describe the current attribute.
type attrReader struct {
	rest  []byte
	tag   uint64
	value []byte
	err   error
}

func (r *attrReader) next() bool {
	if r.err != nil || len(r.rest) == 0 {
		return false
	}
	tag, n := binary.Uvarint(r.rest)
	if n <= 0 {
		r.err = fmt.Errorf("malformed attribute tag")
		return false
	}
	length, m := binary.Uvarint(r.rest[n:])
	if m <= 0 {
		r.err = fmt.Errorf("malformed length of attribute %d", tag)
		return false
	}
	body := r.rest[n+m:]
	if length > uint64(len(body)) {
		r.err = fmt.Errorf("attribute %d: length %d exceeds the %d bytes left", tag, length, len(body))
		return false
	}
	r.tag, r.value, r.rest = tag, body[:length], body[length:]
	return true
}

func (r *attrReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("attribute %d: "+format, append([]any{r.tag}, args...)...)
	}
}

func (r *attrReader) string() string { return string(r.value) }

func (r *attrReader) bytes() []byte { return r.value }

func (r *attrReader) uint() uint64 {
	v, n := binary.Uvarint(r.value)
	if n <= 0 || n != len(r.value) {
		r.fail("malformed unsigned integer")
		return 0
	}
	return v
}

func (r *attrReader) uint32() uint32 {
	v := r.uint()
	if v > math.MaxUint32 {
		r.fail("value %d out of range", v)
		return 0
	}
	return uint32(v)
}

func (r *attrReader) int() int64 {
	v, n := binary.Varint(r.value)
	if n <= 0 || n != len(r.value) {
		r.fail("malformed integer")
		return 0
	}
	return v
}

// count decodes a non-negative int that fits in 32 bits.
func (r *attrReader) count() int { return int(r.uint32()) }

func (r *attrReader) bool() bool {
	switch r.uint() {
	case 0:
		return false
	case 1:
		return true
	default:
		r.fail("malformed boolean")
		return false
	}
}

// nested returns a reader over the current attribute's value.
func (r *attrReader) nested() *attrReader {
	return &attrReader{rest: r.value}
}

// adopt records an error from a nested reader.
func (r *attrReader) adopt(inner *attrReader) {
	if inner.err != nil && r.err == nil {
		r.err = fmt.Errorf("attribute %d: %w", r.tag, inner.err)
	}
}

// putTime writes t as Unix nanoseconds; the zero time is left out.
func (w *attrWriter) putTime(tag uint64, t time.Time) {
	if !t.IsZero() {
		w.putInt(tag, t.UnixNano())
	}
}

// time decodes Unix nanoseconds; 0 stands for the zero time.
func (r *attrReader) time() time.Time {
	n := r.int()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func (r *attrReader) duration() time.Duration {
	d := time.Duration(r.int())
	if d < 0 {
		r.fail("negative duration %v", d)
		return 0
	}
	return d
}

func (r *attrReader) dsnRet() DSNRet {
	v := r.uint()
	if v > uint64(DSNRetHeaders) {
		r.fail("invalid DSN RET value %d", v)
		return 0
	}
	return DSNRet(v)
}

// offset decodes a file offset or size, which cannot be negative.
func (r *attrReader) offset() int64 {
	v := r.int()
	if v < 0 {
		r.fail("negative offset %d", v)
		return 0
	}
	return v
}

func (r *attrReader) dsnNotify() DSNNotify {
	v := r.uint()
	if v > uint64(DSNNotifyNever|DSNNotifySuccess|DSNNotifyFailure|DSNNotifyDelay) {
		r.fail("invalid DSN notify bits 0x%x", v)
	}
	return DSNNotify(v)
}

func (r *attrReader) deliveryStatus() DeliveryStatus {
	v := r.uint()
	if v < uint64(StatusSent) || v > uint64(StatusBounced) {
		r.fail("unknown delivery status %d", v)
	}
	return DeliveryStatus(v)
}

// chunk decodes message content of at most MaxChunk bytes, sharing the
// payload's memory.
func (r *attrReader) chunk() []byte {
	if len(r.value) > MaxChunk {
		r.fail("content chunk of %d bytes exceeds %d", len(r.value), MaxChunk)
	}
	return r.value
}

// triggerCodes decodes one code a byte; an unknown code stops the list.
func (r *attrReader) triggerCodes() []TriggerCode {
	var codes []TriggerCode
	for _, b := range r.value {
		if !TriggerCode(b).valid() {
			if r.err == nil {
				r.err = fmt.Errorf("unknown trigger code 0x%02x", b)
			}
			return codes
		}
		codes = append(codes, TriggerCode(b))
	}
	return codes
}
