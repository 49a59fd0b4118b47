// Differential test of postconf: a corpus of main.cf files, read by the real postconf and by Postern's.

package tests

import (
	"strings"
	"testing"
)

// standardMasterCF is written beside every main.cf unless a case says
// otherwise: without one, postconf warns that master.cf is missing.
const standardMasterCF = `# master.cf for the differential test
smtp      inet  n       -       y       -       -       smtpd
pickup    unix  n       -       y       60      1       pickup
cleanup   unix  n       -       y       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
local     unix  -       n       n       -       -       local
`

// mainCFCase is one configuration directory of the corpus.
type mainCFCase struct {
	name       string
	mainCF     string
	noMainCF   bool   // write no main.cf at all
	masterCF   string // master.cf content; standardMasterCF when empty
	noMasterCF bool   // write no master.cf at all
	// otherFiles are more files of the directory, by name.
	otherFiles map[string]string
	// fatal cases stop postconf before it prints anything; each Postfix
	// fatal error sleeps a second, so they are asked only `postconf -n`.
	fatal bool
	// names are queried one by one (postconf NAME, postconf -h -x NAME)
	// and all together (postconf -x NAME...).
	names []string
	// extra queries run after the standard ones, in order.
	extra []query
}

func (c mainCFCase) files() map[string]string {
	files := map[string]string{}
	for name, content := range c.otherFiles {
		files[name] = content
	}
	if !c.noMainCF {
		files["main.cf"] = c.mainCF
	}
	switch {
	case c.noMasterCF:
	case c.masterCF != "":
		files["master.cf"] = c.masterCF
	default:
		files["master.cf"] = standardMasterCF
	}
	return files
}

// queries lists what is asked of both postconfs for the case.
func (c mainCFCase) queries() []query {
	if c.fatal {
		if len(c.extra) > 0 {
			return c.extra
		}
		return []query{{prog: "postconf", args: []string{"-n"}}}
	}
	qs := []query{
		{prog: "postconf", args: []string{"-n"}},
		{prog: "postconf", args: []string{"-nx"}},
		{prog: "postconf", args: []string{"-n"}, viaEnv: true},
	}
	for _, name := range c.names {
		qs = append(qs,
			query{prog: "postconf", args: []string{name}},
			query{prog: "postconf", args: []string{"-h", "-x", name}},
		)
	}
	if len(c.names) > 1 {
		qs = append(qs,
			query{prog: "postconf", args: append([]string{"-x"}, c.names...)},
			query{prog: "postconf", args: append([]string{"-h"}, c.names...)},
			query{prog: "postconf", args: append([]string{"-H"}, c.names...)},
		)
	}
	return append(qs, c.extra...)
}

