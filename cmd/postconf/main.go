// Command postconf shows and edits Postern's configuration exactly as
// Postfix's postconf(1) does: main.cf parameters (-n, -d, -x, -h, -H, -f),
// edits (-e, -X, -#), master.cf (-M, -F, -P) and the supported plug-in and
// table types (-a, -A, -m).
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/mastercf"
)

// serverSASLTypes are the smtpd_sasl_type values Postern's SMTP server
// supports (postconf -a): smtpd authenticates through Dovecot's auth
// service (pkg/sasl); there is no Cyrus SASL.
var serverSASLTypes = []string{"dovecot"}

// clientSASLTypes are the smtp_sasl_type values Postern's SMTP client
// supports (postconf -A): its built-in client reads smtp_sasl_password_maps
// as Postfix's Cyrus client does, under the same name.
var clientSASLTypes = []string{"cyrus"}

// fatalError ends postconf with "postconf: fatal: ..." and exit status 1.
type fatalError struct{ msg string }

func (e *fatalError) Error() string { return e.msg }

func fatalf(format string, args ...any) error {
	return &fatalError{msg: fmt.Sprintf(format, args...)}
}

// postconf carries one run's output streams and options.
type postconf struct {
	out  *bufio.Writer
	errw io.Writer
	opts *options
	dir  string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes postconf with argv and returns the exit status.
func run(argv []string, stdout, stderr io.Writer) int {
	out := bufio.NewWriter(stdout)
	p := &postconf{out: out, errw: stderr}
	err := p.main(argv)
	// Like Postfix, a fatal error drops output still in the buffer.
	if err == nil {
		if flushErr := out.Flush(); flushErr != nil {
			err = fatalf("write: %v", flushErr)
		}
	}
	if err != nil {
		name := "postconf"
		var be *bounceError
		if errors.As(err, &be) {
			name = bounceLogName
		}
		fmt.Fprintf(stderr, "%s: fatal: %s\n", name, printable(err.Error()))
		return 1
	}
	return 0
}

func (p *postconf) warnf(format string, args ...any) {
	fmt.Fprintf(p.errw, "postconf: warning: %s\n", printable(fmt.Sprintf(format, args...)))
}

// printable replaces control characters with '?', as Postfix's logging
// does, so a warning stays on one line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func (p *postconf) main(argv []string) error {
	opts, err := parseOptions(argv)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(p.errw, "postconf: %s\n", ue.complaint)
	}
	if err != nil {
		return err
	}
	p.opts = opts
	p.dir = config.ConfigDir(opts.configDir)
	switch {
	case opts.flags['b'], opts.flags['t']:
		return p.templates()
	case opts.flags['a']:
		return p.printLines(serverSASLTypes)
	case opts.flags['A']:
		return p.printLines(clientSASLTypes)
	case opts.flags['m']:
		return p.printLines(maps.Types())
	case opts.masterMode != 0:
		if _, err := os.Stat(filepath.Join(p.dir, "master.cf")); err == nil && !opts.flags['d'] {
			// Like Postfix's, every run reads main.cf and reports its
			// undefined parameters (not the unused ones).
			cfg, err := p.loadConfig()
			if err != nil {
				return err
			}
			if err := p.checkUndefined(cfg); err != nil {
				return err
			}
		}
		return printMasterCF(p.out, p.dir, opts.masterMode, opts.flags['f'], opts.args)
	case opts.flags['e']:
		return p.edit()
	case opts.flags['X']:
		return config.RemoveFromMainCF(filepath.Join(p.dir, "main.cf"), opts.args, p.warnLine)
	case opts.flags['#']:
		return config.CommentOutInMainCF(filepath.Join(p.dir, "main.cf"), opts.args, p.warnLine)
	}
	return p.show()
}

func (p *postconf) warnLine(msg string) { p.warnf("%s", msg) }

func (p *postconf) printLines(lines []string) error {
	for _, l := range lines {
		fmt.Fprintln(p.out, l)
	}
	return nil
}

// edit applies "name=value" arguments to main.cf (postconf -e).
func (p *postconf) edit() error {
	var settings []config.Setting
	for _, arg := range p.opts.args {
		name, value, err := config.SplitNameValue(arg)
		if err != nil {
			return fatalf("%v: \"%s\"", err, arg)
		}
		settings = append(settings, config.Setting{Name: name, Value: value})
	}
	return config.SetInMainCF(filepath.Join(p.dir, "main.cf"), settings, p.warnLine)
}

