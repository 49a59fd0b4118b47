// Differential test of `postconf -d NAME`: Postern's built-in defaults against Postfix 3.7's.

package tests

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

// referenceParameters are the parameters that the behaviour reference
// (../shared/reference/postfix-behaviour.md) and the seed documents name.
// Postern must model every one, and every other parameter Postfix 3.7's
// `postconf -d` prints.
var referenceParameters = []string{
	"alias_database", "alias_maps", "allow_mail_to_commands", "allow_mail_to_files",
	"allow_min_user", "append_dot_mydomain", "bounce_queue_lifetime",
	"command_execution_directory", "compatibility_level", "config_directory",
	"daemon_directory", "debug_peer_list", "default_database_type",
	"default_destination_concurrency_limit", "default_privs", "default_process_limit",
	"default_transport", "defer_code", "delay_warning_time", "disable_dns_lookups",
	"disable_vrfy_command", "empty_address_recipient", "enable_long_queue_ids",
	"expand_owner_alias", "fallback_transport", "fallback_transport_maps",
	"fast_flush_domains", "forward_path", "hash_queue_depth", "hash_queue_names",
	"home_mailbox", "hopcount_limit", "inet_interfaces", "inet_protocols",
	"line_length_limit", "local_recipient_maps", "local_transport", "luser_relay",
	"mail_name", "mail_owner", "mail_spool_directory", "mailbox_command",
	"mailbox_command_maps", "mailbox_size_limit", "mailbox_transport",
	"mailbox_transport_maps", "maillog_file", "maillog_file_prefixes", "max_idle",
	"max_use", "maximal_backoff_time", "maximal_queue_lifetime", "message_size_limit",
	"minimal_backoff_time", "mydestination", "mydomain", "myhostname", "mynetworks",
	"mynetworks_style", "myorigin", "owner_request_special",
	"parent_domain_matches_subdomains", "permit_mx_backup_networks",
	"propagate_unmatched_extensions", "proxy_interfaces", "qmqpd_authorized_clients",
	"queue_directory", "queue_run_delay", "recipient_delimiter", "reject_code",
	"relay_domains", "relay_domains_reject_code", "relay_recipient_maps",
	"relay_transport", "relayhost", "service_throttle_time", "smtp_dns_support_level",
	"smtp_host_lookup", "smtp_sasl_auth_enable", "smtp_sasl_password_maps",
	"smtp_sasl_security_options", "smtp_tcp_port", "smtp_tls_CAfile", "smtp_tls_CApath",
	"smtp_tls_loglevel", "smtp_tls_security_level", "smtpd_banner", "smtpd_delay_reject",
	"smtpd_discard_ehlo_keywords", "smtpd_error_sleep_time", "smtpd_forbid_bare_newline",
	"smtpd_forbid_bare_newline_exclusions", "smtpd_forbid_unauth_pipelining",
	"smtpd_hard_error_limit", "smtpd_helo_required", "smtpd_recipient_limit",
	"smtpd_recipient_restrictions", "smtpd_reject_unlisted_recipient",
	"smtpd_relay_restrictions", "smtpd_sasl_auth_enable", "smtpd_soft_error_limit",
	"smtpd_timeout", "smtpd_tls_auth_only", "smtpd_tls_cert_file", "smtpd_tls_key_file",
	"smtpd_tls_security_level", "smtputf8_enable", "syslog_name", "transport_maps",
	"unknown_local_recipient_reject_code", "unknown_relay_recipient_reject_code",
	"unknown_virtual_alias_reject_code", "unknown_virtual_mailbox_reject_code",
	"virtual_alias_domains", "virtual_alias_expansion_limit", "virtual_alias_maps",
	"virtual_alias_recursion_limit", "virtual_mailbox_domains", "virtual_mailbox_maps",
	"virtual_transport",
}

// defaultsExclusions are the parameters whose default Postern changes on
// purpose, with the reason.
// The compatibility-level-dependent behaviour itself is compared with an
// explicit compatibility_level in the main.cf corpus.
var defaultsExclusions = map[string]string{
	"mail_name":                 `DESIGN.md: Postern's banner names it honestly, mail_name defaults to "Postern"`,
	"mail_version":              "Postern's own version, not Postfix's",
	"mail_release_date":         "Postern's own release date, paired with mail_version",
	"process_id":                "the pid of the postconf process itself",
	"compatibility_level":       "reference §2: Postern emulates level 3.6 by default; Postfix's built-in default is 0",
	"smtpd_forbid_bare_newline": "Postern takes Postfix 3.9's default (normalize) to close SMTP smuggling; 3.7's is no",
	"mynetworks":                "computed from mynetworks_style, whose default depends on compatibility_level (host at 3.6, subnet at 0)",
}