var mainCFCorpus = []mainCFCase{
	{
		name: "syntax",
		mainCF: `# leading comment

myhostname=mx.example.com
mydomain   =    example.com   
mydestination = $myhostname,
    localhost.$mydomain
  # a comment inside a continued value
	localhost
smtpd_banner = $myhostname ESMTP # not a comment
relayhost = [relay.example.net]:587
# trailing comment
`,
		names: []string{"myhostname", "mydomain", "mydestination", "smtpd_banner", "relayhost"},
	},
	{
		name:   "CRLF line endings and tabs",
		mainCF: "myhostname = a.example\r\nmydomain\t=\texample.com\t\r\nrelayhost = x\r\n  y\r\n",
		names:  []string{"myhostname", "mydomain", "relayhost"},
	},
	{
		name: "overriding entries",
		mainCF: `myhostname = first.example.com
mydomain = example.com
myhostname = second.example.com
alias_maps = hash:/etc/aliases
alias_maps = hash:/etc/aliases, hash:/etc/more-aliases
myhostname = third.example.com
`,
		names: []string{"myhostname", "alias_maps"},
	},
	{
		name: "references",
		mainCF: `mydomain = example.org
my_base = mail
myhostname = ${my_base}.$mydomain
myorigin = $(mydomain)
mydestination = $myhostname, localhost.${mydomain}, $undefined_param
relay_domains = $mydestination
smtpd_banner = $$myhostname is $myhostname
`,
		names: []string{"myhostname", "myorigin", "mydestination", "relay_domains", "my_base", "smtpd_banner", "undefined_param"},
		extra: []query{
			postconfRun("-o", "myhostname=over.example.net", "-x", "mydestination", "myhostname"),
			postconfRun("-o", "my_base=relay", "-h", "-x", "myhostname"),
			postconfRun("-o", "new_thing=1", "-n"),
		},
	},
	{
		name: "conditionals",
		mainCF: `relayhost =
myhostname = mx.example.com
smtpd_banner = ${relayhost:noRelay} ${myhostname?yes} ${relayhost?{set}:{unset}} $$x
mydestination = ${myhostname?{$myhostname, localhost}:{localhost}}
relay_domains = ${relayhost?{relay}}${relayhost:{direct}}
mynetworks = ${ myhostname ? { 127.0.0.0/8 } : { 10.0.0.0/8 } }
myorigin = ${myhostname?{a}:{b}} ${nonexistent?{a}:{b}} ${nonexistent:fallback} ${myhostname:{fallback}} ${myhostname?plain}
`,
		names: []string{"smtpd_banner", "mydestination", "relay_domains", "mynetworks", "myorigin"},
	},
	{
		name: "relational",
		mainCF: `compatibility_level = 1
limit_a = 10
smtpd_banner = ${{10} > {9}?{num}:{lex}} ${{abc} < {abd}?{lt}:{ge}} ${{$limit_a} == {10}?{eq}:{ne}}
myorigin = ${{3.10} <level {3.9}?{older}:{newer}} ${{x} != {y}?{ne}:{eq}}${{10}=={10}?{e}:{n}}
relay_domains = ${{10} < {9} ? {num} : {lex}} ${{10} <= {010}?{a}:{b}} ${{b} >= {a}?{c}:{d}}
mydestination = ${{$compatibility_level} <level {2} ? {old} : {new}}
`,
		names: []string{"smtpd_banner", "myorigin", "relay_domains", "mydestination", "limit_a"},
	},
	compatibilityCase("0"),
	compatibilityCase("1"),
	compatibilityCase("2"),
	compatibilityCase("3.6"),
	mynetworksCase("host"),
	mynetworksCase("subnet"),
	mynetworksCase("class"),
	{
		name: "lists",
		mainCF: `mydestination = a.example, b.example  c.example,,d.example
	e.example ,f.example
mynetworks = 127.0.0.0/8, [::1]/128 192.168.0.0/16
smtpd_recipient_restrictions = permit_mynetworks,
    reject_unauth_destination
virtual_alias_maps = hash:/etc/postfix/virtual regexp:/etc/postfix/virtual.re,inline:{a=b}
`,
		names: []string{"mydestination", "mynetworks", "smtpd_recipient_restrictions", "virtual_alias_maps"},
	},
	{
		name: "unknown parameters",
		mainCF: `mydomain = example.com
bogus = 1
bad-name = x
bad.name = y
# referenced, so neither unknown nor unused:
used_later = z
myorigin = $used_later
`,
		names: []string{"bogus", "bad-name", "used_later", "myorigin", "no_such_parameter"},
		// postconf -M prints main.cf's warnings too, as on every run.
		extra: []query{postconfRun("-M"), postconfRun("-M", "smtp")},
	},
	{
		name: "master.cf references",
		mainCF: `my_client_checks = permit_mynetworks, reject
unused_one = 1
`,
		masterCF: standardMasterCF + `submission inet n       -       y       -       -       smtpd
  -o smtpd_client_restrictions=$my_client_checks
  -o smtpd_helo_restrictions=$undefined_in_master
`,
		names: []string{"my_client_checks", "unused_one"},
		extra: []query{postconfRun("-M")},
	},
	{
		name:       "no master.cf",
		mainCF:     "myhostname = mx.example.com\n",
		noMasterCF: true,
		names:      []string{"myhostname"},
	},
	{
		name:   "empty main.cf",
		mainCF: "",
		names:  []string{"myorigin"},
		extra: []query{
			postconfRun("-dx", "myorigin", "mydestination", "local_transport", "virtual_alias_domains", "alias_maps"),
		},
	},
	{
		name: "long values folded",
		mainCF: `compatibility_level = 3.6
smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, check_policy_service unix:private/policy, reject_rbl_client zen.spamhaus.org, permit
virtual_alias_maps = hash:/etc/postfix/virtual-aliases-with-a-long-name hash:/etc/postfix/another-virtual-aliases-table
`,
		names: []string{"smtpd_recipient_restrictions", "virtual_alias_maps"},
		extra: []query{postconfRun("-nf"), postconfRun("-f", "smtpd_recipient_restrictions"), postconfRun("-Mf")},
	},
	{
		name: "bounce templates",
		mainCF: `myhostname = mx.test.example
mydomain = test.example
delay_warning_time = 4h
maximal_queue_lifetime = 3d
`,
		otherFiles: map[string]string{
			"bounce.cf": `# a site's templates
failure_template = <<EOF
Subject: Bounced at your site

Mail from $mydomain could not go ($$5 fee), kept $maximal_queue_lifetime_hours hours.
EOF

delay_template = <<END
Charset: utf-8
From: Postmaster <MAILER-DAEMON>
Postmaster-Subject: Late mail

Waited $delay_warning_time_minutes minutes, ${delay_warning_time_days} days, $delay_warning_time_seconds s.
END
success_template = <<EOF
Postmaster-Subject: inapplicable

text
EOF
nosuch_template = x
`,
			"undefined.cf": "verify_template = <<EOF\n\nhello $nosuchparam\nEOF\n",
			"8bit.cf":      "failure_template = <<EOF\n\nGrüße von $myhostname\nEOF\n",
			"utf8.cf":      "failure_template = <<EOF\nCharset: utf-8\n\nGrüße von $myhostname\nEOF\n",
		},
		extra: []query{
			postconfRun("-b"), postconfRun("-t"),
			postconfRun("-b", dirToken+"/bounce.cf"), postconfRun("-t", dirToken+"/bounce.cf"),
			postconfRun("-b", dirToken+"/undefined.cf"),
			postconfRun("-b", dirToken+"/8bit.cf"), postconfRun("-t", dirToken+"/utf8.cf"),
			postconfRun("-bt"), postconfRun("-b", "-n"), postconfRun("-t", "a", "b"),
		},
	},
	{
		name:   "only comments and blank lines",
		mainCF: "# nothing\n\n   \n\t# indented comment\n",
	},
	{
		name:   "line starting with whitespace",
		mainCF: "  leading = continues nothing\nmydomain = example.com\n",
		names:  []string{"mydomain", "leading"},
	},
	{
		name: "master.cf services",
		mainCF: `compatibility_level = 3.6
mua_client_restrictions = permit_sasl_authenticated, reject
maildrop_destination_recipient_limit = 1
relay_destination_concurrency_limit = 5
nosuchservice_destination_concurrency_limit = 5
`,
		masterCF: richMasterCF,
		names: []string{"mua_client_restrictions", "maildrop_destination_recipient_limit",
			"relay_destination_concurrency_limit", "relay_initial_destination_concurrency",
			"nosuchservice_destination_concurrency_limit"},
		extra: []query{
			postconfRun("-M"), postconfRun("-Mf"), postconfRun("-M", "smtp"), postconfRun("-M", "inet"),
			postconfRun("-M", "maildrop/unix"), postconfRun("-M", "nosuch/unix"),
			postconfRun("-F"), postconfRun("-F", "qmgr/unix/wakeup"), postconfRun("-P"),
			postconfRun("-P", "submission/inet/syslog_name"),
		},
	},
	{
		name:     "master.cf continuation without service",
		mainCF:   "compatibility_level = 3.6\n",
		masterCF: "  -o foo=bar\nsmtp inet n - y - - smtpd\n  -o\n  -o {unclosed\n",
		extra:    []query{postconfRun("-M")},
	},
	masterCFFatal("bad field count", "smtp inet n - y - - \n"),
	masterCFFatal("bad type", "smtp bogus n - y - - smtpd\n"),
	masterCFFatal("bad wakeup", "smtp inet n - y x - smtpd\n"),
	{
		name:   "lookup table and SASL types",
		mainCF: "compatibility_level = 3.6\n",
		extra:  []query{postconfRun("-m"), postconfRun("-a"), postconfRun("-A")},
	},
	{
		name: "edits",
		mainCF: `# header comment
myhostname = old.example
mydomain = example.com
# about relayhost
relayhost = [old]:25
mynetworks = 127.0.0.0/8,
    10.0.0.0/8
`,
		extra: []query{
			postconfEdit("-e", "myhostname = new.example", "relayhost=", "new_param = x"),
			postconfEdit("-e", "mynetworks = 192.168.0.0/16"),
			postconfEdit("-X", "mydomain"),
			postconfEdit("-#", "relayhost"),
			postconfEdit("myorigin = $mydomain"),
			postconfEdit("-X", "not_there"),
			postconfRun("-n"),
		},
	},
	{name: "missing equals sign", fatal: true, mainCF: "myhostname = a\nno equals here\nmydomain = b\n"},
	{name: "missing name", fatal: true, mainCF: "= value\n"},
	{name: "recursion", fatal: true, mainCF: "recur_a = $recur_b\nrecur_b = $recur_a\nmynetworks = $recur_a\n"},
	{name: "truncated macro", fatal: true, mainCF: "myorigin = ${unclosed\n"},
	{name: "truncated conditional", fatal: true, mainCF: "relayhost = ${myhostname?{x}\n"},
	{name: "bad relational operator", fatal: true, mainCF: "myorigin = ${{a} <> {b}?{x}:{y}}\n"},
	{name: "empty macro name", fatal: true, mainCF: "myorigin = $\n"},
	{name: "bad macro name", fatal: true, mainCF: "myorigin = ${x!y}\n"},
	{name: "missing main.cf", fatal: true, noMainCF: true},
}

