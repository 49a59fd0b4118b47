package supervisor

import (
	"reflect"
	"testing"
)

func TestParseMasterArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    MasterOptions
		wantErr bool
	}{
		{args: nil, want: MasterOptions{}},
		{args: []string{"-c", "/etc/pf", "-d"}, want: MasterOptions{ConfigDir: "/etc/pf", Debug: true}},
		{args: []string{"-c/etc/pf"}, want: MasterOptions{ConfigDir: "/etc/pf"}},
		{args: []string{"-dvv", "-w"}, want: MasterOptions{Debug: true, Verbose: 2, Wait: true}},
		{args: []string{"-t"}, want: MasterOptions{Test: true}},
		{args: []string{"-s"}, want: MasterOptions{Foreground: true}},
		{args: []string{"-i", "-D"}, want: MasterOptions{Foreground: true, DebugPeer: true}},
		{args: []string{"-x"}, wantErr: true},
		{args: []string{"-c"}, wantErr: true},
		{args: []string{"stray"}, wantErr: true},
		{args: []string{"--", "stray"}, wantErr: true},
		{args: []string{"-d", "--"}, want: MasterOptions{Debug: true}},
	}
	for _, tt := range tests {
		got, err := ParseMasterArgs(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMasterArgs(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err != nil {
			if err.Error() != MasterUsage {
				t.Errorf("ParseMasterArgs(%q) error = %q, want the usage", tt.args, err)
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseMasterArgs(%q) = %+v, want %+v", tt.args, got, tt.want)
		}
	}
}

func TestBackgroundArgs(t *testing.T) {
	o := MasterOptions{ConfigDir: "/etc/pf", Wait: true, Verbose: 2, DebugPeer: true}
	want := []string{"-c", "/etc/pf", "-v", "-v", "-D"}
	if got := o.BackgroundArgs(); !reflect.DeepEqual(got, want) {
		t.Errorf("BackgroundArgs = %q, want %q", got, want)
	}
}

func FuzzParseMasterArgs(f *testing.F) {
	f.Add("-c /etc/postfix -d")
	f.Add("-dvw -c")
	f.Add("-- x")
	f.Fuzz(func(t *testing.T, line string) {
		args := splitFields(line)
		o, err := ParseMasterArgs(args)
		if err == nil && o.Verbose < 0 {
			t.Fatalf("negative verbosity for %q", args)
		}
	})
}

// splitFields splits on spaces, keeping empty words (getopt sees them).
func splitFields(line string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(line); i++ {
		if i == len(line) || line[i] == ' ' {
			out = append(out, line[start:i])
			start = i + 1
		}
	}
	return out
}