// show prints parameters: all, the explicit ones (-n), defaults (-d), or
// those named on the command line.
func (p *postconf) show() error {
	opts := p.opts
	defaults := opts.flags['d']
	var cfg *config.Config
	var masterTexts []string
	if defaults {
		cfg = config.Defaults(p.dir)
		masterTexts = p.readMasterCF(cfg, true)
	} else {
		var err error
		if cfg, err = p.loadConfig(); err != nil {
			return err
		}
		masterTexts = p.readMasterCF(cfg, true)
		if err := p.scanMainCF(cfg); err != nil {
			return err
		}
	}
	used, unused := cfg.UserParameters(masterTexts...)
	printable := map[string]bool{}
	for _, n := range cfg.Names() {
		printable[n] = true
	}
	for _, s := range used {
		printable[s.Name] = true
	}

	var names []string
	switch {
	case len(opts.args) > 0:
		names = opts.args
	case opts.flags['n']:
		for _, s := range cfg.Settings() {
			if printable[s.Name] {
				names = append(names, s.Name)
			}
		}
	default:
		names = cfg.Names()
		for _, s := range used {
			names = append(names, s.Name)
		}
		sort.Strings(names)
	}
	for _, name := range names {
		if !printable[name] {
			p.warnf("%s: unknown parameter", name)
			continue
		}
		if _, set := cfg.Explicit(name); opts.flags['n'] && !set {
			continue
		}
		if err := p.printParameter(cfg, name, defaults); err != nil {
			return err
		}
	}
	if !defaults {
		for _, s := range unused {
			p.warnf("%s: unused parameter: %s=%s", cfg.Path, s.Name, s.Value)
		}
	}
	return nil
}

// loadConfig reads main.cf, reports its syntax warnings and applies the
// -o overrides.
func (p *postconf) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(p.dir)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		p.warnf("%s", w)
	}
	for _, o := range p.opts.overrides {
		if err := cfg.Override(o); err != nil {
			return nil, err
		}
	}
	// Like Postfix, compute mynetworks before anything else, so a bad
	// mynetworks_style is fatal whatever is printed.
	if _, set := cfg.Explicit("mynetworks"); !set {
		if _, _, err := cfg.Default("mynetworks"); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// checkUndefined reports the parameters that master.cf's -o values and
// main.cf refer to but nothing defines (master.cf's own syntax problems
// are printMasterCF's to report).
func (p *postconf) checkUndefined(cfg *config.Config) error {
	p.readMasterCF(cfg, false)
	return p.scanMainCF(cfg)
}

// scanMainCF reports main.cf's undefined parameters and bad values.
func (p *postconf) scanMainCF(cfg *config.Config) error {
	err := cfg.Scan(func(name string) { p.warnf("%s: undefined parameter: %s", cfg.Path, name) },
		func(err error) { p.warnf("%v", err) })
	return macroFailure(p, err)
}

// printParameter prints one parameter in the form the flags ask for.
func (p *postconf) printParameter(cfg *config.Config, name string, defaults bool) error {
	var value string
	var err error
	if defaults {
		value, _, err = cfg.Default(name)
	} else {
		value, _, err = cfg.Raw(name)
	}
	if err != nil {
		return err
	}
	if p.opts.flags['x'] && !config.IsRaw(name) {
		value, err = cfg.Expand(value)
		if err := macroFailure(p, err); err != nil {
			return err
		}
	}
	var line string
	switch {
	case p.opts.flags['H']:
		line = name + "\n"
	case p.opts.flags['h']:
		line = formatWords(strings.Fields(value), p.opts.flags['f'])
	default:
		line = formatWords(append([]string{name, "="}, strings.Fields(value)...), p.opts.flags['f'])
	}
	_, err = p.out.WriteString(line)
	return err
}

// macroFailure turns an expansion error into Postfix's two lines: the
// detail as a warning, then "fatal: macro processing error".
func macroFailure(p *postconf, err error) error {
	if err == nil {
		return nil
	}
	var ee *config.ExpandError
	if errors.As(err, &ee) {
		p.warnf("%s", ee.Detail)
		return config.ErrMacro
	}
	return err
}

// readMasterCF registers the per-transport parameters of master.cf's
// delivery services in cfg and returns the values of its "-o" options,
// whose $name references make main.cf parameters "used". A missing
// master.cf is reported as postconf reports it; a malformed one is left
// for -M to report.
func (p *postconf) readMasterCF(cfg *config.Config, fileWarnings bool) []string {
	path := filepath.Join(p.dir, "master.cf")
	file, err := mastercf.ParseFileLenient(path)
	if errors.Is(err, os.ErrNotExist) {
		if fileWarnings {
			p.warnf("%v", err)
		}
		return nil
	}
	if fileWarnings {
		reportMasterWarnings(path, file)
	}
	if err != nil {
		return nil
	}
	var texts []string
	for _, e := range file.Entries {
		cfg.AddService(e.Service, filepath.Base(e.Command))
		for _, o := range e.Options {
			texts = append(texts, o.Value)
		}
	}
	undefined := map[string]bool{}
	for _, text := range texts {
		_, _ = cfg.ExpandReporting(text, nil, func(name string) {
			if !undefined[name] {
				undefined[name] = true
				p.warnf("%s: undefined parameter: %s", path, name)
			}
		})
	}
	return texts
}
