// Tests for reading trigger requests in both forms.

package daemon

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
			dir := t.TempDir()
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
