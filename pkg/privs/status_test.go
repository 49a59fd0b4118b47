// Tests for reading credentials from /proc/PID/status.

package privs

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	const full = "Name:\tsmtpd\nUid:\t102\t102\t102\t102\nGid:\t105\t105\t105\t105\nGroups:\t105 110 \nCapInh:\t0000000000000000\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\n"
	tests := []struct {
		name    string
		text    string
		want    *Status
		wantErr string
	}{
		{
			name: "dropped daemon",
			text: full,
			want: &Status{UID: [4]int{102, 102, 102, 102}, GID: [4]int{105, 105, 105, 105}, Groups: []int{105, 110}, NoNewPrivs: true},
		},
		{
			name: "root with every capability",
			text: "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\nCapEff:\t000001ffffffffff\nNoNewPrivs:\t0\n",
			want: &Status{Groups: []int{}, CapEff: 0x1ffffffffff},
		},
		{name: "missing CapEff", text: "Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\n", wantErr: "no CapEff line"},
		{name: "short Uid", text: "Uid:\t1\t1\nGid:\t1\t1\t1\t1\nCapEff:\t0\n", wantErr: "line 1: bad Uid value \"1\\t1\": want 4 IDs, got 2"},
		{name: "bad mask", text: "Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nCapEff:\tzz\n", wantErr: "line 3: bad CapEff value"},
		{name: "negative group", text: "Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nGroups:\t-5\nCapEff:\t0\n", wantErr: "bad ID \"-5\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus(strings.NewReader(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadStatusOfSelf(t *testing.T) {
	st, err := ReadStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.UID[0] != os.Getuid() || st.UID[1] != os.Geteuid() || st.GID[0] != os.Getgid() {
		t.Errorf("status says uid %v gid %v, process has uid %d euid %d gid %d", st.UID, st.GID, os.Getuid(), os.Geteuid(), os.Getgid())
	}
	if _, err := ReadStatus(-1); err == nil || !strings.Contains(err.Error(), "open /proc/-1/status: No such file or directory") {
		t.Errorf("ReadStatus(-1) error = %v", err)
	}
}
