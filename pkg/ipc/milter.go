// Messages of the milter content round trip inside a cleanup
// conversation: smtpd holds the SMTP session's milter sessions, and
// cleanup, once header_checks and body_checks have run, asks it to pass
// the message through each milter in turn.

package ipc

// MilterInspect asks the client of a cleanup conversation to run the
// content stages of milter Index (0 is the first of the submission's
// Milters) on the message that follows as ContentChunk frames and a
// ContentEnd: the headers, an empty line and the body, LF line ends.
// The client answers with a MilterResult.
type MilterInspect struct {
	Index   uint32
	QueueID string
}

// Type implements Message.
func (*MilterInspect) Type() MsgType { return MsgMilterInspect }

func (m *MilterInspect) fields(c *codec) {
	c.uint32(1, &m.Index)
	c.string(2, &m.QueueID)
}

// MilterEdit is one modification a milter asked for (pkg/milter.Edit);
// a replaced body travels after the MilterResult instead.
type MilterEdit struct {
	Kind  uint32
	Index uint32
	Name  string
	Value string
}

func (m *MilterEdit) fields(c *codec) {
	c.uint32(1, &m.Kind)
	c.uint32(2, &m.Index)
	c.string(3, &m.Name)
	c.string(4, &m.Value)
}

// MilterResult is a milter's verdict on the message and its edits. With
// Body set, the replacement body follows as ContentChunk frames and a
// ContentEnd.
type MilterResult struct {
	// Reply is the complete SMTP reply of a rejection; "" otherwise.
	Reply      string
	Discard    bool
	Hold       bool
	HoldReason string
	Edits      []MilterEdit
	Body       bool
}

// Type implements Message.
func (*MilterResult) Type() MsgType { return MsgMilterResult }

func (m *MilterResult) fields(c *codec) {
	c.string(1, &m.Reply)
	c.bool(2, &m.Discard)
	c.bool(3, &m.Hold)
	c.string(4, &m.HoldReason)
	nestedList(c, 5, &m.Edits)
	c.bool(6, &m.Body)
}
