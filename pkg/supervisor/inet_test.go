package supervisor

import (
	"reflect"
	"testing"
)

func TestInetEndpoints(t *testing.T) {
	v6 := ipv6Available()
	tests := []struct {
		line, interfaces, protocols string
		want                        []endpoint
		wantErr                     string
	}{
		{line: "smtp inet n - n - - smtpd", interfaces: "all", protocols: "ipv4",
			want: []endpoint{{"tcp4", "0.0.0.0:25"}}},
		{line: "2525 inet n - n - - smtpd", interfaces: "all", protocols: "ipv6",
			want: []endpoint{{"tcp6", "[::]:2525"}}},
		{line: "2525 inet n - n - - smtpd", interfaces: "loopback-only", protocols: "ipv4",
			want: []endpoint{{"tcp4", "127.0.0.1:2525"}}},
		{line: "2525 inet n - n - - smtpd", interfaces: "127.0.0.1, 127.0.0.2 127.0.0.1", protocols: "ipv4",
			want: []endpoint{{"tcp4", "127.0.0.1:2525"}, {"tcp4", "127.0.0.2:2525"}}},
		{line: "submission inet n - n - - smtpd", interfaces: "[::1]", protocols: "all",
			want: []endpoint{{"tcp6", "[::1]:587"}}},
		{line: "127.0.0.1:smtp inet n - n - - smtpd", interfaces: "all", protocols: "all",
			want: []endpoint{{"tcp4", "127.0.0.1:25"}}},
		{line: "[::1]:2525 inet n - n - - smtpd", interfaces: "all", protocols: "all",
			want: []endpoint{{"tcp6", "[::1]:2525"}}},
		{line: "nosuchport inet n - n - - smtpd", interfaces: "all", protocols: "all",
			wantErr: "unknown service: nosuchport/tcp"},
		{line: "70000 inet n - n - - smtpd", interfaces: "all", protocols: "all",
			wantErr: "bad port number: 70000"},
		{line: "2525 inet n - n - - smtpd", interfaces: "all", protocols: "ipx",
			wantErr: "bad inet_protocols parameter value: ipx"},
		{line: "2525 inet n - n - - smtpd", interfaces: "::1", protocols: "ipv4",
			wantErr: "parameter inet_interfaces: no local interface found for ::1"},
	}
	if v6 {
		tests = append(tests,
			struct {
				line, interfaces, protocols string
				want                        []endpoint
				wantErr                     string
			}{line: "2525 inet n - n - - smtpd", interfaces: "loopback-only", protocols: "all",
				want: []endpoint{{"tcp4", "127.0.0.1:2525"}, {"tcp6", "[::1]:2525"}}},
			struct {
				line, interfaces, protocols string
				want                        []endpoint
				wantErr                     string
			}{line: "2525 inet n - n - - smtpd", interfaces: "all", protocols: "all",
				want: []endpoint{{"tcp", ":2525"}}},
		)
	}
	for _, tt := range tests {
		got, err := inetEndpoints(parseEntry(t, tt.line), tt.interfaces, tt.protocols)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%q with %q/%q: error %v, want %q", tt.line, tt.interfaces, tt.protocols, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q with %q/%q: %v", tt.line, tt.interfaces, tt.protocols, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q with %q/%q = %v, want %v", tt.line, tt.interfaces, tt.protocols, got, tt.want)
		}
	}
}
