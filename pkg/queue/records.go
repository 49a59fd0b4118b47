// The queue file format: typed records, their names as postcat prints them, and a record reader.
//
// A queue file is a sequence of records, after Postfix's design. Each record is
//
//	type (1 byte) | length (unsigned LEB128 varint, 1-3 bytes) | data (length bytes)
//
// A file has three sections, each opened by a marker record:
//
//	envelope   C size          six fixed-width decimal fields, "%15d %15d %15d %15d %15d %15d":
//	                           content segment size in bytes (from the first
//	                           content record to the X marker), offset of the
//	                           first content record, recipient count, qmgr
//	                           options, content length (message bytes with LF
//	                           line ends), SMTPUTF8 flag. Always the first record;
//	                           written as zeros and overwritten in place at commit.
//	           T arrival time  "seconds microseconds"
//	           A attribute     "name=value"; create_time=SECONDS, client_address=,
//	                           helo_name=, protocol=, dsn_ret=, dsn_envid=, ...
//	           F full name     the sender's full name (sendmail -F), when known
//	           S sender        the envelope sender, empty for the null sender
//	           per recipient, in this order:
//	           o dsn orcpt     RFC 3461 ORCPT (only when given)
//	           n dsn notify    NOTIFY bits as decimal (only when given)
//	           O original rcpt the address before rewriting
//	           R recipient     still to deliver ("todo"); flipped in place to
//	           D done          once delivered, bounced or otherwise finished.
//	                           The flip overwrites the one type byte at the
//	                           record's offset, so it is atomic and needs no
//	                           other change to the file.
//	content    M content       marker, empty data
//	           N line          one message line without its line end
//	           L partial line  a piece of a line longer than MaxLineRecord;
//	                           the line continues in the next L or N record
//	extracted  X extracted     marker, empty data; may be followed by
//	                           A, o, n, O, R, D records added after the content
//	           E end           marker; the file is complete. Nothing may follow.
//
// A committed file has mode 0700 (owner execute set, as Postfix marks a
// finished file); a file still being written has mode 0600 and is ignored
// by readers of the incoming queue. Group execute (0010) marks a message
// force-expired by postsuper -e/-f.

package queue

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
)

// RecordType is the first byte of a record.
type RecordType byte

// Record types.
const (
	RecSize       RecordType = 'C'
	RecTime       RecordType = 'T'
	RecAttr       RecordType = 'A'
	RecFullName   RecordType = 'F'
	RecSender     RecordType = 'S'
	RecDSNOrcpt   RecordType = 'o'
	RecDSNNotify  RecordType = 'n'
	RecOrigRcpt   RecordType = 'O'
	RecRcpt       RecordType = 'R'
	RecDone       RecordType = 'D'
	RecContent    RecordType = 'M'
	RecLine       RecordType = 'N'
	RecLinePart   RecordType = 'L'
	RecExtracted  RecordType = 'X'
	RecEnd        RecordType = 'E'
	maxRecordData            = 1 << 20 // longest record data accepted by readers
	// MaxLineRecord is the longest piece of a message line in one record.
	MaxLineRecord = 4096
)

// Name is the record type as postcat prints it ("recipient", "done_recipient").
func (t RecordType) Name() string {
	switch t {
	case RecSize:
		return "message_size"
	case RecTime:
		return "message_arrival_time"
	case RecAttr:
		return "named_attribute"
	case RecFullName:
		return "sender_fullname"
	case RecSender:
		return "sender"
	case RecDSNOrcpt:
		return "dsn_original_recipient"
	case RecDSNNotify:
		return "dsn_notify_flags"
	case RecOrigRcpt:
		return "original_recipient"
	case RecRcpt:
		return "recipient"
	case RecDone:
		return "done_recipient"
	case RecContent:
		return "message_content"
	case RecLine:
		return "regular_text"
	case RecLinePart:
		return "unterminated_text"
	case RecExtracted:
		return "extracted_info"
	case RecEnd:
		return "message_end"
	}
	return "unknown_record_type"
}

// Record is one record read from a queue file.
type Record struct {
	Type RecordType
	Data []byte
	// Offset is the position of the record's type byte in the file.
	Offset int64
}

