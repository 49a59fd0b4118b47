// param.go declares what a parameter is (name, kind, default, bounds) and
// converts a value to its kind with Postfix's rules and error texts.

package config

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Kind is the type of a parameter's value, as Postfix declares it.
type Kind uint8

// The parameter kinds. Lists and table lists are strings that their
// reader splits (a []string field in Fill).
const (
	KindString Kind = iota // text, used as it is or split as a list
	KindInt                // a decimal number in C int's range (limits, counts, codes)
	KindLong               // a decimal number in 64-bit range (sizes in bytes)
	KindTime               // a number with an optional unit s, m, h, d or w
	KindBool               // yes or no, in any case
)

var kindNames = [...]string{KindString: "string", KindInt: "int", KindLong: "long", KindTime: "time", KindBool: "bool"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Param is the declaration of one parameter.
type Param struct {
	Name string
	Kind Kind
	// Default is the raw default, with $name references; "" for the
	// host-dependent defaults computed in derived.go.
	Default string
	// Unit is the unit of a bare number for KindTime ('s', 'm', 'h',
	// 'd' or 'w'), the unit of Postfix's default.
	Unit byte
	// Min and Max bound KindInt, KindLong and KindTime (in seconds)
	// values. As in Postfix, 0 means no bound.
	Min, Max int64
	// Raw parameters are used unexpanded (expanded at delivery time with
	// per-message variables); postconf -x prints them as they are.
	Raw bool
}

// Lookup returns the declaration of a built-in (Postfix or Postern)
// parameter, with Postern's default where it differs from Postfix's.
func Lookup(name string) (Param, bool) {
	p, ok := postfixParams[name]
	if !ok {
		p, ok = extensionParams[name]
	}
	if v, changed := posternDefaults[name]; changed {
		p.Default = v
	}
	return p, ok
}

// Int converts value to an int or long parameter's number, checking its
// bounds, with Postfix's error texts.
func (p Param) Int(value string) (int64, error) {
	bits := 32
	if p.Kind == KindLong {
		bits = 64
	}
	n, ok := parseDecimal(value, bits)
	if !ok {
		return 0, fmt.Errorf("bad numerical configuration: %s = %s", p.Name, value)
	}
	if p.Min != 0 && n < p.Min {
		return 0, fmt.Errorf("invalid %s parameter value %d < %d", p.Name, n, p.Min)
	}
	if p.Max != 0 && n > p.Max {
		return 0, fmt.Errorf("invalid %s parameter value %d > %d", p.Name, n, p.Max)
	}
	return n, nil
}

// Time converts value to a time parameter's duration, checking its
// bounds, with Postfix's error texts.
func (p Param) Time(value string) (time.Duration, error) {
	secs, ok := parseTime(value, p.Unit)
	if !ok {
		return 0, fmt.Errorf("parameter %s: bad time value or unit: %s", p.Name, value)
	}
	if p.Min != 0 && secs < p.Min {
		return 0, fmt.Errorf("invalid %s: %d (min %d)", p.Name, secs, p.Min)
	}
	if p.Max != 0 && secs > p.Max {
		return 0, fmt.Errorf("invalid %s: %d (max %d)", p.Name, secs, p.Max)
	}
	return time.Duration(secs) * time.Second, nil
}

// Bool converts value to a boolean parameter's value: "yes" or "no" in
// any case, nothing else.
func (p Param) Bool(value string) (bool, error) {
	switch {
	case strings.EqualFold(value, "yes"):
		return true, nil
	case strings.EqualFold(value, "no"):
		return false, nil
	}
	return false, fmt.Errorf("bad boolean configuration: %s = %s", p.Name, value)
}

// Check reports whether value is valid for the parameter's kind and
// bounds; strings are always valid.
func (p Param) Check(value string) error {
	var err error
	switch p.Kind {
	case KindInt, KindLong:
		_, err = p.Int(value)
	case KindTime:
		_, err = p.Time(value)
	case KindBool:
		_, err = p.Bool(value)
	}
	return err
}

// parseDecimal reads a number as strtol(3) in base 10 does for Postfix:
// optional leading white space and sign, at least one digit, nothing
// after, and a value that fits in bits.
func parseDecimal(s string, bits int) (int64, bool) {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	limit := uint64(1)<<(bits-1) - 1
	if neg {
		limit++
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > limit {
			return 0, false
		}
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// timeUnitSeconds are the units of time values.
var timeUnitSeconds = map[byte]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 7 * 86400}

// parseTime reads a time value in seconds as Postfix 3.7 does: a
// non-negative number in C int's range, then the unit letter (or unit
// when there is none); what follows the unit letter is not looked at.
// The result must stay in C int's range.
func parseTime(s string, unit byte) (int64, bool) {
	i := len(s) - len(strings.TrimLeft(s, " \t\n\v\f\r"))
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, ok := parseDecimal(s[:i], 32)
	if !ok || n < 0 {
		return 0, false
	}
	if i < len(s) {
		unit = s[i]
	}
	scale, ok := timeUnitSeconds[unit]
	if !ok || scale > 1 && n >= math.MaxInt32/scale {
		return 0, false
	}
	return n * scale, true
}
