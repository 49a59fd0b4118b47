// Tests of the protocol over real Unix-domain sockets.

package ipc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
)

// serve listens on a socket in a fresh temporary directory and runs handle
// on the server side of the first connection. It returns the socket path
// and a channel that yields handle's error once it returns.
func serve(t *testing.T, handle func(nc net.Conn) error) (string, <-chan error) {
	t.Helper()
	path := filepath.Join(sockdir.New(t), "cleanup")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		done <- handle(nc)
	}()
	return path, done
}

// serveSubmission is serve for a cleanup server that has received the
// client's submission: it greets, expects the submission and hands it,
// with the connection, to handle.
func serveSubmission(t *testing.T, handle func(ctx context.Context, c *Conn, sub *CleanupSubmission) error) (string, <-chan error) {
	t.Helper()
	return serve(t, func(nc net.Conn) error {
		ctx := context.Background()
		c, err := Greet(ctx, nc, ProtocolCleanup)
		if err != nil {
			return err
		}
		var sub CleanupSubmission
		if err := c.Expect(ctx, &sub); err != nil {
			return err
		}
		return handle(ctx, c, &sub)
	})
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("server goroutine did not finish")
		return nil
	}
}

func TestEveryMessageOverSocket(t *testing.T) {
	messages := sampleMessages()
	received := make(chan Message, len(messages))
	path, done := serve(t, func(nc net.Conn) error {
		c, err := Greet(context.Background(), nc, ProtocolDelivery)
		if err != nil {
			return err
		}
		for {
			m, err := c.Receive(context.Background())
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			received <- m
		}
	})
	c, err := Dial(context.Background(), path, ProtocolDelivery)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range messages {
		if err := c.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	if err := wait(t, done); err != nil {
		t.Fatalf("server: %v", err)
	}
	for _, want := range messages {
		if got := <-received; !reflect.DeepEqual(got, want) {
			t.Errorf("received %#v, want %#v", got, want)
		}
	}
}

func TestDialChecksProtocol(t *testing.T) {
	tests := []struct {
		name   string
		server Protocol
		want   string
	}{
		{"other name", ProtocolDelivery, `speaks protocol "delivery" version 1, want "cleanup" version 1`},
		{"other version", Protocol{Name: "cleanup", Version: 2}, `speaks protocol "cleanup" version 2, want "cleanup" version 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, done := serve(t, func(nc net.Conn) error {
				_, err := Greet(context.Background(), nc, tt.server)
				return err
			})
			c, err := Dial(context.Background(), path, ProtocolCleanup)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if want := path + " " + tt.want; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if err := wait(t, done); err != nil {
				t.Fatalf("server: %v", err)
			}
		})
	}
}

func TestDialNoServer(t *testing.T) {
	path := filepath.Join(sockdir.New(t), "cleanup")
	_, err := Dial(context.Background(), path, ProtocolCleanup)
	if want := "connect to " + path + ": "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want prefix %q", err, want)
	}
}

func TestPeerHangsUp(t *testing.T) {
	tests := []struct {
		name string
		// reply is what the server writes before closing.
		reply []byte
	}{
		{"before replying", nil},
		{"inside the header", AppendFrame(nil, &CleanupReply{QueueID: "ABC"})[:3]},
		{"inside the payload", AppendFrame(nil, &CleanupReply{QueueID: "ABC"})[:HeaderSize+2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, done := serveSubmission(t, func(_ context.Context, c *Conn, _ *CleanupSubmission) error {
				_, err := c.nc.Write(tt.reply)
				return err
			})
			c := dial(t, path, ProtocolCleanup)
			if err := c.Send(context.Background(), &CleanupSubmission{Sender: "a@b"}); err != nil {
				t.Fatal(err)
			}
			var reply CleanupReply
			err := c.Expect(context.Background(), &reply)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
			}
			if want := "read cleanup reply from " + path + ": unexpected EOF"; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if err := wait(t, done); err != nil {
				t.Fatalf("server: %v", err)
			}
		})
	}
}

func dial(t *testing.T, path string, p Protocol) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), path, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServerSeesCleanEOFBetweenRequests(t *testing.T) {
	path, done := serve(t, func(nc net.Conn) error {
		c, err := Greet(context.Background(), nc, ProtocolCleanup)
		if err != nil {
			return err
		}
		_, err = c.Receive(context.Background())
		return err
	})
	dial(t, path, ProtocolCleanup).Close()
	err := wait(t, done)
	if !errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("server error %v, want a clean io.EOF", err)
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	path, done := serve(t, func(nc net.Conn) error {
		if _, err := Greet(context.Background(), nc, ProtocolCleanup); err != nil {
			return err
		}
		<-release
		return nil
	})
	defer func() { close(release); wait(t, done) }()
	c := dial(t, path, ProtocolCleanup)

	c.SetTimeout(100 * time.Millisecond)
	start := time.Now()
	err := c.Expect(context.Background(), &CleanupReply{})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v, want ErrTimeout", err)
	}
	if want := "read cleanup reply from " + path + ": timeout"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Errorf("timeout took %v", elapsed)
	}
}

func TestContextCancelsRead(t *testing.T) {
	release := make(chan struct{})
	path, done := serve(t, func(nc net.Conn) error {
		if _, err := Greet(context.Background(), nc, ProtocolCleanup); err != nil {
			return err
		}
		<-release
		return nil
	})
	defer func() { close(release); wait(t, done) }()
	c := dial(t, path, ProtocolCleanup)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := c.Expect(ctx, &CleanupReply{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.Expect(ctx, &CleanupReply{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
}

func TestOversizeFrame(t *testing.T) {
	path, done := serve(t, func(nc net.Conn) error {
		if _, err := Greet(context.Background(), nc, ProtocolCleanup); err != nil {
			return err
		}
		// A header announcing a 3 GB reply, and no payload.
		_, err := nc.Write([]byte{FrameVersion, byte(MsgCleanupReply), 0, 0, 0xc0, 0, 0, 0})
		return err
	})
	c := dial(t, path, ProtocolCleanup)
	err := c.Expect(context.Background(), &CleanupReply{})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("error %v, want ErrFrameTooLarge", err)
	}
	want := "read cleanup reply from " + path + ": cleanup reply of 3221225472 bytes exceeds the limit of 4194304 bytes: frame too large"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if err := wait(t, done); err != nil {
		t.Fatalf("server: %v", err)
	}
}

func TestSendRefusesOversizeFrame(t *testing.T) {
	path, done := serve(t, func(nc net.Conn) error {
		_, err := Greet(context.Background(), nc, ProtocolCleanup)
		return err
	})
	c := dial(t, path, ProtocolCleanup)
	c.SetMaxFrame(64)
	err := c.Send(context.Background(), &CleanupSubmission{Sender: strings.Repeat("x", 100)})
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("error %v, want ErrFrameTooLarge", err)
	}
	if err := wait(t, done); err != nil {
		t.Fatalf("server: %v", err)
	}
}

func TestSubmissionWithStreamedContent(t *testing.T) {
	// 3.5 chunks of content, so that the last chunk is short.
	content := bytes.Repeat([]byte("0123456789abcdef"), MaxChunk*7/2/16)
	wantSum := sha256.Sum256(content)
	path, done := serveSubmission(t, func(ctx context.Context, c *Conn, _ *CleanupSubmission) error {
		h := sha256.New()
		n, err := io.Copy(h, c.ContentReader(ctx))
		if err != nil {
			return err
		}
		if [32]byte(h.Sum(nil)) != wantSum || n != int64(len(content)) {
			return c.Send(ctx, &CleanupReply{Status: CleanupStatBad, Reason: "451 4.3.0 Error: content mismatch"})
		}
		return c.Send(ctx, &CleanupReply{QueueID: "30085984332"})
	})
	ctx := context.Background()
	c := dial(t, path, ProtocolCleanup)
	if err := c.Send(ctx, &CleanupSubmission{Sender: "a@b", Recipients: []Recipient{{Address: "c@d"}}}); err != nil {
		t.Fatal(err)
	}
	n, err := c.SendContent(ctx, bytes.NewReader(content))
	if err != nil || n != int64(len(content)) {
		t.Fatalf("SendContent = %d, %v; want %d bytes", n, err, len(content))
	}
	var reply CleanupReply
	if err := c.Expect(ctx, &reply); err != nil {
		t.Fatal(err)
	}
	if want := (CleanupReply{QueueID: "30085984332"}); reply != want {
		t.Errorf("reply %+v, want %+v", reply, want)
	}
	if err := wait(t, done); err != nil {
		t.Fatalf("server: %v", err)
	}
}

func TestContentReaderErrors(t *testing.T) {
	tests := []struct {
		name   string
		frames []Message
		close  bool
		want   string
	}{
		{"size mismatch", []Message{&ContentChunk{Data: []byte("abc")}, &ContentEnd{Size: 4}}, false,
			"end marker says 4 bytes, received 3"},
		{"hang-up", []Message{&ContentChunk{Data: []byte("abc")}}, true, "read message content from client"},
		{"other message", []Message{&CleanupReply{}}, false, "unexpected cleanup reply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, done := serve(t, func(nc net.Conn) error {
				c, err := Greet(context.Background(), nc, ProtocolCleanup)
				if err != nil {
					return err
				}
				_, err = io.ReadAll(c.ContentReader(context.Background()))
				return err
			})
			c := dial(t, path, ProtocolCleanup)
			for _, m := range tt.frames {
				if err := c.Send(context.Background(), m); err != nil {
					t.Fatal(err)
				}
			}
			if tt.close {
				c.Close()
			}
			err := wait(t, done)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("server error %v, want one containing %q", err, tt.want)
			}
			if tt.close && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("server error %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
}

func TestSendTrigger(t *testing.T) {
	path, done := serve(t, func(nc net.Conn) error {
		c, err := Greet(context.Background(), nc, ProtocolTrigger)
		if err != nil {
			return err
		}
		var trig Trigger
		if err := c.Expect(context.Background(), &trig); err != nil {
			return err
		}
		if want := []TriggerCode{TriggerFlushDead, TriggerScanAll, TriggerWakeup}; !reflect.DeepEqual(trig.Codes, want) {
			return errors.New("wrong trigger codes " + string(trig.Codes))
		}
		return nil
	})
	if err := SendTrigger(context.Background(), path, TriggerFlushDead, TriggerScanAll, TriggerWakeup); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, done); err != nil {
		t.Fatalf("server: %v", err)
	}
}

// TestSendContentSourceFailure checks that a content source that fails
// (here with io.ErrUnexpectedEOF, as a client that hangs up mid-DATA does)
// is reported and never ends the content with a ContentEnd frame, so the
// receiver cannot take a truncated message for a whole one.
func TestSendContentSourceFailure(t *testing.T) {
	sawEnd := make(chan bool, 1)
	path, done := serveSubmission(t, func(ctx context.Context, c *Conn, _ *CleanupSubmission) error {
		_, err := io.Copy(io.Discard, c.ContentReader(ctx))
		sawEnd <- err == nil
		return nil
	})
	ctx := context.Background()
	c := dial(t, path, ProtocolCleanup)
	if err := c.Send(ctx, &CleanupSubmission{Sender: "a@b", Recipients: []Recipient{{Address: "c@d"}}}); err != nil {
		t.Fatal(err)
	}
	source := io.MultiReader(bytes.NewReader([]byte("Subject: half\r\n")), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := c.SendContent(ctx, source); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("SendContent error = %v, want io.ErrUnexpectedEOF", err)
	}
	c.Close()
	if <-sawEnd {
		t.Error("receiver saw a complete message from a failed source")
	}
	if err := wait(t, done); err != nil {
		t.Fatalf("server: %v", err)
	}
}

// countingConn counts the writes made on it.
type countingConn struct {
	net.Conn
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	return c.Conn.Write(p)
}

func TestQueuedSubmissionLeavesWithContent(t *testing.T) {
	small := bytes.Repeat([]byte("line of content\r\n"), 200)
	large := bytes.Repeat([]byte("0123456789abcdef"), MaxChunk*5/2/16)
	tests := []struct {
		name    string
		content []byte
		writes  int // the submission, every full chunk, the last with the end
	}{
		{"empty", nil, 1},
		{"small", small, 1},
		{"two and a half chunks", large, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, done := serveSubmission(t, func(ctx context.Context, c *Conn, sub *CleanupSubmission) error {
				got, err := io.ReadAll(c.ContentReader(ctx))
				if err != nil {
					return err
				}
				if sub.Sender != "a@b" || !bytes.Equal(got, tt.content) {
					return c.Send(ctx, &CleanupReply{Status: CleanupStatBad, Reason: "451 4.3.0 Error: mismatch"})
				}
				return c.Send(ctx, &CleanupReply{QueueID: "30085984332"})
			})
			ctx := context.Background()
			c := dial(t, path, ProtocolCleanup)
			counter := &countingConn{Conn: c.nc}
			c.nc = counter
			if err := c.Queue(&CleanupSubmission{Sender: "a@b", Recipients: []Recipient{{Address: "c@d"}}}); err != nil {
				t.Fatal(err)
			}
			if counter.writes != 0 {
				t.Fatalf("Queue wrote %d times", counter.writes)
			}
			if _, err := c.SendContent(ctx, bytes.NewReader(tt.content)); err != nil {
				t.Fatal(err)
			}
			if counter.writes != tt.writes {
				t.Errorf("%d writes, want %d", counter.writes, tt.writes)
			}
			var reply CleanupReply
			if err := c.Expect(ctx, &reply); err != nil {
				t.Fatal(err)
			}
			if reply.Status != 0 {
				t.Errorf("reply %+v", reply)
			}
			if err := wait(t, done); err != nil {
				t.Fatalf("server: %v", err)
			}
		})
	}
}

func TestQueueRefusesOversizeFrame(t *testing.T) {
	path, done := serveSubmission(t, func(ctx context.Context, c *Conn, sub *CleanupSubmission) error {
		if sub.Sender != "a@b" {
			return errors.New("sender " + sub.Sender)
		}
		return nil
	})
	c := dial(t, path, ProtocolCleanup)
	c.SetMaxFrame(64)
	if err := c.Queue(&CleanupSubmission{Sender: strings.Repeat("x", 100)}); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("error %v, want ErrFrameTooLarge", err)
	}
	// The refused frame is not sent with the next one.
	if err := c.Send(context.Background(), &CleanupSubmission{Sender: "a@b"}); err != nil {
		t.Fatal(err)
	}
	if err := wait(t, done); err != nil {
		t.Fatalf("server: %v", err)
	}
}

func TestSendContentChunksAreFullSize(t *testing.T) {
	// Around the small first buffer and MaxChunk, read in uneven pieces:
	// every chunk but the last is MaxChunk bytes, as before the small
	// buffer, and the content arrives unchanged.
	for _, size := range []int{0, 1, smallChunk - 1, smallChunk, smallChunk + 1, MaxChunk - 1, MaxChunk, MaxChunk + 1, 2*MaxChunk + smallChunk + 5} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			content := make([]byte, size)
			for i := range content {
				content[i] = byte(i % 251)
			}
			client, server := net.Pipe()
			defer client.Close()
			defer server.Close()
			type result struct {
				chunks []int
				got    []byte
				err    error
			}
			results := make(chan result, 1)
			go func() {
				var res result
				sc := newConn(server, "test")
				for {
					m, err := sc.Receive(context.Background())
					if err != nil {
						res.err = err
						break
					}
					if chunk, ok := m.(*ContentChunk); ok {
						res.chunks = append(res.chunks, len(chunk.Data))
						res.got = append(res.got, chunk.Data...)
						continue
					}
					if end, ok := m.(*ContentEnd); !ok || end.Size != int64(size) {
						res.err = fmt.Errorf("got %#v, want the end marker of %d bytes", m, size)
					}
					break
				}
				results <- res
			}()
			n, err := newConn(client, "test").SendContent(context.Background(), iotest.HalfReader(bytes.NewReader(content)))
			if err != nil || n != int64(size) {
				t.Fatalf("SendContent = %d, %v; want %d", n, err, size)
			}
			res := <-results
			if res.err != nil {
				t.Fatal(res.err)
			}
			var want []int
			for left := size; left > 0; left -= MaxChunk {
				want = append(want, min(left, MaxChunk))
			}
			if fmt.Sprint(res.chunks) != fmt.Sprint(want) {
				t.Errorf("chunks of %v bytes, want %v", res.chunks, want)
			}
			if !bytes.Equal(res.got, content) {
				t.Error("content changed")
			}
		})
	}
}
