// Reading a queue file back: envelope parsing with structural checks, and the message content.

package queue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// ReadEnvelope parses a queue file from r (the file's first byte at
// offset 0): the envelope records and the extracted section. The content
// is skipped using the size record (by seeking when r is an io.Seeker);
// its records are checked when it is read (OpenContent). Any structural
// problem (unknown record type, records out of order, size record not
// matching the markers, missing end marker, bad time record) gives an
// error wrapping ErrCorrupt.
func ReadEnvelope(r io.Reader) (*Message, error) {
	rr := NewRecordReader(r, 0)
	defer rr.Release()
	m := &Message{}
	var pending Recipient
	section := stateEnvelope
	first := true
	sawSender := false
	corrupt := func(rec Record, format string, args ...any) error {
		return fmt.Errorf("%w: offset %d: %s", ErrCorrupt, rec.Offset, fmt.Sprintf(format, args...))
	}
	for {
		rec, err := rr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: offset %d: missing end marker", ErrCorrupt, rr.Offset())
		}
		if err != nil {
			return nil, err
		}
		if first {
			if rec.Type != RecSize {
				return nil, corrupt(rec, "first record is not a size record")
			}
			first = false
			if err := parseSize(string(rec.Data), &m.Size); err != nil {
				return nil, corrupt(rec, "%v", err)
			}
			continue
		}
		switch rec.Type {
		case RecTime:
			if section != stateEnvelope {
				return nil, corrupt(rec, "arrival time outside the envelope")
			}
			t, err := parseTime(string(rec.Data))
			if err != nil {
				return nil, corrupt(rec, "%v", err)
			}
			m.ArrivalTime = t
		case RecAttr:
			name, value, ok := strings.Cut(string(rec.Data), "=")
			if !ok || name == "" {
				return nil, corrupt(rec, "malformed attribute: %.100q", rec.Data)
			}
			if name == AttrCreateTime {
				secs, err := strconv.ParseInt(value, 10, 64)
				if err != nil {
					return nil, corrupt(rec, "bad create_time %.100q", value)
				}
				m.CreateTime = time.Unix(secs, 0)
				continue
			}
			m.Attrs = append(m.Attrs, Attr{Name: name, Value: value})
		case RecExtracted:
			return nil, corrupt(rec, "extracted marker before the message content")
		case RecFullName:
			if section != stateEnvelope {
				return nil, corrupt(rec, "misplaced full name record")
			}
			m.FullName = string(rec.Data)
		case RecSender:
			if sawSender || section != stateEnvelope {
				return nil, corrupt(rec, "duplicate or misplaced sender record")
			}
			sawSender = true
			m.Sender = string(rec.Data)
		case RecDSNOrcpt:
			pending.DSNOrcpt = string(rec.Data)
		case RecDSNNotify:
			n, err := strconv.Atoi(string(rec.Data))
			if err != nil || n < 0 || n > 0xff {
				return nil, corrupt(rec, "bad DSN notify flags %.100q", rec.Data)
			}
			pending.DSNNotify = n
		case RecOrigRcpt:
			pending.Original = string(rec.Data)
		case RecRcpt, RecDone:
			if !sawSender {
				return nil, corrupt(rec, "recipient before sender")
			}
			pending.Address = string(rec.Data)
			pending.Done = rec.Type == RecDone
			pending.Offset = rec.Offset
			m.Recipients = append(m.Recipients, pending)
			pending = Recipient{}
		case RecContent:
			if section != stateEnvelope || !sawSender {
				return nil, corrupt(rec, "misplaced message content marker")
			}
			if m.Size.DataOffset != rr.Offset() {
				return nil, corrupt(rec, "size record says content at %d, found at %d", m.Size.DataOffset, rr.Offset())
			}
			m.ExtractedOffset = m.Size.DataOffset + m.Size.SegmentSize
			if err := rr.SkipTo(m.ExtractedOffset); err != nil {
				return nil, err
			}
			marker, err := rr.Next()
			if err == io.EOF {
				return nil, fmt.Errorf("%w: offset %d: missing extracted marker", ErrCorrupt, m.ExtractedOffset)
			}
			if err != nil {
				return nil, err
			}
			if marker.Type != RecExtracted {
				return nil, corrupt(marker, "size record does not lead to the extracted marker")
			}
			section = stateExtracted
		case RecEnd:
			if section != stateExtracted {
				return nil, corrupt(rec, "message end marker before the message content")
			}
			if _, err := rr.Next(); err != io.EOF {
				return nil, fmt.Errorf("%w: offset %d: data after the end marker", ErrCorrupt, rr.Offset())
			}
			if m.CreateTime.IsZero() {
				m.CreateTime = m.ArrivalTime
			}
			return m, nil
		default:
			return nil, corrupt(rec, "unexpected record type 0x%02x", byte(rec.Type))
		}
	}
}

