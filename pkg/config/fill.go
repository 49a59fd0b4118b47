// fill.go is the one way a package reads its parameters: Fill sets the
// fields of a settings struct from their `param` tags, converting and
// checking each value by its parameter's declaration.

package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Fill sets each field of the struct dst points to that has a
// `param:"name"` tag to the value of parameter name, $name references
// expanded (unless the parameter is raw). The field's type says how the
// value is read:
//
//	string          the value as it is
//	[]string        the value split as a list (SplitList)
//	bool            a KindBool parameter (or a yes/no string)
//	int, int64      a KindInt or KindLong parameter, bounds checked (or a number string)
//	time.Duration   a KindTime parameter, bare numbers in its unit, bounds checked
//
// A tag "name,raw" reads the value unexpanded, for values the package
// expands itself with per-delivery variables. Untagged struct fields are
// filled recursively. The first invalid value
// is returned as Postfix's fatal error text ("bad numerical configuration:
// message_size_limit = 10x"); the struct is then partly filled. A tag that
// names an unknown parameter, or a field type that does not fit the
// parameter's kind, is an error too.
func (c *Config) Fill(dst any) error {
	return c.fill(dst, "", nil)
}

// FillWith is Fill with each tag's parameter name passed through rename
// first: the smtp client in LMTP mode reads lmtp_lhlo_name where its tag
// says smtp_helo_name, as Postfix's smtp(8) does.
func (c *Config) FillWith(dst any, rename func(name string) string) error {
	return c.fill(dst, "", rename)
}

// FillTransport is Fill for one delivery transport (a master.cf service
// name): a tag that starts with "_" names a per-transport parameter by its
// suffix, so `param:"_destination_concurrency_limit"` reads
// smtp_destination_concurrency_limit for transport "smtp", which defaults
// to $default_destination_concurrency_limit as in Postfix.
func (c *Config) FillTransport(transport string, dst any) error {
	return c.fill(dst, transport, nil)
}

// filler is one Fill call: the transport of "_suffix" tags and the
// renaming of the others.
type filler struct {
	c         *Config
	transport string
	rename    func(string) string
}

func (c *Config) fill(dst any, transport string, rename func(string) string) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config.Fill: %T is not a pointer to a struct", dst)
	}
	return filler{c, transport, rename}.fillStruct(v.Elem())
}

var durationType = reflect.TypeOf(time.Duration(0))

func (f filler) fillStruct(v reflect.Value) error {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, tagged := sf.Tag.Lookup("param")
		if !tagged {
			if sf.Type.Kind() == reflect.Struct && sf.IsExported() {
				if err := f.fillStruct(v.Field(i)); err != nil {
					return err
				}
			}
			continue
		}
		if !v.Field(i).CanSet() {
			return fmt.Errorf("config.Fill: field %s is not exported", sf.Name)
		}
		if err := f.fillField(v.Field(i), sf, name); err != nil {
			return err
		}
	}
	return nil
}

// fillField reads parameter name into the field.
func (fl filler) fillField(field reflect.Value, f reflect.StructField, name string) error {
	p, value, err := fl.lookupValue(name)
	if err != nil {
		return err
	}
	mismatch := func() error {
		return fmt.Errorf("config.Fill: field %s (%s) cannot hold %s parameter %s", f.Name, f.Type, p.Kind, p.Name)
	}
	switch {
	case f.Type == durationType:
		if p.Kind != KindTime {
			return mismatch()
		}
		d, err := p.Time(value)
		if err != nil {
			return err
		}
		field.SetInt(int64(d))
	case f.Type.Kind() == reflect.String:
		field.SetString(value)
	case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
		field.Set(reflect.ValueOf(SplitList(value)).Convert(f.Type))
	case f.Type.Kind() == reflect.Bool:
		if p.Kind != KindBool && p.Kind != KindString {
			return mismatch()
		}
		b, err := p.Bool(value)
		if err != nil {
			return err
		}
		field.SetBool(b)
	case f.Type.Kind() == reflect.Int || f.Type.Kind() == reflect.Int64:
		if p.Kind == KindString {
			p.Kind = KindLong // a number-valued string: no bounds
		} else if p.Kind != KindInt && p.Kind != KindLong {
			return mismatch()
		}
		n, err := p.Int(value)
		if err != nil {
			return err
		}
		field.SetInt(n)
	default:
		return mismatch()
	}
	return nil
}

// lookupValue returns the declaration of the parameter a tag names and
// its value.
func (f filler) lookupValue(name string) (Param, string, error) {
	if strings.HasPrefix(name, "_") {
		if f.transport == "" {
			return Param{}, "", fmt.Errorf("config.Fill: per-transport parameter %s needs FillTransport", name)
		}
		return f.c.transportValue(f.transport, name)
	}
	name, option, _ := strings.Cut(name, ",")
	if f.rename != nil {
		name = f.rename(name)
	}
	p, ok := Lookup(name)
	if !ok {
		return Param{}, "", fmt.Errorf("config.Fill: unknown parameter %s", name)
	}
	if option == "raw" {
		value, _, err := f.c.Raw(name)
		return p, value, err
	}
	value, err := f.c.Get(name)
	return p, value, err
}

// transportValue returns <transport><suffix>: its setting, else its
// built-in or master.cf-derived default, else the suffix's default
// ($default_<suffix> and the like).
func (c *Config) transportValue(transport, suffix string) (Param, string, error) {
	name := transport + suffix
	p := transportParam(name, suffix)
	if _, set := c.settings[name]; set || c.Known(name) {
		value, err := c.Get(name)
		return p, value, err
	}
	def, known := transportSuffixDefault(strings.TrimPrefix(suffix, "_"))
	if !known {
		return Param{}, "", fmt.Errorf("config.Fill: unknown per-transport parameter %s", suffix)
	}
	value, err := c.Expand(def)
	return p, value, err
}

// transportParam is the declaration of <transport><suffix>.
func transportParam(name, suffix string) Param {
	p, ok := transportParams[suffix]
	if !ok {
		p.Kind = KindString
	}
	p.Name = name
	return p
}

// param returns the declaration of name: a built-in parameter, or a
// per-transport one of a service added with AddService.
func (c *Config) param(name string) (Param, bool) {
	if p, ok := Lookup(name); ok {
		return p, true
	}
	if _, ok := c.serviceDefaults[name]; !ok {
		return Param{}, false
	}
	longest := ""
	for suffix := range transportParams {
		if strings.HasSuffix(name, suffix) && len(suffix) > len(longest) {
			longest = suffix
		}
	}
	return transportParam(name, longest), true
}

// Check validates every parameter set in main.cf or by an override
// against its kind and bounds, in name order, and returns the first
// invalid one as Postfix's fatal error text. `postfix check` reports it.
func (c *Config) Check() error {
	names := make([]string, 0, len(c.settings))
	for n := range c.settings {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p, ok := c.param(n)
		if !ok || p.Kind == KindString {
			continue
		}
		value, err := c.Get(n)
		if err != nil {
			return err
		}
		if err := p.Check(value); err != nil {
			return err
		}
	}
	return nil
}
