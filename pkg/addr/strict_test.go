package addr

import "testing"

func TestStrictPath(t *testing.T) {
	tests := []struct {
		arg  string
		path string
		ok   bool
	}{
		{"<user@example.com>", "<user@example.com>", true},
		{"<user@example.com> SIZE=100", "<user@example.com>", true},
		{"<>", "<>", true},
		{"<@relay.example:user@example.com>", "<@relay.example:user@example.com>", true},
		{"user@example.com", "user@example.com", false},
		{"<user@example.com (comment)>", "<user@example.com (comment)>", false},
		{"<Name <user@example.com>>", "<Name <user@example.com>>", false},
		{"<@example.com>", "<@example.com>", false},
		{" <user@example.com>", "<user@example.com>", true},
	}
	for _, tt := range tests {
		path, ok := StrictPath(tt.arg)
		if path != tt.path || ok != tt.ok {
			t.Errorf("StrictPath(%q) = %q, %v; want %q, %v", tt.arg, path, ok, tt.path, tt.ok)
		}
	}
}
