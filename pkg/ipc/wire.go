// Package ipc is the request/reply protocol between Postern daemons over
// Unix-domain stream sockets in the queue directory.
//
// # Wire format
//
// Everything on the wire is a frame: an 8-byte header followed by a payload.
//
//	offset size  field
//	0      1     frame version, FrameVersion (1)
//	1      1     message type (MsgHello, MsgTrigger, ...)
//	2      1     flags; no flag is defined in version 1, so a frame with any
//	             flag bit set is rejected (a future flag changes meaning)
//	3      1     reserved, zero
//	4      4     payload length, big-endian; at most the connection's frame
//	             limit (DefaultMaxFrame), checked before anything is allocated
//
// The payload is a list of attributes, each
//
//	uvarint tag | uvarint length | length bytes of value
//
// where the tag numbers are per message type (see each type's fields
// method). Values are strings (raw bytes), unsigned integers
// (uvarint), signed integers and times (zigzag varint; times are Unix
// nanoseconds, durations nanoseconds), booleans (uvarint 1), or nested
// attribute lists (a recipient inside a request). Attributes whose value is
// zero are left out; attributes a reader does not know are skipped, so a
// field can be added without a version change. A change that an old peer
// must not misread bumps the protocol version in the greeting instead.
//
// # Conversation
//
// As in Postfix the server speaks first: on accepting a connection it sends
// a Hello frame naming its protocol ("cleanup", "delivery", "trigger") and
// version, and the client checks both before it sends a request. A mail
// submission is a CleanupSubmission frame, then the message content as
// ContentChunk frames of at most MaxChunk bytes each, then a ContentEnd
// frame carrying the total size; cleanup answers with a CleanupReply. A
// delivery is a DeliveryRequest answered by a DeliveryResult. A trigger is
// a single Trigger frame with no reply.
package ipc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// FrameVersion is the version of the frame layout written in every header.
const FrameVersion = 1

// HeaderSize is the size of a frame header in bytes.
const HeaderSize = 8

// DefaultMaxFrame is the largest payload a connection accepts unless told
// otherwise. Content is streamed in MaxChunk pieces, so only envelopes with
// very many recipients come near it.
const DefaultMaxFrame = 4 << 20

// MaxChunk is the largest piece of message content sent in one frame.
const MaxChunk = 64 << 10

// MsgType identifies the message carried by a frame.
type MsgType uint8

// Message types. The numbers are part of the wire format; never reuse one.
const (
	MsgHello             MsgType = 1
	MsgTrigger           MsgType = 2
	MsgCleanupSubmission MsgType = 3
	MsgContentChunk      MsgType = 4
	MsgContentEnd        MsgType = 5
	MsgCleanupReply      MsgType = 6
	MsgDeliveryRequest   MsgType = 7
	MsgDeliveryResult    MsgType = 8
	MsgMilterInspect     MsgType = 9
	MsgMilterResult      MsgType = 10
	MsgCleanupOpen       MsgType = 11
)

// Message is implemented by every message type. Each declares its fields
// once, in its fields method (see codec.go), which encodes and decodes it.
type Message interface {
	// Type returns the frame type that carries the message.
	Type() MsgType
	fielded
}

// ErrFrameTooLarge is wrapped by the error for a frame over the limit.
var ErrFrameTooLarge = errors.New("frame too large")

// String names the message in error texts ("read cleanup reply from ...").
func (t MsgType) String() string {
	switch t {
	case MsgHello:
		return "protocol greeting"
	case MsgTrigger:
		return "trigger"
	case MsgCleanupSubmission:
		return "cleanup submission"
	case MsgContentChunk:
		return "message content"
	case MsgContentEnd:
		return "end of message content"
	case MsgCleanupReply:
		return "cleanup reply"
	case MsgDeliveryRequest:
		return "delivery request"
	case MsgDeliveryResult:
		return "delivery result"
	case MsgMilterInspect:
		return "milter inspection request"
	case MsgMilterResult:
		return "milter result"
	case MsgCleanupOpen:
		return "cleanup open request"
	}
	return fmt.Sprintf("message type %d", uint8(t))
}

// NewMessage returns an empty message of type t, or an error for a type
// this version does not know.
func NewMessage(t MsgType) (Message, error) {
	switch t {
	case MsgHello:
		return &Hello{}, nil
	case MsgTrigger:
		return &Trigger{}, nil
	case MsgCleanupSubmission:
		return &CleanupSubmission{}, nil
	case MsgContentChunk:
		return &ContentChunk{}, nil
	case MsgContentEnd:
		return &ContentEnd{}, nil
	case MsgCleanupReply:
		return &CleanupReply{}, nil
	case MsgDeliveryRequest:
		return &DeliveryRequest{}, nil
	case MsgDeliveryResult:
		return &DeliveryResult{}, nil
	case MsgMilterInspect:
		return &MilterInspect{}, nil
	case MsgMilterResult:
		return &MilterResult{}, nil
	case MsgCleanupOpen:
		return &CleanupOpen{}, nil
	}
	return nil, fmt.Errorf("unknown message type %d", uint8(t))
}

// AppendFrame appends m as a complete frame (header and payload) to dst.
func AppendFrame(dst []byte, m Message) []byte {
	start := len(dst)
	dst = append(dst, FrameVersion, byte(m.Type()), 0, 0, 0, 0, 0, 0)
	dst = encodeFields(dst, m)
	binary.BigEndian.PutUint32(dst[start+4:], uint32(len(dst)-start-HeaderSize))
	return dst
}

// ReadFrame reads one frame from r and returns its type and payload. It
// returns io.EOF when r ends before the first header byte, an error
// wrapping io.ErrUnexpectedEOF when it ends inside the frame, and one
// wrapping ErrFrameTooLarge when the header announces more than maxPayload
// bytes; in that case nothing is allocated for the payload.
func ReadFrame(r io.Reader, maxPayload int) (MsgType, []byte, error) {
	var hdr [HeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	if hdr[0] != FrameVersion {
		return 0, nil, fmt.Errorf("unsupported frame version %d", hdr[0])
	}
	t := MsgType(hdr[1])
	if hdr[2] != 0 || hdr[3] != 0 {
		return 0, nil, fmt.Errorf("%v: unsupported frame flags 0x%02x%02x", t, hdr[2], hdr[3])
	}
	size := binary.BigEndian.Uint32(hdr[4:])
	if uint64(size) > uint64(maxPayload) {
		return 0, nil, fmt.Errorf("%v of %d bytes exceeds the limit of %d bytes: %w", t, size, maxPayload, ErrFrameTooLarge)
	}
	payload := make([]byte, size)
	if _, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return t, payload, nil
}

// DecodeFrame reads one frame from r and decodes its message.
func DecodeFrame(r io.Reader, maxPayload int) (Message, error) {
	t, payload, err := ReadFrame(r, maxPayload)
	if err != nil {
		return nil, err
	}
	m, err := NewMessage(t)
	if err != nil {
		return nil, err
	}
	if err := decode(m, payload); err != nil {
		return nil, fmt.Errorf("malformed %v: %w", t, err)
	}
	return m, nil
}
