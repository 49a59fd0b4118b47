// Package tablecmd is the shared body of the postmap, postalias and
// newaliases commands: option handling, building NAME.db from a source
// file, queries, updates, deletions and dumps.
package tablecmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/getopt"
	"github.com/postern/postern/pkg/maps"
)

// Tool says which command is running.
type Tool int

const (
	// Postmap builds tables from "key value" source files.
	Postmap Tool = iota
	// Postalias builds tables from aliases(5) files.
	Postalias
)

// Env is what a run needs from the outside world.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv reads MAIL_CONFIG; nil means os.Getenv.
	Getenv func(string) string
}

// command holds the state of one run.
type command struct {
	tool   Tool
	prog   string
	env    Env
	stdout *bufio.Writer

	configDir   string
	config      *config.Config
	defaultType string
	opts        maps.Options
	duplicates  maps.DuplicatePolicy
	keepRoot    bool // -o
	// message query mode (postmap -b, -h, -m with "-q -")
	bodyKeys, headerKeys, mimeKeys bool
	resetPerms                     bool // -p: do not copy the source file's read bits
}

// fatalf makes an error that ends a run with "prog: fatal: text".
func fatalf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// Run runs postmap (tool Postmap) or postalias/newaliases (Postalias)
// with args (without the program name) and returns the exit status.
// prog is the name used in messages; "newaliases" rebuilds the tables
// in alias_database.
func Run(tool Tool, prog string, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	c := &command{tool: tool, prog: prog, env: env, stdout: bufio.NewWriter(env.Stdout),
		configDir: config.DefaultConfigDir}
	if dir := env.Getenv("MAIL_CONFIG"); dir != "" {
		c.configDir = dir
	}
	status, err := c.run(args)
	if flushErr := c.stdout.Flush(); flushErr != nil && err == nil {
		err = fatalf("write standard output: %v", flushErr)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: fatal: %s\n", c.prog, err)
		return 1
	}
	return status
}

func (c *command) warn(format string, args ...any) {
	c.stdout.Flush()
	fmt.Fprintf(c.env.Stderr, "%s: warning: %s\n", c.prog, fmt.Sprintf(format, args...))
}

func (c *command) usage() error {
	if c.prog == "newaliases" {
		return fatalf("usage: newaliases")
	}
	if c.tool == Postalias {
		return fatalf("usage: %s [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key] [map_type:]file...", c.prog)
	}
	return fatalf("usage: %s [-bfhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file...", c.prog)
}

func (c *command) run(args []string) (int, error) {
	if c.prog == "newaliases" {
		if len(args) > 0 {
			return 1, c.usage()
		}
		// Postfix's newaliases runs postalias, which names itself in messages.
		c.prog = "postalias"
		if err := c.loadConfig(); err != nil {
			return 1, err
		}
		return c.newaliases()
	}
	optstring := "Nc:d:finopq:rsuUvw"
	if c.tool == Postmap {
		optstring = "bhmNc:d:finopq:rsuUvw"
	}
	options, operands, err := getopt.ParseGNU(args, optstring)
	if err != nil {
		fmt.Fprintf(c.env.Stderr, "%s: %s\n", c.prog, err)
		return 1, c.usage()
	}
	var query, del string
	var querying, deleting, dump, incremental, forceUTF8 bool
	actions := 0
	for _, o := range options {
		switch o.Letter {
		case 'b':
			c.bodyKeys = true
		case 'h':
			c.headerKeys = true
		case 'm':
			c.mimeKeys = true
		case 'U':
			forceUTF8 = true
		case 'c':
			c.configDir = o.Arg
		case 'd':
			del, deleting = o.Arg, true
			actions++
		case 'f':
			c.opts.NoFold = true
		case 'i':
			incremental = true
		case 'o':
			c.keepRoot = true
		case 'p':
			c.resetPerms = true
		case 'q':
			query, querying = o.Arg, true
			actions++
		case 'r':
			c.duplicates = maps.Replace
		case 's':
			dump = true
			actions++
		case 'w':
			c.duplicates = maps.KeepFirstSilent
		case 'N', 'n', 'u', 'v':
			// Null-terminated keys, UTF-8 checks and verbosity change
			// nothing in Postern's table files.
		}
	}
	if actions > 1 {
		return 1, fatalf("specify only one of -s -q or -d")
	}
	if len(operands) == 0 {
		return 1, c.usage()
	}
	if err := c.loadConfig(); err != nil {
		return 1, err
	}
	messageKeys := c.bodyKeys || c.headerKeys
	if (c.bodyKeys || c.headerKeys || c.mimeKeys) && (!querying || query != "-") {
		return 1, fatalf("specify -b -h or -m only with \"-q -\"")
	}
	if c.mimeKeys && !messageKeys {
		c.warn("ignoring -m option without -b or -h")
	}
	if messageKeys && !forceUTF8 {
		c.opts.UTF8 = false
	}
	switch {
	case querying && messageKeys:
		return c.queryMessage(operands)
	case querying && query == "-":
		return c.queryStdin(operands)
	case querying:
		return c.queryKey(query, operands)
	case deleting:
		return c.deleteKeys(del, operands)
	case dump:
		return c.dump(operands[0])
	case incremental:
		return 0, c.update(operands[0])
	}
	for _, spec := range operands {
		if err := c.build(spec); err != nil {
			return 1, err
		}
	}
	return 0, nil
}

