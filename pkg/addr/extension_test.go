// extension_test.go tests where recipient_delimiter splits a local part.

package addr

import "testing"

func TestExtensionsSplit(t *testing.T) {
	special := Extensions{Delimiter: "+-", OwnerRequestSpecial: true, DoubleBounceSender: "double-bounce"}
	plain := special
	plain.OwnerRequestSpecial = false
	plus := Extensions{Delimiter: "+", OwnerRequestSpecial: true, DoubleBounceSender: "double-bounce"}
	tests := []struct {
		e         Extensions
		local     string
		base, ext string
		split     bool
	}{
		{special, "user+ext", "user", "ext", true},
		{special, "user-ext+more", "user", "ext+more", true},
		{special, "user", "user", "", false},
		{special, "+ext", "+ext", "", false},
		{special, "user+", "user", "", true},
		{special, "owner-list", "owner-list", "", false},
		{special, "OWNER-list+x", "OWNER-list+x", "", false},
		{special, "list-request", "list-request", "", false},
		{special, "list-REQUEST", "list-REQUEST", "", false},
		{special, "-request", "-request", "", false},
		{special, "mailer-daemon", "mailer-daemon", "", false},
		{special, "Double-Bounce", "Double-Bounce", "", false},
		{special, "double-bounce+x", "double", "bounce+x", true},
		{special, "postmaster", "postmaster", "", false},
		{plain, "owner-list", "owner", "list", true},
		{plain, "list-request", "list", "request", true},
		{plain, "mailer-daemon", "mailer-daemon", "", false},
		{plus, "owner+x", "owner", "x", true},
		{plus, "owner-list+x", "owner-list", "x", true},
		{plus, "list-request+x", "list-request", "x", true},
		{Extensions{}, "user+ext", "user+ext", "", false},
		{Extensions{Delimiter: "é"}, "user\xa9x", "user", "x", true},
	}
	for _, tt := range tests {
		base, ext, split := tt.e.Split(tt.local)
		if base != tt.base || ext != tt.ext || split != tt.split {
			t.Errorf("%+v.Split(%q) = %q, %q, %v; want %q, %q, %v", tt.e, tt.local, base, ext, split, tt.base, tt.ext, tt.split)
		}
	}
}
