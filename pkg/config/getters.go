// getters.go splits list parameters; the other kinds are read by Fill
// (fill.go).

package config

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