// loadConfig reads main.cf from the configuration directory, as every
// Postfix command does before it touches a table.
func (c *command) loadConfig() error {
	cfg, err := config.Load(c.configDir)
	if err != nil {
		return err
	}
	for _, w := range cfg.Warnings {
		c.warn("%s", w)
	}
	var p struct {
		DefaultType string `param:"default_database_type"`
		UTF8        bool   `param:"smtputf8_enable"`
	}
	if err := cfg.Fill(&p); err != nil {
		return err
	}
	c.defaultType, c.opts.UTF8 = p.DefaultType, p.UTF8
	c.config = cfg
	return nil
}

// newaliases rebuilds every table listed in alias_database.
func (c *command) newaliases() (int, error) {
	specs, err := c.config.List("alias_database")
	if err != nil {
		return 1, err
	}
	for _, spec := range specs {
		if err := c.build(spec); err != nil {
			return 1, err
		}
	}
	return 0, nil
}

// split applies the default table type to a command-line table name.
func (c *command) split(spec string) (typ, name string) {
	return maps.SplitSpec(spec, c.defaultType)
}

// open opens a table named on the command line and reports its
// open-time warnings.
func (c *command) open(spec string) (maps.Table, error) {
	typ, name := c.split(spec)
	t, err := maps.Open(typ+":"+name, c.opts)
	if err != nil {
		return nil, err
	}
	for _, w := range maps.WarningsOf(t) {
		c.warn("%s", w)
	}
	return t, nil
}

// separator goes between key and value in -s and "-q -" output.
func (c *command) separator() string {
	if c.tool == Postalias {
		return ":\t"
	}
	return "\t"
}

func (c *command) queryKey(key string, specs []string) (int, error) {
	for _, spec := range specs {
		t, err := c.open(spec)
		if err != nil {
			return 1, err
		}
		value, found, err := c.lookup(t, key)
		t.Close()
		if err != nil {
			return 1, err
		}
		if found {
			fmt.Fprintln(c.stdout, value)
			return 0, nil
		}
	}
	return 1, nil
}

// lookup queries one table and, like Postfix, warns about a table that
// answers a key with an empty value instead of "not found".
func (c *command) lookup(t maps.Table, key string) (string, bool, error) {
	value, found, err := t.Lookup(key)
	if err == nil && found && value == "" {
		c.warn("table %s: key %s: empty string result is not allowed", t.Spec(), key)
		c.warn("table %s should return NO RESULT in case of NOT FOUND", t.Spec())
	}
	return value, found, err
}

