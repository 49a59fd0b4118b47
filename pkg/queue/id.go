// Queue IDs: Postfix's short (hex) and long (base-52) forms, built from time and inode.

package queue

import (
	"fmt"
	"strings"
	"time"
)

// safeAlphabet is the digit set of long queue IDs: digits, then upper- and
// lower-case letters without vowels, so that an ID never spells a word.
// Long-ID time fields use all 52 characters; the inode field uses the first
// 51, so that it never contains the 'z' separator.
const safeAlphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"

const (
	longSecondsWidth = 6   // minimum width of the seconds field
	longMicrosWidth  = 4   // exact width of the microseconds field
	longInodeSep     = 'z' // separates the time fields from the inode
	longTimeBase     = 52
	longInodeBase    = 51
	shortMicrosWidth = 5 // exact width of the hex microseconds field
	maxIDLength      = 255
)

// NewID returns the queue ID for a file with inode number inode created at
// t: with long set, Postfix's enable_long_queue_ids form (base-52 seconds,
// four base-52 microsecond digits, 'z', base-51 inode); otherwise the short
// form (five upper-case hex digits of microseconds, then the inode in hex).
// Two files that exist at the same time have different inodes, so their IDs
// differ; short IDs repeat over time, long ones do not.
func NewID(t time.Time, inode uint64, long bool) string {
	micros := uint64(t.Nanosecond() / 1000)
	if !long {
		return fmt.Sprintf("%05X%X", micros, inode)
	}
	var b strings.Builder
	b.WriteString(encodeSafe(uint64(t.Unix()), longTimeBase, longSecondsWidth))
	b.WriteString(encodeSafe(micros, longTimeBase, longMicrosWidth))
	b.WriteByte(longInodeSep)
	b.WriteString(encodeSafe(inode, longInodeBase, 0))
	return b.String()
}

// encodeSafe writes v in the safe alphabet with the given base, most
// significant digit first (at least one), padded with '0' to width.
func encodeSafe(v uint64, base uint64, width int) string {
	var digits []byte
	for {
		digits = append(digits, safeAlphabet[v%base])
		v /= base
		if v == 0 {
			break
		}
	}
	for len(digits) < width {
		digits = append(digits, '0')
	}
	for i, j := 0, len(digits)-1; i < j; i, j = i+1, j-1 {
		digits[i], digits[j] = digits[j], digits[i]
	}
	return string(digits)
}

// decodeSafe is the inverse of encodeSafe; ok is false for a character
// outside the first base characters of the alphabet, or on overflow.
func decodeSafe(s string, base uint64) (v uint64, ok bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(safeAlphabet[:base], s[i])
		if d < 0 {
			return 0, false
		}
		next := v*base + uint64(d)
		if next/base != v {
			return 0, false
		}
		v = next
	}
	return v, true
}

// IsLongID reports whether id has the long form: a 'z' after at least the
// ten characters of the time fields.
func IsLongID(id string) bool {
	return strings.LastIndexByte(id, longInodeSep) >= longSecondsWidth+longMicrosWidth
}

// ValidID reports whether id can name a queue file, as Postfix's
// mail_queue_id_ok: non-empty, at most 255 characters, letters, digits and
// underscores only. Temporary files (which contain a dot) fail the test.
func ValidID(id string) bool {
	if id == "" || len(id) > maxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_') {
			return false
		}
	}
	return true
}

// hashKey is the string whose leading characters choose the hashed
// subdirectories of id: the ID itself for short IDs; for long IDs the
// microseconds field rewritten as five hex digits, so that both forms spread
// over the same sixteen subdirectories.
func hashKey(id string) string {
	sep := strings.LastIndexByte(id, longInodeSep)
	if sep < longSecondsWidth+longMicrosWidth {
		return id
	}
	micros, ok := decodeSafe(id[sep-longMicrosWidth:sep], longTimeBase)
	if !ok {
		return id
	}
	return fmt.Sprintf("%0*X", shortMicrosWidth, micros)
}

// InodeOf returns the inode number encoded in a queue ID, in the long or
// the short form.
func InodeOf(id string) (uint64, bool) {
	if sep := strings.LastIndexByte(id, longInodeSep); sep >= longSecondsWidth+longMicrosWidth {
		return decodeSafe(id[sep+1:], longInodeBase)
	}
	if len(id) <= shortMicrosWidth {
		return 0, false
	}
	var inode uint64
	for _, c := range id[shortMicrosWidth:] {
		d := strings.IndexRune("0123456789ABCDEF", c)
		if d < 0 || inode>>60 != 0 {
			return 0, false
		}
		inode = inode<<4 | uint64(d)
	}
	return inode, true
}

// WithInode returns id with its inode part replaced, keeping the time
// part, in the same form.
func WithInode(id string, inode uint64) string {
	if sep := strings.LastIndexByte(id, longInodeSep); sep >= longSecondsWidth+longMicrosWidth {
		return id[:sep+1] + encodeSafe(inode, longInodeBase, 0)
	}
	return fmt.Sprintf("%s%X", id[:min(len(id), shortMicrosWidth)], inode)
}
