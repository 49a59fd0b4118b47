#!/bin/sh
# Installs what the tests need on a fresh Debian machine: the real Postfix
# (for differential and interop tests), swaks with TLS, Python, Dovecot (IMAP, POP3, LMTP), OpenDKIM, rspamd. It only acts
# when run as root and something is missing; otherwise it just reports.
set -eu

need=""
command -v /usr/sbin/postconf >/dev/null 2>&1 || need="$need postfix"
command -v swaks >/dev/null 2>&1 || need="$need swaks"
command -v python3 >/dev/null 2>&1 || need="$need python3"
[ -x /usr/sbin/dovecot ] || need="$need dovecot-imapd dovecot-pop3d"
# swaks --tls needs Perl's TLS modules (the AUTH tests use it).
perl -MNet::SSLeay -MIO::Socket::SSL -e 1 >/dev/null 2>&1 || need="$need libnet-ssleay-perl libio-socket-ssl-perl"
[ -x /usr/sbin/postgrey ] || need="$need postgrey"
# Dovecot's LMTP server (the lmtp client test) and OpenDKIM (the milter tests).
[ -x /usr/lib/dovecot/lmtp ] || need="$need dovecot-lmtpd"
[ -x /usr/sbin/opendkim ] || need="$need opendkim opendkim-tools"
# rspamd's milter (the README snippet's test).
[ -x /usr/bin/rspamd ] || need="$need rspamd"

if [ -z "$need" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "test-deps: not root; tests that need$need will skip" >&2
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq >/dev/null || true
# Install without starting services: tests start their own instances.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 755 /usr/sbin/policy-rc.d
apt-get install -y -qq --no-install-recommends $need >/dev/null
rm -f /usr/sbin/policy-rc.d