func TestDifferentialPostconfDefaults(t *testing.T) {
	pf := realPostfix(t)
	tw := newTwin(t, map[string]string{"main.cf": "", "master.cf": standardMasterCF})
	all := query{prog: "postconf", args: []string{"-d"}}
	realAll := parseParameters(all.run(t, pf.Path(t, "postconf"), tw.real).Stdout)
	oursAll := parseParameters(all.run(t, harness.Bin(t, "postconf"), tw.ours).Stdout)

	// Every parameter Postfix prints, including those master.cf's
	// delivery services add (local_destination_rate_delay, ...), and
	// every reference parameter even if Postfix lacked it.
	names := append([]string(nil), referenceParameters...)
	for name := range realAll {
		if !slices.Contains(referenceParameters, name) {
			names = append(names, name)
		}
	}
	var extensions []string
	for name := range oursAll {
		if realAll[name] == "" {
			extensions = append(extensions, name)
		}
	}
	sort.Strings(names)
	sort.Strings(extensions)
	t.Logf("comparing %d defaults; Postern extensions not in Postfix (not compared): %s",
		len(names), strings.Join(extensions, " "))

	q := query{prog: "postconf", args: append([]string{"-d"}, names...)}
	postfix := q.run(t, pf.Path(t, "postconf"), tw.real)
	postern := q.run(t, harness.Bin(t, "postconf"), tw.ours)
	t.Run("exit status and warnings", func(t *testing.T) {
		postfix, postern := postfix, postern
		postfix.Stdout, postern.Stdout = "", ""
		if report := mismatch(postfix, postern); report != "" {
			t.Errorf("postconf -d NAME... (%d names): Postern differs from Postfix (-real +ours):\n%s", len(names), report)
		}
	})
	realLines, oursLines := parseParameters(postfix.Stdout), parseParameters(postern.Stdout)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, got := realLines[name], oursLines[name]
			if got == "" {
				got = "(not printed)"
			}
			reason, excluded := defaultsExclusions[name]
			switch {
			case excluded && want == got:
				t.Errorf("postconf -d %s: Postern now answers as Postfix; remove its exclusion (%s)", name, reason)
			case excluded:
				t.Skipf("postconf -d %s: deliberate difference: %s\nreal: %s\nours: %s", name, reason, want, got)
			case want != got:
				t.Errorf("postconf -d %s: Postern differs from Postfix\nreal: %s\nours: %s", name, want, got)
			}
		})
	}
}

// TestDifferentialPostconfAll compares plain `postconf` (every parameter,
// set or default, unexpanded) line by line, less the parameters excluded
// above and Postern's extensions.
func TestDifferentialPostconfAll(t *testing.T) {
	pf := realPostfix(t)
	tw := newTwin(t, map[string]string{
		// An explicit level, so the level-dependent defaults agree.
		"main.cf":   "compatibility_level = 3.6\nmyhostname = mx.example.com\nrelay_domains = $mydomain\nbogus = 1\n",
		"master.cf": standardMasterCF,
	})
	q := query{prog: "postconf"}
	postfix := q.run(t, pf.Path(t, "postconf"), tw.real)
	postern := q.run(t, harness.Bin(t, "postconf"), tw.ours)
	realNames := parseParameters(postfix.Stdout)
	keep := func(out string) string {
		var kept []string
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			name, _, _ := strings.Cut(line, " =")
			if _, excluded := defaultsExclusions[name]; excluded && name != "compatibility_level" && name != "mynetworks" {
				continue
			}
			if realNames[name] == "" {
				continue // a Postern extension
			}
			kept = append(kept, line)
		}
		return joinLines(kept)
	}
	postfix.Stdout, postern.Stdout = keep(postfix.Stdout), keep(postern.Stdout)
	if report := mismatch(postfix, postern); report != "" {
		t.Errorf("postconf: Postern differs from Postfix (-real +ours):\n%s", report)
	}
}

// parseParameters maps each "name = value" line of postconf output to the
// whole line.
func parseParameters(out string) map[string]string {
	lines := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if name, _, ok := strings.Cut(line, " = "); ok {
			lines[name] = line
		} else if name, ok := strings.CutSuffix(line, " ="); ok {
			lines[name] = line
		}
	}
	return lines
}
