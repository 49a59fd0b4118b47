// compare.go evaluates the operators of ${{a} OP {b}}: numeric, lexical and
// compatibility-level comparisons.

package config

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
)

// compare applies op ("==", "!=", "<", "<=", ">", ">=") to a and b. With
// level, both must be compatibility levels (3.6, 3.10, 2) compared part by
// part; otherwise all-digit operands compare as numbers and others lexically.
func compare(a, op, b string, level bool) (bool, error) {
	var c int
	switch {
	case level:
		la, err := parseLevel(a)
		if err != nil {
			return false, err
		}
		lb, err := parseLevel(b)
		if err != nil {
			return false, err
		}
		c = compareLevels(la, lb)
	case allDigits(a) && allDigits(b):
		na, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return false, fmt.Errorf("mac_exp_eval: bad conversion: %s", a)
		}
		nb, err := strconv.ParseInt(b, 10, 64)
		if err != nil {
			return false, fmt.Errorf("mac_exp_eval: bad conversion: %s", b)
		}
		c = cmp.Compare(na, nb)
	default:
		c = strings.Compare(a, b)
	}
	switch op {
	case "==":
		return c == 0, nil
	case "!=":
		return c != 0, nil
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	default: // ">="
		return c >= 0, nil
	}
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compareNumbers compares two digit strings of any length numerically
// (compatibility level parts).
func compareNumbers(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// parseLevel splits a compatibility level such as "3.10" or "3.6.1" into
// its numeric parts (kept as digit strings so no size overflows).
func parseLevel(s string) ([]string, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return nil, macroErr(`malformed compatibility level syntax: "%s"`, s)
	}
	for _, p := range parts {
		if _, err := strconv.ParseInt(p, 10, 64); err != nil || !allDigits(p) {
			return nil, macroErr(`malformed compatibility level syntax: "%s"`, s)
		}
	}
	return parts, nil
}

// compareLevels compares levels part by part; a missing part counts as 0.
func compareLevels(a, b []string) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		pa, pb := "0", "0"
		if i < len(a) {
			pa = a[i]
		}
		if i < len(b) {
			pb = b[i]
		}
		if c := compareNumbers(pa, pb); c != 0 {
			return c
		}
	}
	return 0
}