func (c *command) queryStdin(specs []string) (int, error) {
	tables := make([]maps.Table, len(specs))
	defer func() {
		for _, t := range tables {
			if t != nil {
				t.Close()
			}
		}
	}()
	status := 1
	err := readKeys(c.env.Stdin, func(key string) error {
		for i, spec := range specs {
			if tables[i] == nil {
				t, err := c.open(spec)
				if err != nil {
					return err
				}
				tables[i] = t
			}
			value, found, err := c.lookup(tables[i], key)
			if err != nil {
				return err
			}
			if found {
				fmt.Fprintf(c.stdout, "%s%s%s\n", key, c.separator(), value)
				status = 0
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return 1, err
	}
	return status, nil
}

// readKeys calls fn for each line of r, without its newline.
func readKeys(r io.Reader, fn func(string) error) error {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 4096), 1<<20)
	for scanner.Scan() {
		if err := fn(scanner.Text()); err != nil {
			return err
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("read standard input: %w", err)
	}
	return nil
}

func (c *command) dump(spec string) (int, error) {
	t, err := c.open(spec)
	if err != nil {
		return 1, err
	}
	defer t.Close()
	walker, ok := t.(maps.Walker)
	if !ok {
		return 1, fatalf("table %s: sequence operation is not supported", t.Spec())
	}
	err = walker.Walk(func(key, value string) bool {
		fmt.Fprintf(c.stdout, "%s%s%s\n", key, c.separator(), value)
		return true
	})
	if err != nil {
		return 1, err
	}
	return 0, nil
}

// indexedName checks that spec names a table type postmap can write and
// returns the table's name.
func (c *command) indexedName(spec string) (string, error) {
	typ, name := c.split(spec)
	switch {
	case typ == "hash" || typ == "btree":
		return name, nil
	case maps.Registered(typ):
		return "", fatalf("unsupported dictionary type: %s does not support bulk-mode creation.", typ)
	default:
		return "", fatalf("unsupported dictionary type: %s", typ)
	}
}

func (c *command) deleteKeys(key string, specs []string) (int, error) {
	var keys []string
	if key == "-" {
		if err := readKeys(c.env.Stdin, func(k string) error { keys = append(keys, k); return nil }); err != nil {
			return 1, err
		}
	} else {
		keys = []string{key}
	}
	status := 1
	for _, spec := range specs {
		removed, err := c.deleteFrom(spec, keys)
		if err != nil {
			return 1, err
		}
		if removed {
			status = 0
		}
	}
	return status, nil
}

// deleteFrom removes keys from one table and reports whether any was there.
func (c *command) deleteFrom(spec string, keys []string) (bool, error) {
	name, err := c.indexedName(spec)
	if err != nil {
		return false, err
	}
	dbPath := maps.IndexedPath(name)
	unlock, err := maps.LockForUpdate(dbPath)
	if err != nil {
		return false, err
	}
	defer unlock()
	entries, err := maps.ReadIndexed(dbPath)
	if err != nil {
		return false, err
	}
	set := maps.NewEntrySet(maps.Replace)
	for _, e := range entries {
		set.Add(e.Key, e.Value)
	}
	removed := false
	for _, k := range keys {
		if k != "" && set.Delete(c.fold(k)) {
			removed = true
		}
	}
	if !removed {
		return false, nil
	}
	return true, maps.WriteIndexed(dbPath, set.Entries(), nil)
}

func (c *command) fold(key string) string {
	return maps.Fold(key, c.opts)
}

// build rebuilds NAME.db from the source file NAME.
func (c *command) build(spec string) error {
	_, name := c.split(spec)
	source, err := os.Open(name)
	if err != nil {
		return fatalf("open %s: %s", name, errnoText(err))
	}
	defer source.Close()
	info, err := source.Stat()
	if err != nil {
		return fatalf("fstat %s: %s", name, errnoText(err))
	}
	if _, err := c.indexedName(spec); err != nil {
		return err
	}
	restore, err := c.becomeOwner(info)
	if err != nil {
		return err
	}
	defer restore()
	dbPath := maps.IndexedPath(name)
	unlock, err := maps.LockForUpdate(dbPath)
	if err != nil {
		return err
	}
	defer unlock()
	set := maps.NewEntrySet(c.duplicates)
	if err := c.readEntries(source, name, dbPath, set); err != nil {
		return err
	}
	if c.resetPerms {
		info = nil
	}
	return maps.WriteIndexed(dbPath, set.Entries(), info)
}

// update adds the entries on standard input to an existing (or new) table.
func (c *command) update(spec string) error {
	name, err := c.indexedName(spec)
	if err != nil {
		return err
	}
	dbPath := maps.IndexedPath(name)
	unlock, err := maps.LockForUpdate(dbPath)
	if err != nil {
		return err
	}
	defer unlock()
	set := maps.NewEntrySet(c.duplicates)
	if _, statErr := os.Stat(dbPath); statErr == nil {
		entries, err := maps.ReadIndexed(dbPath)
		if err != nil {
			return err
		}
		for _, e := range entries {
			set.Add(e.Key, e.Value)
		}
	}
	if err := c.readEntries(c.env.Stdin, "stdin", dbPath, set); err != nil {
		return err
	}
	return maps.WriteIndexed(dbPath, set.Entries(), nil)
}

// readEntries parses a source (postmap or aliases format) into set,
// warning about bad lines and duplicates as Postfix does.
func (c *command) readEntries(r io.Reader, file, dbPath string, set *maps.EntrySet) error {
	add := func(key, value string) {
		key = c.fold(key)
		if set.Add(key, value) {
			c.warn("%s: duplicate entry: \"%s\"", dbPath, key)
		}
	}
	if c.tool == Postalias {
		return c.readAliases(r, file, set, add)
	}
	return maps.ScanSource(r, file, c.opts.UTF8,
		func(e maps.SourceEntry) { add(e.Key, e.Value) },
		func(w maps.SourceWarning) { c.warn("%s", w) })
}

// errnoText words an error from the os package as strerror does.
func errnoText(err error) string {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	text := err.Error()
	if text != "" && text[0] >= 'a' && text[0] <= 'z' {
		text = string(text[0]-'a'+'A') + text[1:]
	}
	return text
}
