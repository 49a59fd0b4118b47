// getters.go converts expanded parameter values into Go types: booleans,
// numbers, time durations, sizes and lists.

package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bool returns a yes/no parameter.
//
// Deprecated: declare the parameter in a settings struct and use Fill,
// which checks Postfix's bounds and uses its error texts.
func (c *Config) Bool(name string) (bool, error) {
	v, err := c.Get(name)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("bad boolean configuration: %s = %s", name, v)
}

// Int returns an integer parameter (limits, counts, codes).
//
// Deprecated: declare the parameter in a settings struct and use Fill,
// which checks Postfix's bounds and uses its error texts.
func (c *Config) Int(name string) (int, error) {
	v, err := c.Get(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("bad numerical configuration: %s = %s", name, v)
	}
	return n, nil
}

// Size returns a byte count such as message_size_limit (plain digits, as
// Postfix takes them).
//
// Deprecated: declare the parameter in a settings struct and use Fill,
// which checks Postfix's bounds and uses its error texts.
func (c *Config) Size(name string) (int64, error) {
	v, err := c.Get(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad numerical configuration: %s = %s", name, v)
	}
	return n, nil
}

// timeUnits are the units Postfix accepts after a time value.
var timeUnits = map[byte]time.Duration{
	's': time.Second,
	'm': time.Minute,
	'h': time.Hour,
	'd': 24 * time.Hour,
	'w': 7 * 24 * time.Hour,
}

// Duration returns a time parameter such as "5d" or "300s"; a bare number
// is in defaultUnit (one of s m h d w), which differs per parameter.
//
// Deprecated: declare the parameter in a settings struct and use Fill,
// which checks Postfix's bounds and uses its error texts.
func (c *Config) Duration(name string, defaultUnit byte) (time.Duration, error) {
	v, err := c.Get(name)
	if err != nil {
		return 0, err
	}
	d, err := ParseDuration(strings.TrimSpace(v), defaultUnit)
	if err != nil {
		return 0, fmt.Errorf("%s = %s: %w", name, v, err)
	}
	return d, nil
}

// ParseDuration parses "number[unit]" with unit one of s m h d w.
func ParseDuration(v string, defaultUnit byte) (time.Duration, error) {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("bad time value: %q", v)
	}
	unit := defaultUnit
	switch rest := v[i:]; len(rest) {
	case 0:
	case 1:
		unit = rest[0]
	default:
		return 0, fmt.Errorf("bad time unit: %q", v)
	}
	scale, ok := timeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("bad time unit: %q", v)
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil || time.Duration(n) > time.Duration(1<<62)/scale {
		return 0, fmt.Errorf("time value out of range: %q", v)
	}
	return time.Duration(n) * scale, nil
}

// List returns a list parameter split on commas and/or whitespace. Items
// keep their own syntax (/file, type:table, !pattern, {grouped text}); the
// packages that match them interpret it.
func (c *Config) List(name string) ([]string, error) {
	v, err := c.Get(name)
	if err != nil {
		return nil, err
	}
	return SplitList(v), nil
}

// SplitList splits a value on commas and whitespace, keeping text inside
// {braces} (inline:{...}, regexp:{{...}}) together.
func SplitList(v string) []string {
	var items []string
	start, depth := -1, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		case depth == 0 && (c == ',' || isSpace(c)):
			if start >= 0 {
				items = append(items, v[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		items = append(items, v[start:])
	}
	return items
}
