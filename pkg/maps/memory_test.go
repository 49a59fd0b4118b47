// Tests of the in-memory table types: inline, static and texthash.

package maps

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const inlineNeed = `; need "inline:{name=value...}"`

func TestInline(t *testing.T) {
	tests := []struct {
		spec    string
		lookups map[string]string // key -> value; "" means not found
		err     string
	}{
		{spec: "inline:{ k=v, {k2 = v w/ space} }", lookups: map[string]string{"k": "v", "K2": "v w/ space", "x": ""}},
		{spec: "inline:{K=V}", lookups: map[string]string{"k": "V"}},
		{spec: "inline:{ k=v,, j=w }", lookups: map[string]string{"j": "w"}},
		{spec: `inline:{ "k"=v }`, lookups: map[string]string{"k": "", `"k"`: "v"}},
		{spec: "inline:{ k==v }", lookups: map[string]string{"k": "=v"}},
		{spec: "inline:{ k={v} }", lookups: map[string]string{"k": "{v}"}},
		{spec: "inline:{ k=v x=y }", lookups: map[string]string{"x": "y"}},
		{spec: "inline:{ {k = a, b} }", lookups: map[string]string{"k": "a, b"}},
		{spec: "inline:{ { k = v } }", lookups: map[string]string{"k": "v"}},
		{spec: "inline:{ a=b=c }", lookups: map[string]string{"a": "b=c"}},
		{spec: "inline:{ k=1, k=2 }", lookups: map[string]string{"k": "1"}},
		{spec: "inline:{ k = v }", err: `missing '=' after attribute name: "inline:{ k = v }"` + inlineNeed},
		{spec: "inline:{ {k} }", err: `missing '=' after attribute name: "inline:{ {k} }"` + inlineNeed},
		{spec: "inline:{k=v", err: `bad syntax: "inline:{k=v"` + inlineNeed},
		{spec: "inline:k=v", err: `bad syntax: "inline:k=v"` + inlineNeed},
		{spec: "inline:{}", err: `bad syntax: "inline:{}"` + inlineNeed},
		{spec: "inline:{ {k=v }", err: `bad syntax: "inline:{ {k=v }"` + inlineNeed},
		{spec: "inline:{ k=v}}", err: `bad syntax: "inline:{ k=v}}"` + inlineNeed},
		{spec: "inline:  {k=v}", err: `bad syntax: "inline:  {k=v}"` + inlineNeed},
		{spec: "inline:{ , }", err: `empty table: "inline:{ , }"` + inlineNeed},
		{spec: "inline:{ {} }", err: `no key found; expected format: key = value: "inline:{ {} }"` + inlineNeed},
		{spec: "inline:{ {k=v}x }", err: `syntax error after '}' in "{k=v}x": "inline:{ {k=v}x }"` + inlineNeed},
	}
	for _, tt := range tests {
		checkSpec(t, tt.spec, Options{}, tt.lookups, tt.err)
	}
}

func TestStatic(t *testing.T) {
	tests := []struct {
		spec, value, err string
	}{
		{spec: "static:value", value: "value"},
		{spec: "static:a b", value: "a b"},
		{spec: "static:{ text with space }", value: "text with space"},
		{spec: "static:{{a}}", value: "{a}"},
		{spec: "static:{x", err: `bad static:name syntax: missing '}' in "{x"`},
		{spec: "static:{ a } b", err: `bad static:name syntax: syntax error after '}' in "{ a } b"`},
	}
	for _, tt := range tests {
		checkSpec(t, tt.spec, Options{}, map[string]string{"anything": tt.value, "": tt.value}, tt.err)
	}
}

func TestTexthash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "virtual")
	os.WriteFile(path, []byte("Key1 val1\nbadline\ndup one\ndup two\n\"q k\" qv\n"), 0o644)
	checkSpec(t, "texthash:"+path, Options{}, map[string]string{"key1": "val1", "KEY1": "val1", "dup": "one", `"Q K"`: "qv", "q k": ""}, "")
	checkSpec(t, "texthash:"+path, Options{NoFold: true}, map[string]string{"Key1": "val1", "key1": ""}, "")
	checkSpec(t, "texthash:"+dir+"/missing", Options{}, nil, "open database "+dir+"/missing: No such file or directory")

	table, err := Open("texthash:"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantWarnings := []string{
		path + ", line 2: expected format: key whitespace value -- ignoring this line",
		path + `, line 4: duplicate entry: "dup"`,
	}
	if got := WarningsOf(table); !reflect.DeepEqual(got, wantWarnings) {
		t.Errorf("warnings = %q, want %q", got, wantWarnings)
	}
	if got := FilesOf(table); !reflect.DeepEqual(got, []string{path}) {
		t.Errorf("Files() = %q", got)
	}
}

// checkSpec opens spec and checks lookups (an empty wanted value means
// "not found"), or the open error.
func checkSpec(t *testing.T, spec string, opts Options, lookups map[string]string, wantErr string) {
	t.Helper()
	table, err := Open(spec, opts)
	if wantErr != "" {
		if err == nil || err.Error() != wantErr {
			t.Errorf("Open(%q) error = %v, want %q", spec, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Errorf("Open(%q): %v", spec, err)
		return
	}
	defer table.Close()
	for key, want := range lookups {
		got, found, err := table.Lookup(key)
		if err != nil || got != want || found != (want != "") {
			t.Errorf("%s: Lookup(%q) = %q, %v, %v; want %q", spec, key, got, found, err, want)
		}
	}
}

func TestUTF8Lookups(t *testing.T) {
	utf8 := Options{UTF8: true}
	checkSpec(t, "inline:{STRAßE=1}", utf8, map[string]string{"strasse": "1", "Straße": "1", "stra\xffe": ""}, "")
	checkSpec(t, "inline:{STRAßE=1}", Options{}, map[string]string{"straße": "1", "strasse": ""}, "")
	name := filepath.Join(t.TempDir(), "t")
	writeTable(t, name, []Entry{{"strasse", "v"}})
	checkSpec(t, "hash:"+name, utf8, map[string]string{"STRAßE": "v", "\xff": ""}, "")
}