// richMasterCF has comments, continuation lines, grouped -o values,
// wakeup times and a pipe service.
const richMasterCF = `# comment
smtp      inet  n       -       y       -       -       smtpd
#628      inet  n       -       y       -       -       qmqpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  # comment inside
  -o smtpd_client_restrictions=$mua_client_restrictions
  -o { smtpd_recipient_restrictions = permit_sasl_authenticated, reject }
pickup    unix  n       -       y       60      1       pickup
qmgr      unix  n       -       n       300?    1       qmgr
tlsmgr    unix  -       -       y       1000?   1       tlsmgr
127.0.0.1:10025 inet n  -       n       -       -       smtpd
  -o content_filter=
maildrop  unix  -       n       n       -       -       pipe
  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
relay     unix  -       -       y       -       -       smtp
  -o syslog_name=postfix/$service_name
`

func postconfRun(args ...string) query { return query{prog: "postconf", args: args} }

// postconfEdit runs an editing postconf and shows main.cf afterwards.
func postconfEdit(args ...string) query {
	return query{prog: "postconf", args: args, showFile: "main.cf"}
}

// masterCFFatal is a master.cf error that stops postconf -M.
func masterCFFatal(name, masterCF string) mainCFCase {
	return mainCFCase{
		name:     "master.cf " + name,
		mainCF:   "compatibility_level = 3.6\n",
		masterCF: masterCF,
		fatal:    true,
		extra:    []query{postconfRun("-M")},
	}
}

