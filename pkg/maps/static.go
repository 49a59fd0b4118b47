// static: a table that returns the same value for every key,
// static:value or static:{ value with spaces }.

package maps

import "fmt"

func init() { Register("static", openStatic) }

type staticTable struct {
	spec, value string
}

func openStatic(name string, _ Options) (Table, error) {
	value := name
	if len(name) > 0 && name[0] == '{' {
		inner, err := unbrace(name)
		if err != nil {
			return nil, fmt.Errorf("bad static:name syntax: %w", err)
		}
		value = inner
	}
	return &staticTable{spec: "static:" + name, value: value}, nil
}

func (t *staticTable) Lookup(string) (string, bool, error) { return t.value, true, nil }
func (t *staticTable) Spec() string                        { return t.spec }
func (t *staticTable) Close() error                        { return nil }
