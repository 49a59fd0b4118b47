// postconf -M, -F and -P: printing master.cf entries, fields and parameters.

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/postern/postern/pkg/mastercf"
)

// masterWarnings receives postconf's "warning:" lines about master.cf.
var masterWarnings io.Writer = os.Stderr

// masterSelector is one "service[/type[/field-or-parameter]]" argument; an
// empty part or "*" matches anything.
type masterSelector struct {
	request          string
	service, typ, id string
	matched          bool
}

func (s *masterSelector) matches(e *mastercf.Entry) bool {
	return matchPart(s.service, e.Service) && matchPart(s.typ, string(e.Type))
}

func matchPart(pattern, value string) bool {
	return pattern == "" || pattern == "*" || pattern == value
}

// printMasterCF prints configDir/master.cf as "postconf -M" (mode 'M'),
// "postconf -F" ('F') or "postconf -P" ('P') does, folding long lines when
// fold is set, limited to the entries, fields or parameters the selectors
// name. Its errors are worded for "postconf: fatal: ...".
// reportMasterWarnings prints what postconf warns about in a master.cf it
// could read, worded and placed as Postfix places it.
func reportMasterWarnings(path string, file *mastercf.File) {
	if file == nil {
		return
	}
	for _, warning := range file.Warnings {
		where := "master.cf"
		if warning.Kind == mastercf.WarnLeadingWhitespace {
			where = path
		}
		fmt.Fprintf(masterWarnings, "postconf: warning: %s\n", printableMasterText(where+": "+warning.Msg))
	}
}

func printMasterCF(w io.Writer, configDir string, mode byte, fold bool, selectors []string) error {
	if mode != 'M' && mode != 'F' && mode != 'P' {
		return fmt.Errorf("unknown master.cf display mode %q", mode)
	}
	path := configDir + "/master.cf"
	file, err := mastercf.ParseFileLenient(path)
	reportMasterWarnings(path, file)
	if err != nil {
		return postconfMasterError(err)
	}
	sels, err := parseMasterSelectors(mode, selectors)
	if err != nil {
		return err
	}
	params := masterParameters(file)
	var out strings.Builder
	for _, e := range file.Entries {
		switch mode {
		case 'M':
			printMasterEntry(&out, e, fold, sels)
		case 'F':
			printMasterFields(&out, e, fold, sels)
		case 'P':
			printMasterParameters(&out, e, params[e], fold, sels)
		}
	}
	if _, err := io.WriteString(w, out.String()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	for _, s := range sels {
		if !s.matched {
			fmt.Fprintf(masterWarnings, "postconf: warning: unmatched request: \"%s\"\n", s.request)
		}
	}
	return nil
}

// parseMasterSelectors checks the selectors as postconf does. -M takes
// service[/type], -F and -P a third part (a field name for -F).
func parseMasterSelectors(mode byte, requests []string) ([]*masterSelector, error) {
	usage := map[byte]string{
		'M': "-M option requires service_name[/type]",
		'F': "-F option requires service_name[/type[/field]]",
		'P': "-P option requires service_name[/type[/parameter]]",
	}[mode]
	maxParts := 3
	if mode == 'M' {
		maxParts = 2
	}
	var sels []*masterSelector
	for _, request := range requests {
		parts := strings.Split(request, "/")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) == 0 || parts[0] == "" || len(parts) > maxParts {
			return nil, fmt.Errorf("%s", usage)
		}
		parts = append(parts, "", "")
		s := &masterSelector{request: request, service: parts[0], typ: parts[1], id: parts[2]}
		if mode == 'F' && s.id != "" && s.id != "*" && !isMasterField(s.id) {
			return nil, fmt.Errorf("invalid service attribute name: \"%s\"", s.id)
		}
		sels = append(sels, s)
	}
	return sels, nil
}

func isMasterField(name string) bool {
	for _, field := range mastercf.FieldNames() {
		if field == name {
			return true
		}
	}
	return false
}

// printMasterEntry prints an entry once for each selector that names it, or
// once when there are no selectors.
func printMasterEntry(out *strings.Builder, e *mastercf.Entry, fold bool, sels []*masterSelector) {
	if len(sels) == 0 {
		sels = []*masterSelector{{}}
	}
	for _, s := range sels {
		if s.matches(e) {
			out.WriteString(e.Format(fold))
			s.matched = true
		}
	}
}

// printMasterFields prints, for each selector naming the entry, the fields
// it asks for.
func printMasterFields(out *strings.Builder, e *mastercf.Entry, fold bool, sels []*masterSelector) {
	if len(sels) == 0 {
		sels = []*masterSelector{{}}
	}
	for _, s := range sels {
		if !s.matches(e) {
			continue
		}
		for _, field := range mastercf.FieldNames() {
			if matchPart(s.id, field) {
				out.WriteString(e.FormatField(field, fold))
				s.matched = true
			}
		}
	}
}

// masterParameters returns the parameters "postconf -P" shows for each
// entry. postconf keeps one table of "-o" parameters per service/type, made
// when the first parameter for that service/type is read and shared by that
// entry and every later one with the same service/type (earlier ones show
// nothing); a later value for a name replaces an earlier one.
func masterParameters(file *mastercf.File) map[*mastercf.Entry][]mastercf.Option {
	tables := make(map[string]map[string]string)
	tableOf := make(map[*mastercf.Entry]map[string]string, len(file.Entries))
	for _, e := range file.Entries {
		for _, o := range e.Options {
			if tables[e.Key()] == nil {
				tables[e.Key()] = make(map[string]string)
			}
			tables[e.Key()][o.Name] = o.Value
		}
		tableOf[e] = tables[e.Key()]
	}
	out := make(map[*mastercf.Entry][]mastercf.Option, len(tableOf))
	for e, table := range tableOf {
		params := make([]mastercf.Option, 0, len(table))
		for name, value := range table {
			params = append(params, mastercf.Option{Name: name, Value: value})
		}
		sort.Slice(params, func(i, j int) bool { return params[i].Name < params[j].Name })
		out[e] = params
	}
	return out
}

// printMasterParameters prints, for each selector naming the entry, the
// parameters (from params, sorted by name) it asks for.
func printMasterParameters(out *strings.Builder, e *mastercf.Entry, params []mastercf.Option, fold bool, sels []*masterSelector) {
	if len(sels) == 0 {
		sels = []*masterSelector{{}}
	}
	for _, s := range sels {
		if !s.matches(e) {
			continue
		}
		for _, p := range params {
			if matchPart(s.id, p.Name) {
				out.WriteString(e.FormatParameter(p, fold))
				s.matched = true
			}
		}
	}
}

// postconfMasterError rewords a master.cf entry error the way postconf
// words it (master's own wording differs); other errors pass unchanged.
func postconfMasterError(err error) error {
	var perr *mastercf.Error
	if !errors.As(err, &perr) {
		return err
	}
	switch perr.Kind {
	case mastercf.ErrMissingField:
		return fmt.Errorf("file %s: line %d: bad field count", perr.Path, perr.Line)
	case mastercf.ErrBadType, mastercf.ErrBadValue:
		return errors.New(printableMasterText(fmt.Sprintf("invalid %s field \"%s\" in \"%s\"", perr.Field, perr.Value, perr.Text)))
	}
	return err
}

// printableMasterText replaces control and non-ASCII bytes with "?", as
// postconf does in its messages.
func printableMasterText(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
