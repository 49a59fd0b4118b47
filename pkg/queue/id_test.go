// Tests of queue IDs: short and long forms, validity, hashed paths.

package queue

import (
	"regexp"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	at := time.Date(2026, 11, 28, 13, 2, 27, 577929_000, time.UTC)
	tests := []struct {
		name  string
		inode uint64
		long  bool
		want  string
	}{
		{"short", 0x9840D3, false, "8D1899840D3"},
		{"short pads microseconds", 0x1, false, "8D1891"},
		{"long", 1, true, encodeSafe(uint64(at.Unix()), 52, 6) + encodeSafe(577929, 52, 4) + "z1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewID(at, tc.inode, tc.long); got != tc.want {
				t.Errorf("NewID = %q, want %q", got, tc.want)
			}
		})
	}
	early := time.Date(2026, 1, 1, 0, 0, 0, 42_000, time.UTC)
	if got := NewID(early, 0xABC, false); got != "0002AABC" {
		t.Errorf("short ID with small microseconds = %q, want 0002AABC", got)
	}
}

func TestLongIDAlphabet(t *testing.T) {
	if len(safeAlphabet) != 52 {
		t.Fatalf("alphabet has %d characters", len(safeAlphabet))
	}
	if regexp.MustCompile(`[AEIOUaeiou]`).MatchString(safeAlphabet) {
		t.Fatal("alphabet contains a vowel")
	}
	at := time.Unix(1795870935, 123456000)
	for _, inode := range []uint64{0, 50, 51, 1 << 40} {
		id := NewID(at, inode, true)
		if !IsLongID(id) || !ValidID(id) {
			t.Errorf("NewID(long, %d) = %q is not a valid long ID", inode, id)
		}
		sep := len(id) - len(encodeSafe(inode, 51, 0)) - 1
		if id[sep] != 'z' {
			t.Errorf("%q: separator not at %d", id, sep)
		}
		if got, ok := decodeSafe(id[sep+1:], 51); !ok || got != inode {
			t.Errorf("%q: inode decodes to %d, %v", id, got, ok)
		}
	}
}

// The example from Postfix's documentation decodes to a plausible time.
func TestDecodeDocumentedLongID(t *testing.T) {
	id := "4jc9bp2gwBz1SDRT"
	if !IsLongID(id) {
		t.Fatalf("%s not recognised as long", id)
	}
	secs, ok := decodeSafe(id[:6], 52)
	if !ok {
		t.Fatal("seconds do not decode")
	}
	year := time.Unix(int64(secs), 0).UTC().Year()
	if year < 2010 || year > 2030 {
		t.Errorf("seconds decode to year %d", year)
	}
	if got := hashKey(id); len(got) != 5 {
		t.Errorf("hashKey(%s) = %q, want five hex digits", id, got)
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"577929840D3", true},
		{"4jc9bp2gwBz1SDRT", true},
		{"", false},
		{"tmp.123.456", false},
		{"../etc", false},
		{"a/b", false},
		{string(make([]byte, 300)), false},
	}
	for _, tc := range tests {
		if got := ValidID(tc.id); got != tc.want {
			t.Errorf("ValidID(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestRelPathHashing(t *testing.T) {
	long := NewID(time.Unix(1795870935, 0xABCDE*1000), 77, true)
	tests := []struct {
		names []string
		depth int
		queue string
		id    string
		want  string
	}{
		{[]string{"deferred", "defer"}, 1, Deferred, "577929840D3", "deferred/5/577929840D3"},
		{[]string{"deferred", "defer"}, 2, Defer, "577929840D3", "defer/5/7/577929840D3"},
		{[]string{"deferred", "defer"}, 1, Incoming, "577929840D3", "incoming/577929840D3"},
		{[]string{"deferred"}, 3, Deferred, "AB", "deferred/A/B/_/AB"},
		{[]string{"Deferred"}, 1, Deferred, long, "deferred/A/" + long},
		{[]string{"deferred"}, 2, Deferred, long, "deferred/A/B/" + long},
	}
	for _, tc := range tests {
		l := NewLayout("/q", tc.names, tc.depth, false)
		if got := l.RelPath(tc.queue, tc.id); got != tc.want {
			t.Errorf("RelPath(%s, %s) with %v depth %d = %q, want %q", tc.queue, tc.id, tc.names, tc.depth, got, tc.want)
		}
	}
}
