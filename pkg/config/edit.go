// edit.go changes main.cf for postconf -e, -X and -#: whole logical lines
// are replaced, removed or commented out, every other byte is kept, and
// the new file replaces the old one atomically.

package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// editAction is what happens to the logical lines of one parameter.
type editAction int

const (
	actionReplace editAction = iota
	actionRemove
	actionComment
)

// SetInMainCF gives each parameter its new value: an existing entry
// (with its continuation lines) is replaced in place, a new one is appended
// at the end. warn receives "multiple entries" notices.
func SetInMainCF(path string, settings []Setting, warn func(string)) error {
	values := map[string]string{}
	var order []string
	for _, s := range settings {
		if _, dup := values[s.Name]; !dup {
			order = append(order, s.Name)
		}
		values[s.Name] = s.Value
	}
	return editMainCF(path, order, values, actionReplace, warn)
}

// RemoveFromMainCF deletes the entries of names (postconf -X).
func RemoveFromMainCF(path string, names []string, warn func(string)) error {
	return editMainCF(path, names, nil, actionRemove, warn)
}

// CommentOutInMainCF turns the entries of names into comments by putting
// '#' in front of their lines (postconf -#).
func CommentOutInMainCF(path string, names []string, warn func(string)) error {
	return editMainCF(path, names, nil, actionComment, warn)
}

func editMainCF(path string, names []string, values map[string]string, action editAction, warn func(string)) error {
	if warn == nil {
		warn = func(string) {}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fileError("open", path+" for reading", err)
	}
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	wanted := map[string]bool{}
	for _, n := range names {
		wanted[n] = true
	}
	text := string(data)
	physical := splitPhysical(text)
	// owner[i] is the parameter whose logical line physical line i belongs to.
	owner := make([]string, len(physical))
	starts := map[int]string{}
	count := map[string]int{}
	for _, ll := range readLogicalLines(path, text, func(string) {}) {
		name, _, err := SplitNameValue(trimRightSpace(ll.text))
		if err != nil || !wanted[name] {
			continue
		}
		count[name]++
		starts[ll.firstLine-1] = name
		for i := ll.firstLine - 1; i < ll.lastLine; i++ {
			owner[i] = name
		}
	}
	for _, n := range names {
		if count[n] > 1 {
			warn(fmt.Sprintf("%s: multiple entries for \"%s\"", path, n))
		}
	}
	var out []string
	// lastKept is true while the output ends with the file's own last line,
	// unchanged: then a missing final newline stays missing.
	lastKept := false
	for i, line := range physical {
		name := owner[i]
		lastKept = name == "" && i == len(physical)-1
		if name == "" || isBlankOrComment(line) {
			// Blank and comment lines inside an entry stay where they are.
			out = append(out, line)
			continue
		}
		switch action {
		case actionReplace:
			if starts[i] == name {
				out = append(out, name+" = "+values[name])
			}
		case actionComment:
			out = append(out, "#"+line)
		case actionRemove:
		}
	}
	if action == actionReplace {
		for _, n := range names {
			if count[n] == 0 {
				out = append(out, n+" = "+values[n])
				lastKept = false
			}
		}
	}
	result := strings.Join(out, "\n")
	if len(out) > 0 && (strings.HasSuffix(text, "\n") || !lastKept) {
		result += "\n"
	}
	return writeAtomically(path, []byte(result), mode)
}

// writeAtomically writes data to a temporary file beside path, syncs it
// and renames it over path, so readers see the old or the new file whole.
func writeAtomically(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp")
	if err != nil {
		return fileError("create", filepath.Join(dir, filepath.Base(path)+".tmp"), err)
	}
	cleanup := func(e error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return e
	}
	if _, err := tmp.Write(data); err != nil {
		return cleanup(fileError("write", tmp.Name(), err))
	}
	if err := tmp.Chmod(mode); err != nil {
		return cleanup(fileError("chmod", tmp.Name(), err))
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(fileError("fsync", tmp.Name(), err))
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fileError("close", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fileError("rename", tmp.Name(), err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
