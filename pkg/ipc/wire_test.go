// Tests of message encoding and frame decoding, without sockets.

package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sampleMessages holds one fully populated message of every type.
func sampleMessages() []Message {
	arrival := time.Unix(1764334886, 123456789)
	return []Message{
		&Hello{Protocol: ProtocolCleanup},
		&Trigger{Codes: []TriggerCode{TriggerFlushDead, TriggerScanAll, TriggerWakeup}},
		&CleanupSubmission{
			Sender: "sender@remote.example",
			Recipients: []Recipient{
				{Address: "a@test.example", Notify: DSNNotifySuccess | DSNNotifyFailure, ORCPT: "rfc822;A@test.example"},
				{Address: "b@test.example", OriginalRecipient: "sales@valias.example"},
			},
			Flags:         CleanupFlagFilter | CleanupFlagMapOK | CleanupFlagBCCOK,
			ArrivalTime:   arrival,
			ClientName:    "localhost",
			ClientAddress: "127.0.0.1",
			ClientPort:    "40312",
			HeloName:      "client.example",
			Protocol:      "ESMTPSA",
			TLSInfo:       "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
			SASLMethod:    "PLAIN",
			SASLUsername:  "testuser",
			SASLSender:    "owner@test.example",
			SASLHeader:    true,
			DSNEnvID:      "QQ314159",
			DSNRet:        DSNRetHeaders,
			BodyType:      "8BITMIME",
			SMTPUTF8:      true,
		},
		&CleanupSubmission{Sender: "user@test.example", Recipients: []Recipient{{Address: "c@test.example"}}, SubmitterUID: 1000},
		&ContentChunk{Data: []byte("Subject: hi\r\n\r\nbody\r\n")},
		&ContentEnd{Size: 21},
		&CleanupReply{Status: CleanupStatDefer, Reason: "451 4.6.0 Alias expansion error"},
		&CleanupReply{QueueID: "30085984332"},
		&DeliveryRequest{
			Queue:      "active",
			QueueID:    "30085984332",
			DataOffset: 512,
			DataSize:   282,
			Sender:     "sender@remote.example",
			Transport:  "smtp",
			Nexthop:    "[127.0.0.1]:2526",
			Recipients: []Recipient{
				{Address: "a@sink.example", Offset: 301, Notify: DSNNotifyNever},
				{Address: "b@sink.example", Offset: 344, OriginalRecipient: "B@alias.example", ORCPT: "rfc822;B@alias.example"},
			},
			Flags:       DeliveryFlagRecord,
			ArrivalTime: arrival,
			ActiveTime:  arrival.Add(10 * time.Millisecond),
			DSNEnvID:    "env1",
			DSNRet:      DSNRetFull,
			BodyType:    "7BIT",
			SMTPUTF8:    true,
		},
		&DeliveryResult{Recipients: []RecipientResult{
			{Offset: 301, Address: "a@sink.example", Status: StatusSent, DSNCode: "2.0.0", Reply: "250 2.0.0 Ok: queued as SINK123",
				Relay: "127.0.0.1[127.0.0.1]:2526", ConnUse: 2, ConnSetup: 40 * time.Millisecond, Transmission: 41 * time.Millisecond},
			{Offset: 344, Address: "b@sink.example", Status: StatusDeferred, DSNCode: "4.4.1", Reply: "connect to 127.0.0.1[127.0.0.1]:2599: Connection refused", Relay: "none"},
			{Offset: 387, Address: "c@sink.example", Status: StatusBounced, DSNCode: "5.1.1", Relay: "none"},
		}},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for _, want := range sampleMessages() {
		t.Run(want.Type().String(), func(t *testing.T) {
			frame := AppendFrame(nil, want)
			got, err := DecodeFrame(bytes.NewReader(frame), DefaultMaxFrame)
			if err != nil {
				t.Fatalf("DecodeFrame: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %#v\nwant %#v", got, want)
			}
		})
	}
}

// frame builds a frame by hand, so that tests can write what AppendFrame
// never would.
func frame(version, typ, flags byte, payload []byte) []byte {
	b := []byte{version, typ, flags, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[4:], uint32(len(payload)))
	return append(b, payload...)
}

// attrs encodes tag/value pairs with raw byte values.
func attrs(pairs ...any) []byte {
	var w attrWriter
	for i := 0; i < len(pairs); i += 2 {
		w.putBytes(uint64(pairs[i].(int)), []byte(pairs[i+1].(string)))
	}
	return w.buf
}

func uvarint(v uint64) string { return string(binary.AppendUvarint(nil, v)) }

func TestDecodeFrameErrors(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		want  string
		is    error
	}{
		{"empty input", nil, "EOF", io.EOF},
		{"short header", []byte{1, 2, 0}, "unexpected EOF", io.ErrUnexpectedEOF},
		{"short payload", frame(1, 6, 0, []byte("abc"))[:HeaderSize+1], "unexpected EOF", io.ErrUnexpectedEOF},
		{"frame version", frame(2, 6, 0, nil), "unsupported frame version 2", nil},
		{"unknown flag", frame(1, 6, 0x80, nil), "cleanup reply: unsupported frame flags 0x8000", nil},
		{"unknown type", frame(1, 99, 0, nil), "unknown message type 99", nil},
		{"oversize", append([]byte{1, 4, 0, 0}, 0x7f, 0xff, 0xff, 0xff), "message content of 2147483647 bytes exceeds the limit of 1024 bytes: frame too large", ErrFrameTooLarge},
		{"attribute overrun", frame(1, 6, 0, []byte{2, 10, 'x'}), "malformed cleanup reply: attribute 2: length 10 exceeds the 1 bytes left", nil},
		{"truncated tag", frame(1, 6, 0, []byte{0x80}), "malformed cleanup reply: malformed attribute tag", nil},
		{"bad integer", frame(1, 6, 0, attrs(1, "\x80")), "malformed cleanup reply: attribute 1: malformed unsigned integer", nil},
		{"trailing integer bytes", frame(1, 6, 0, attrs(1, "\x01\x01")), "attribute 1: malformed unsigned integer", nil},
		{"status out of range", frame(1, 6, 0, attrs(1, uvarint(1<<40))), "attribute 1: value 1099511627776 out of range", nil},
		{"trigger code", frame(1, 2, 0, attrs(1, "WX")), "malformed trigger: unknown trigger code 0x58", nil},
		{"negative offset", frame(1, 5, 0, attrs(1, "\x01")), "attribute 1: negative offset -1", nil},
		{"delivery status", frame(1, 8, 0, attrs(1, string(attrs(3, "\x07")))), "attribute 1: attribute 3: unknown delivery status 7", nil},
		{"result without status", frame(1, 8, 0, attrs(1, string(attrs(2, "a@b")))), "attribute 1: recipient result without a status", nil},
		{"notify bits", frame(1, 3, 0, attrs(2, string(attrs(4, "\x10")))), "attribute 2: attribute 4: invalid DSN notify bits 0x10", nil},
		{"boolean", frame(1, 3, 0, attrs(16, "\x02")), "attribute 16: malformed boolean", nil},
		{"RET", frame(1, 3, 0, attrs(14, "\x03")), "attribute 14: invalid DSN RET value 3", nil},
		{"oversize chunk", frame(1, 4, 0, attrs(1, strings.Repeat("x", MaxChunk+1))), "content chunk of 65537 bytes exceeds 65536", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			maxFrame := DefaultMaxFrame
			if tt.is == ErrFrameTooLarge {
				maxFrame = 1024
			}
			m, err := DecodeFrame(bytes.NewReader(tt.input), maxFrame)
			if err == nil {
				t.Fatalf("DecodeFrame = %#v, want error %q", m, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestUnknownAttributesAreSkipped(t *testing.T) {
	var w attrWriter
	w.putString(99, "from a newer version")
	w.putString(2, "ABC123")        // CleanupReply.QueueID
	w.putBytes(98, []byte{1, 1, 7}) // a nested group: tag 1, length 1, value 7
	got, err := DecodeFrame(bytes.NewReader(frame(1, byte(MsgCleanupReply), 0, w.buf)), DefaultMaxFrame)
	if err != nil {
		t.Fatal(err)
	}
	if want := (&CleanupReply{QueueID: "ABC123"}); !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}

// TestCorpusFramesReencodeUnchanged checks the fuzz seeds, frames written
// by earlier versions, against today's encoder: the wire format holds.
func TestCorpusFramesReencodeUnchanged(t *testing.T) {
	for _, name := range []string{"cleanup_submission", "delivery_request", "delivery_result", "hello", "trigger"} {
		file := filepath.Join("testdata/fuzz/FuzzDecode", name)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		quoted, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "go test fuzz v1\n[]byte(")
		if !ok {
			t.Fatalf("%s: not a []byte corpus entry", file)
		}
		raw, err := strconv.Unquote(strings.TrimSuffix(quoted, ")"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		m, err := DecodeFrame(strings.NewReader(raw), DefaultMaxFrame)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if again := AppendFrame(nil, m); string(again) != raw {
			t.Errorf("%s: re-encoded differently:\n%x\n%x", file, again, raw)
		}
	}
}

func TestDecodeReplacesPreviousFields(t *testing.T) {
	m := &DeliveryResult{Recipients: []RecipientResult{{Address: "old", Status: StatusSent}}}
	if err := decode(m, nil); err != nil {
		t.Fatal(err)
	}
	if len(m.Recipients) != 0 {
		t.Errorf("Decode(empty) kept %d old recipients", len(m.Recipients))
	}
}
