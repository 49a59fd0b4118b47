// texthash: a table read from its source file when it is opened, with no
// postmap step.

package maps

import (
	"fmt"
	"os"
	"sort"
)

func init() { Register("texthash", openTexthash) }

// memoryTable holds entries in memory; texthash and inline use it.
type memoryTable struct {
	spec     string
	opts     Options
	values   map[string]string
	order    []string
	files    []string
	warnings []string
}

func newMemoryTable(spec string, opts Options) *memoryTable {
	return &memoryTable{spec: spec, opts: opts, values: map[string]string{}}
}

// add stores a folded key; it reports false for a duplicate, which keeps
// the first value.
func (t *memoryTable) add(key, value string) bool {
	key = Fold(key, t.opts)
	if _, dup := t.values[key]; dup {
		return false
	}
	t.values[key] = value
	t.order = append(t.order, key)
	return true
}

func openTexthash(name string, opts Options) (Table, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, describeErrno(err))
	}
	defer f.Close()
	t := newMemoryTable("texthash:"+name, opts)
	t.files = []string{name}
	err = ScanSource(f, name, opts.UTF8, func(e SourceEntry) {
		if !t.add(e.Key, e.Value) {
			t.warnings = append(t.warnings, fmt.Sprintf("%s, line %d: duplicate entry: \"%s\"", name, e.Line, Fold(e.Key, opts)))
		}
	}, func(w SourceWarning) {
		text := w.String()
		if w.Malformed() {
			text += " -- ignoring this line"
		}
		t.warnings = append(t.warnings, text)
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(t.order)
	return t, nil
}

func (t *memoryTable) Lookup(key string) (string, bool, error) {
	if !usableKey(key, t.opts) {
		return "", false, nil
	}
	v, ok := t.values[Fold(key, t.opts)]
	return v, ok, nil
}

func (t *memoryTable) Spec() string       { return t.spec }
func (t *memoryTable) Close() error       { return nil }
func (t *memoryTable) Files() []string    { return t.files }
func (t *memoryTable) Warnings() []string { return t.warnings }

func (t *memoryTable) Walk(fn func(key, value string) bool) error {
	for _, k := range t.order {
		if !fn(k, t.values[k]) {
			break
		}
	}
	return nil
}
