// Optional interfaces a Table may implement beyond Lookup/Spec/Close.

package maps

// FileBacked is implemented by tables whose contents live in files: the
// NAME.db of hash/btree, the source file of texthash, regexp and cidr.
// A Watcher watches these files to tell a daemon that a table changed.
type FileBacked interface {
	Files() []string
}

// Walker is implemented by tables whose entries can be listed
// (postmap -s). Walk calls fn for each entry until fn returns false.
type Walker interface {
	Walk(fn func(key, value string) bool) error
}

// Warner is implemented by tables that found problems when they were
// opened which are not fatal: skipped source lines, duplicate keys. Each warning is worded as
// Postfix logs it, without the "warning: " prefix.
type Warner interface {
	Warnings() []string
}

// SourceChecker is implemented by tables built from a source file
// (hash, btree). CheckSource returns "database X.db is older than source
// file X" when the source was edited after the last postmap, else "".
// Daemons log it as a warning when they open the table.
type SourceChecker interface {
	CheckSource() string
}

// FilesOf returns the files behind t, or nil when it has none.
func FilesOf(t Table) []string {
	if fb, ok := t.(FileBacked); ok {
		return fb.Files()
	}
	return nil
}

// WarningsOf returns the open-time warnings of t, or nil.
func WarningsOf(t Table) []string {
	if w, ok := t.(Warner); ok {
		return w.Warnings()
	}
	return nil
}
