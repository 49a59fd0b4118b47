// The log of one message's lines, which keeps them in order although its
// message-id line is sent while the queue file is committed.

package cleanup

import "github.com/postern/postern/pkg/maillog"

// messageLog logs the lines about one message. Its message-id lines may
// be sent ahead by a goroutine of their own (sendAhead), so that they wait
// for room in postlogd's queue while the caller commits the queue file;
// every later line logged here waits for them first, and so does done,
// which submit passes through before the reply. Every line cleanup logs
// about a message goes through its messageLog, so none can overtake them
// (the milter client logs its own, but with milters nothing is sent
// ahead).
type messageLog struct {
	log *maillog.Logger
	// sent is closed once the lines sent ahead are out; nil when none
	// are on their way.
	sent chan struct{}
}

// sendAhead sends lines, in order, while the caller goes on.
func (m *messageLog) sendAhead(lines []string) {
	m.done()
	sent := make(chan struct{})
	m.sent = sent
	go func() {
		defer close(sent)
		for _, line := range lines {
			m.log.Log(maillog.LevelInfo, line)
		}
	}()
}

// done returns once the lines sent ahead are out.
func (m *messageLog) done() {
	if m.sent != nil {
		<-m.sent
		m.sent = nil
	}
}

// Info logs an informational line after the lines sent ahead.
func (m *messageLog) Info(format string, args ...any) {
	m.done()
	m.log.Info(format, args...)
}

// Warning logs a warning after the lines sent ahead.
func (m *messageLog) Warning(format string, args ...any) {
	m.done()
	m.log.Warning(format, args...)
}
