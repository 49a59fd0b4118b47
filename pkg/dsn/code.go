// Enhanced status codes (RFC 3463) as Postfix accepts them in replies,
// access-table actions, header and body check actions and error nexthops.

package dsn

import "strings"

// Valid reports whether s is an enhanced status code: class 2, 4 or 5,
// then a subject and a detail of one to three digits each ("5.1.1").
func Valid(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || strings.IndexByte("245", parts[0][0]) < 0 {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}