// compatibilityCase sets compatibility_level explicitly and asks for the
// parameters whose defaults depend on it.
func compatibilityCase(level string) mainCFCase {
	return mainCFCase{
		name:   "compatibility_level " + level,
		mainCF: "compatibility_level = " + level + "\n",
		names: []string{"mynetworks_style", "mynetworks", "relay_domains", "smtpd_relay_restrictions",
			"append_dot_mydomain", "smtputf8_enable"},
	}
}

// mynetworksCase checks mynetworks as computed from the machine's
// interfaces for one mynetworks_style.
func mynetworksCase(style string) mainCFCase {
	return mainCFCase{
		name:   "mynetworks_style " + style,
		mainCF: "mynetworks_style = " + style + "\n",
		names:  []string{"mynetworks"},
	}
}

// postconfExclusions are the queries where Postern's postconf differs from
// Postfix's on purpose, keyed by "CASE: COMMAND", with the reason.
var postconfExclusions = map[string]string{
	"lookup table and SASL types: postconf -m": "Postern lists only the table types it implements (issue 2), not every type compiled into Postfix",
	"lookup table and SASL types: postconf -a": "Postern's SASL server speaks only the Dovecot protocol; Cyrus SASL is not linked in",
}

func TestDifferentialPostconf(t *testing.T) {
	pf := realPostfix(t)
	for _, c := range mainCFCorpus {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tw := newTwin(t, c.files())
			for _, q := range c.queries() {
				t.Run(q.label(), func(t *testing.T) {
					differential(t, pf, tw, q, prefixedExclusions(c.name, postconfExclusions))
				})
			}
			if t.Failed() {
				t.Logf("files of case %q:\n%s", c.name, tw.describe())
			}
		})
	}
}

// prefixedExclusions picks the exclusions of one case, keyed by command.
func prefixedExclusions(caseName string, all map[string]string) map[string]string {
	picked := map[string]string{}
	for key, reason := range all {
		if cmd, ok := strings.CutPrefix(key, caseName+": "); ok {
			picked[cmd] = reason
		}
	}
	return picked
}
