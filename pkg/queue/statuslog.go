// Per-recipient status logs (defer/, bounce/, trace/): why a recipient was deferred or bounced.
//
// A status log is named by the queue ID in the defer, bounce or trace
// queue (hashed like the message queues). It is text, appended to by
// delivery agents, one entry per recipient attempt:
//
//	recipient=alice@example.com
//	offset=123
//	status=4.4.1
//	action=delayed
//	reason=connect to mx.example.com[192.0.2.1]:25: Connection refused
//	<empty line>
//
// Values never contain a newline (AppendStatus replaces them with spaces);
// unknown names are ignored by readers, so fields can be added.

package queue

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// StatusEntry is one recipient's entry in a status log.
type StatusEntry struct {
	Recipient string
	// Offset is the recipient record's offset in the queue file.
	Offset int64
	// Status is the enhanced status code ("4.4.1"), Action the DSN action
	// ("delayed", "failed", "delivered").
	Status string
	Action string
	// Reason is the text postqueue shows in parentheses.
	Reason string
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// AppendStatus appends entries to the status log of id in logQueue
// (Defer, Bounce or Trace), creating it when needed.
func (l *Layout) AppendStatus(logQueue, id string, entries ...StatusEntry) error {
	path := l.Path(logQueue, id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if mkErr := os.MkdirAll(filepath.Dir(path), 0o700); mkErr != nil {
			return fmt.Errorf("create directory %s: %w", filepath.Dir(path), mkErr)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", l.RelPath(logQueue, id), err)
	}
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "recipient=%s\noffset=%d\nstatus=%s\naction=%s\nreason=%s\n\n",
			oneLine(e.Recipient), e.Offset, oneLine(e.Status), oneLine(e.Action), oneLine(e.Reason))
	}
	_, writeErr := f.WriteString(b.String())
	closeErr := f.Close()
	if writeErr != nil {
		return fmt.Errorf("write %s: %w", l.RelPath(logQueue, id), writeErr)
	}
	if closeErr != nil {
		return fmt.Errorf("close %s: %w", l.RelPath(logQueue, id), closeErr)
	}
	return nil
}

// ReadStatus returns the entries of the status log of id in logQueue; a
// log that does not exist has none. A malformed line gives an error with
// the file and line number.
func (l *Layout) ReadStatus(logQueue, id string) ([]StatusEntry, error) {
	rel := l.RelPath(logQueue, id)
	f, err := openFile(l.Path(logQueue, id), os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", rel, err)
	}
	defer f.Close()
	var entries []StatusEntry
	var cur StatusEntry
	have := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := sc.Text()
		if line == "" {
			if have {
				entries = append(entries, cur)
			}
			cur, have = StatusEntry{}, false
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s, line %d: missing '=' after attribute name", rel, lineNo)
		}
		have = true
		switch name {
		case "recipient":
			cur.Recipient = value
		case "offset":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s, line %d: bad offset %q", rel, lineNo, value)
			}
			cur.Offset = n
		case "status":
			cur.Status = value
		case "action":
			cur.Action = value
		case "reason":
			cur.Reason = value
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	if have {
		entries = append(entries, cur)
	}
	return entries, nil
}