// appendRecord encodes one record.
func appendRecord(dst []byte, t RecordType, data []byte) []byte {
	dst = append(dst, byte(t))
	n := uint64(len(data))
	for n >= 0x80 {
		dst = append(dst, byte(n)|0x80)
		n >>= 7
	}
	dst = append(dst, byte(n))
	return append(dst, data...)
}

// ErrCorrupt is wrapped by every error about a malformed queue file.
var ErrCorrupt = errors.New("corrupt queue file")

// RecordReader reads records one at a time, tracking their offsets.
type RecordReader struct {
	src io.Reader
	r   *bufio.Reader
	off int64
	buf []byte
}

// readerPool holds the 64 KB read buffers of released RecordReaders:
// one for every message a delivery agent reads is garbage that costs
// more CPU than the read.
var readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// errReleased is what a RecordReader gives after Release.
var errReleased = errors.New("queue record reader used after Release")

// NewRecordReader reads records from r, whose next byte is at offset
// start of the file. Release it when done.
func NewRecordReader(r io.Reader, start int64) *RecordReader {
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(r)
	return &RecordReader{src: r, r: br, off: start}
}

// Release hands the read buffer back for reuse; the reader gives only
// errors afterwards. Records already returned stay valid.
func (rr *RecordReader) Release() {
	if rr.r == nil {
		return
	}
	rr.r.Reset(nil)
	readerPool.Put(rr.r)
	rr.r = nil
}

// SkipTo moves forward to offset off, seeking when the source can seek
// and off is beyond what is buffered. Skipping past the end of the input
// gives an error wrapping ErrCorrupt.
func (rr *RecordReader) SkipTo(off int64) error {
	if rr.r == nil {
		return errReleased
	}
	if off < rr.off {
		return fmt.Errorf("%w: offset %d: cannot skip backwards to %d", ErrCorrupt, rr.off, off)
	}
	if seeker, ok := rr.src.(io.Seeker); ok && off-rr.off > int64(rr.r.Buffered()) {
		if _, err := seeker.Seek(off, io.SeekStart); err != nil {
			return fmt.Errorf("seek to %d: %w", off, err)
		}
		rr.r.Reset(rr.src)
		rr.off = off
		return nil
	}
	for rr.off < off {
		n, err := rr.r.Discard(int(min(off-rr.off, 1<<30)))
		rr.off += int64(n)
		if err != nil {
			return rr.cut(rr.off, err)
		}
	}
	return nil
}

// Offset is the position of the next record.
func (rr *RecordReader) Offset() int64 { return rr.off }

// Next returns the next record; its Data is valid until the following
// call. At the end of input it returns io.EOF; a record cut short or too
// long gives an error wrapping ErrCorrupt.
func (rr *RecordReader) Next() (Record, error) {
	if rr.r == nil {
		return Record{}, errReleased
	}
	start := rr.off
	typ, err := rr.r.ReadByte()
	if err == io.EOF {
		return Record{}, io.EOF
	}
	if err != nil {
		return Record{}, err
	}
	var length uint64
	for shift := uint(0); ; shift += 7 {
		b, err := rr.r.ReadByte()
		if err != nil {
			return Record{}, rr.cut(start, err)
		}
		if shift >= 21 {
			return Record{}, fmt.Errorf("%w: offset %d: record length too long", ErrCorrupt, start)
		}
		length |= uint64(b&0x7f) << shift
		if b < 0x80 {
			rr.off += int64(shift/7) + 2
			break
		}
	}
	if length > maxRecordData {
		return Record{}, fmt.Errorf("%w: offset %d: record length %d exceeds %d", ErrCorrupt, start, length, maxRecordData)
	}
	if cap(rr.buf) < int(length) {
		rr.buf = make([]byte, length)
	}
	rr.buf = rr.buf[:length]
	if _, err := io.ReadFull(rr.r, rr.buf); err != nil {
		return Record{}, rr.cut(start, err)
	}
	rr.off += int64(length)
	return Record{Type: RecordType(typ), Data: rr.buf, Offset: start}, nil
}

func (rr *RecordReader) cut(start int64, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: offset %d: truncated record", ErrCorrupt, start)
	}
	return err
}
