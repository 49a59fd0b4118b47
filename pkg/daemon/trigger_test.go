// Tests for reading trigger requests in both forms.

package daemon

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
)

func TestReadTrigger(t *testing.T) {
	tests := []struct {
		name    string
		send    func(path string) error
		want    []ipc.TriggerCode
		wantLog string
	}{
		{
			name: "master's raw wakeup",
			send: rawTrigger("W"),
			want: []ipc.TriggerCode{ipc.TriggerWakeup},
		},
		{
			name:    "raw bytes with an unknown code",
			send:    rawTrigger("IxD"),
			want:    []ipc.TriggerCode{ipc.TriggerScanIncoming, ipc.TriggerScanDeferred},
			wantLog: "warning: ignoring unknown trigger code 0x78",
		},
		{
			name: "ipc.SendRawTrigger",
			send: func(path string) error {
				return ipc.SendRawTrigger(context.Background(), "unix", path, ipc.TriggerScanIncoming, ipc.TriggerScanDeferred)
			},
			want: []ipc.TriggerCode{ipc.TriggerScanIncoming, ipc.TriggerScanDeferred},
		},
		{
			name: "connect and hang up",
			send: rawTrigger(""),
		},
		{
			name: "framed trigger after the greeting",
			send: func(path string) error {
				return ipc.SendTrigger(context.Background(), path, ipc.TriggerFlushDead, ipc.TriggerScanAll, ipc.TriggerScanDeferred, ipc.TriggerScanIncoming)
			},
			want: []ipc.TriggerCode{ipc.TriggerFlushDead, ipc.TriggerScanAll, ipc.TriggerScanDeferred, ipc.TriggerScanIncoming},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := sockdir.New(t)
			logPath := filepath.Join(dir, "maillog")
			log, err := maillog.New(maillog.Options{Program: "qmgr", File: logPath, FilePrefixes: dir})
			if err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(dir, "qmgr")
			ln, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			sent := make(chan error, 1)
			go func() { sent <- tt.send(sock) }()
			conn, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			got, err := readTrigger(ctx, conn, log)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("codes %q, want %q", got, tt.want)
			}
			if err := <-sent; err != nil {
				t.Errorf("sending: %v", err)
			}
			logged, _ := os.ReadFile(logPath)
			if tt.wantLog != "" && !strings.Contains(string(logged), tt.wantLog) {
				t.Errorf("log %q lacks %q", logged, tt.wantLog)
			}
			if tt.wantLog == "" && len(logged) > 0 {
				t.Errorf("unexpected log %q", logged)
			}
		})
	}
}

// TestReadTriggerTakesWaitingBytesWithoutGreeting: bytes a raw client
// wrote before its connection was served are taken at once, without the
// greeting; a raw client that writes only after the greeting is served
// too.
func TestReadTriggerTakesWaitingBytesWithoutGreeting(t *testing.T) {
	dir := sockdir.New(t)
	log, err := maillog.New(maillog.Options{Program: "qmgr", File: filepath.Join(dir, "maillog"), FilePrefixes: dir})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "qmgr"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	serve := func() ([]ipc.TriggerCode, error) {
		conn, err := ln.Accept()
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return readTrigger(ctx, conn, log)
	}

	// Written before the server looks: no greeting, the client sees EOF.
	client, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Write([]byte("I")); err != nil {
		t.Fatal(err)
	}
	got, err := serve()
	if err != nil || !reflect.DeepEqual(got, []ipc.TriggerCode{ipc.TriggerScanIncoming}) {
		t.Fatalf("waiting bytes: codes %q, error %v", got, err)
	}
	client.SetReadDeadline(time.Now().Add(patience))
	if rest, err := io.ReadAll(client); err != nil || len(rest) != 0 {
		t.Errorf("client read %q (error %v) before EOF, want nothing", rest, err)
	}

	// Written only after the greeting arrived: served all the same.
	late, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	type result struct {
		codes []ipc.TriggerCode
		err   error
	}
	served := make(chan result, 1)
	go func() {
		codes, err := serve()
		served <- result{codes, err}
	}()
	late.SetReadDeadline(time.Now().Add(patience))
	if _, err := late.Read(make([]byte, 64)); err != nil {
		t.Fatalf("no greeting for a client that sent nothing yet: %v", err)
	}
	if _, err := late.Write([]byte("D")); err != nil {
		t.Fatal(err)
	}
	r := <-served
	if r.err != nil || !reflect.DeepEqual(r.codes, []ipc.TriggerCode{ipc.TriggerScanDeferred}) {
		t.Errorf("late bytes: codes %q, error %v", r.codes, r.err)
	}
}

// rawTrigger sends bytes the way master's wakeup does: connect, write,
// close, without reading the greeting.
func rawTrigger(bytes string) func(path string) error {
	return func(path string) error {
		conn, err := net.Dial("unix", path)
		if err != nil {
			return err
		}
		if _, err := conn.Write([]byte(bytes)); err != nil {
			conn.Close()
			return err
		}
		return conn.Close()
	}
}
