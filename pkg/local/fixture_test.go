// Test fixture: an Agent over temporary spool, homes and alias file, with fake users and a recording cleanup.

package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
)

const testContent = "From: sender@remote.example\nSubject: test\n\nFrom the body\nbye\n"

// submission is one message the fake cleanup received.
type submission struct {
	sender     string
	recipients []string
	content    string
}

type fixture struct {
	t       *testing.T
	dir     string
	spool   string
	agent   *Agent
	logPath string
	users   map[string]*User

	mu        sync.Mutex
	submitted []submission
}

// newFixture builds an agent for the domain example.test. aliasLines are
// texthash lines ("name value") in which "$DIR" stands for the fixture's
// directory; settings are main.cf overrides.
func newFixture(t *testing.T, aliasLines []string, settings map[string]string) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, spool: filepath.Join(dir, "spool"), logPath: filepath.Join(dir, "maillog"), users: map[string]*User{}}
	if err := os.Mkdir(f.spool, 0o755); err != nil {
		t.Fatal(err)
	}
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	for _, name := range []string{"alice", "bob", "carol", "dave", "nobody"} {
		home := filepath.Join(dir, "home", name)
		if err := os.MkdirAll(home, 0o755); err != nil {
			t.Fatal(err)
		}
		f.users[name] = &User{Name: name, UID: uid, GID: gid, Home: home, Shell: "/bin/sh"}
	}
	aliasPath := filepath.Join(dir, "aliases")
	if err := os.WriteFile(aliasPath, []byte(strings.ReplaceAll(strings.Join(aliasLines, "\n"), "$DIR", dir)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults(filepath.Join(dir, "etc"))
	cfg.Set("myhostname", "mx.example.test")
	cfg.Set("myorigin", "example.test")
	cfg.Set("mydestination", "example.test, localhost")
	cfg.Set("alias_maps", "texthash:"+aliasPath)
	cfg.Set("mail_spool_directory", f.spool)
	cfg.Set("mailbox_delivery_lock", "fcntl")
	for name, value := range settings {
		cfg.Set(name, value)
	}
	s, err := FromConfig(cfg, func(w string) { t.Errorf("unexpected warning: %s", w) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	log, err := maillog.New(maillog.Options{Program: "postfix/local", Hostname: "mx.example.test", File: f.logPath, FilePrefixes: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	f.agent = &Agent{
		Settings: s,
		Log:      log,
		LookupUser: func(name string) (*User, error) {
			return f.users[name], nil
		},
		LookupUID: func(id uint32) (*User, error) {
			if id == uid {
				return f.users["dave"], nil
			}
			return nil, nil
		},
		Submit: func(_ context.Context, sender string, rcpts []string, content io.Reader) (string, error) {
			data, err := io.ReadAll(content)
			if err != nil {
				return "", err
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			f.submitted = append(f.submitted, submission{sender, rcpts, string(data)})
			return fmt.Sprintf("F0RWARD%d", len(f.submitted)), nil
		},
	}
	return f
}

// deliver runs one request for rcpts with content and returns the results.
func (f *fixture) deliver(content string, rcpts ...string) []ipc.RecipientResult {
	f.t.Helper()
	req := &ipc.DeliveryRequest{Queue: "active", QueueID: "4A1B2C3D4E", Sender: "sender@remote.example", Transport: "local", Nexthop: "example.test"}
	for i, r := range rcpts {
		req.Recipients = append(req.Recipients, ipc.Recipient{Address: r, Offset: int64(100 + i)})
	}
	open := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }
	res := f.agent.DeliverContent(context.Background(), req, open)
	if len(res.Recipients) != len(rcpts) {
		f.t.Fatalf("%d results for %d recipients", len(res.Recipients), len(rcpts))
	}
	for i, r := range res.Recipients {
		if r.Offset != int64(100+i) || r.Address != rcpts[i] || r.Relay != "local" {
			f.t.Errorf("result %d: offset %d address %q relay %q", i, r.Offset, r.Address, r.Relay)
		}
	}
	return res.Recipients
}

func (f *fixture) log() string {
	f.t.Helper()
	data, err := os.ReadFile(f.logPath)
	if err != nil && !os.IsNotExist(err) {
		f.t.Fatal(err)
	}
	return string(data)
}

func (f *fixture) read(path string) string {
	f.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(data)
}

func (f *fixture) write(path, text string) {
	f.t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// mboxEntry is the mbox entry testContent becomes for a delivery to
// rcpt, after the From_ line.
func mboxEntry(sender, orig, rcpt string) string {
	return "Return-Path: <" + sender + ">\nX-Original-To: " + orig + "\nDelivered-To: " + rcpt + "\n" +
		"From: sender@remote.example\nSubject: test\n\n>From the body\nbye\n\n"
}

// withoutFromLines drops the From_ lines (their date varies) of an mbox,
// checking their sender.
func withoutFromLines(t *testing.T, mbox, sender string) string {
	t.Helper()
	var kept []string
	for _, line := range strings.SplitAfter(mbox, "\n") {
		if strings.HasPrefix(line, "From ") {
			if !strings.HasPrefix(line, "From "+sender+"  ") {
				t.Errorf("From_ line %q, want sender %s", line, sender)
			}
			continue
		}
		kept = append(kept, line)
	}
	return strings.Join(kept, "")
}