func parseSize(s string, size *SizeInfo) error {
	fields := strings.Fields(s)
	if len(fields) != 6 {
		return fmt.Errorf("malformed size record: %.100q", s)
	}
	dst := []*int64{&size.SegmentSize, &size.DataOffset, &size.RecipientCount, &size.QmgrOptions, &size.ContentLength, &size.SMTPUTF8}
	for i, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("malformed size record: %.100q", s)
		}
		*dst[i] = n
	}
	return nil
}

func parseTime(s string) (time.Time, error) {
	secText, microText, _ := strings.Cut(s, " ")
	secs, err := strconv.ParseInt(secText, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad arrival time %.100q", s)
	}
	var micros int64
	if microText != "" {
		micros, err = strconv.ParseInt(microText, 10, 64)
		if err != nil || micros < 0 || micros >= 1e6 {
			return time.Time{}, fmt.Errorf("bad arrival time %.100q", s)
		}
	}
	return time.Unix(secs, micros*1000), nil
}

// Load reads queue file id in queue. A file that does not parse is moved
// to the corrupt queue, warn is told as Postfix words it, and the error
// returned wraps ErrCorrupt; a missing file gives an error wrapping
// os.ErrNotExist.
func (l *Layout) Load(queue, id string, warn func(string)) (*Message, error) {
	m, f, err := l.load(queue, id, os.O_RDONLY, warn)
	if err != nil {
		return nil, err
	}
	f.Close()
	return m, nil
}

// LoadForUpdate is Load for the queue manager: the file stays open for
// marking recipients done, through the DoneMarker, which the caller
// closes.
func (l *Layout) LoadForUpdate(queue, id string, warn func(string)) (*Message, *DoneMarker, error) {
	m, f, err := l.load(queue, id, os.O_RDWR, warn)
	if err != nil {
		return nil, nil, err
	}
	return m, &DoneMarker{f: f, path: m.Path}, nil
}

// load opens the file with flag, reads its envelope and returns it with
// the open file; on an error the file is closed.
func (l *Layout) load(queue, id string, flag int, warn func(string)) (*Message, *os.File, error) {
	path := l.Path(queue, id)
	f, err := openFile(path, flag, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open queue file %s: %w", id, err)
	}
	m, err := l.readLoaded(f, queue, id, path, warn)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return m, f, nil
}

// readLoaded reads the envelope of f, queue file id in queue at path.
func (l *Layout) readLoaded(f *os.File, queue, id, path string, warn func(string)) (*Message, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("fstat %s: %w", path, err)
	}
	m, err := ReadEnvelope(f)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if warn != nil {
			warn(fmt.Sprintf("%s: %v", l.RelPath(queue, id), err))
		}
		if saveErr := l.SaveCorrupt(queue, id, warn); saveErr != nil {
			return nil, fmt.Errorf("%s: %w (%v)", id, err, saveErr)
		}
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	m.Queue, m.ID, m.Path = queue, id, path
	m.FileSize = st.Size()
	m.ModTime = st.ModTime()
	m.ForcedExpire = ModeForcedExpired(st.Mode())
	return m, nil
}

// Ready reports whether the file at path is committed, as readers of the
// incoming queue check before using it.
func Ready(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return ModeReady(st.Mode()), nil
}

// ModeReady reports whether a queue file's mode marks it committed: a
// regular file with the owner's read, write and execute bits.
func ModeReady(mode os.FileMode) bool {
	return mode.IsRegular() && mode.Perm()&0o700 == modeReady
}

// ModeUnthrottled reports whether a queue file's mode marks it flushed
// by postqueue -s (see SetUnthrottled).
func ModeUnthrottled(mode os.FileMode) bool {
	return mode.Perm()&modeUnthrottled != 0
}

// ModeForcedExpired reports whether a queue file's mode marks it
// force-expired (postsuper -e/-f).
func ModeForcedExpired(mode os.FileMode) bool {
	return mode.Perm()&modeForcedExpired != 0
}
