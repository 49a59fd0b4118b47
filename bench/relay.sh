#!/bin/bash
# Relay throughput: smtp-source -> Postern -> smtp-sink, then the same through the real Postfix; prints messages/second and the ratio.
#
# Usage: bash bench/relay.sh [MESSAGES] [SIZE_BYTES] [SESSIONS]   (run from the repository root, as root)
# Everything listens on 127.0.0.1 only; everything started is stopped on exit.
set -eu

MESSAGES=${1:-2000}
SIZE=${2:-4096}
SESSIONS=${3:-20}
SBIN=${POSTFIX_SBIN:-/usr/sbin}

for tool in smtp-source smtp-sink postfix; do
	[ -x "$SBIN/$tool" ] || { echo "relay.sh: $SBIN/$tool not found (Debian package postfix)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "relay.sh: must run as root (both mail systems start as root)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/postern-bench.XXXXXX)
chmod 755 "$WORK"
SINK_PID=
POSTERN_ETC=
REAL_ETC=

cleanup() {
	[ -n "$POSTERN_ETC" ] && "$WORK/bin/postfix" -c "$POSTERN_ETC" stop >/dev/null 2>&1 || true
	[ -n "$REAL_ETC" ] && "$SBIN/postfix" -c "$REAL_ETC" stop >/dev/null 2>&1 || true
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
	sleep 1
	if [ -n "${BENCH_KEEP:-}" ]; then echo "relay.sh: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT INT TERM

# free_port prints a TCP port nobody listens on at 127.0.0.1.
free_port() {
	while :; do
		port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000 ))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
}

# queue_empty DIR succeeds when no queue file is left in incoming, active or deferred.
queue_empty() {
	[ -z "$(find "$1/incoming" "$1/active" "$1/deferred" -type f 2>/dev/null | head -n 1)" ]
}

# run_one NAME SPOOL PORT MAILLOG: sends the load to 127.0.0.1:PORT and waits for the queue to drain; prints msgs/s.
run_one() {
	name=$1 spool=$2 port=$3 log=$4
	start=$(date +%s.%N)
	"$SBIN/smtp-source" -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f sender@bench.example -t rcpt@sink.example "127.0.0.1:$port" ||
		{ echo "relay.sh: smtp-source against $name failed" >&2; return 1; }
	deadline=$(( $(date +%s) + 600 ))
	until queue_empty "$spool"; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "relay.sh: $name did not drain its queue in 600s" >&2; exit 1; }
		sleep 0.05
	done
	end=$(date +%s.%N)
	sent=$(grep -c 'status=sent' "$log" || true)
	[ "$sent" -eq "$MESSAGES" ] || { echo "relay.sh: $name logged $sent deliveries, want $MESSAGES" >&2; return 1; }
	echo "$start $end" | awk -v n="$MESSAGES" -v name="$name" '{ d = $2 - $1; printf "%-8s %d messages in %.2f s: %.1f messages/second\n", name, n, d, n / d }' >&2
	echo "$start $end" | awk -v n="$MESSAGES" '{ printf "%.3f\n", n / ($2 - $1) }'
}

SINK_PORT=$(free_port)
"$SBIN/smtp-sink" -u postfix -h sink.bench.example "127.0.0.1:$SINK_PORT" 256 &
SINK_PID=$!

# Postern.
mkdir -p "$WORK/bin" "$WORK/postern/etc" "$WORK/postern/spool"
go build -buildvcs=false -o "$WORK/bin/" $(go list -f '{{if eq .Name "main"}}{{.ImportPath}}{{end}}' ./...)
chmod -R a+rX "$WORK/bin"
POSTERN_PORT=$(free_port)
cat >"$WORK/postern/etc/main.cf" <<EOF
queue_directory = $WORK/postern/spool
data_directory = $WORK/postern/data
daemon_directory = $WORK/bin
command_directory = $WORK/bin
maillog_file = $WORK/postern/maillog
maillog_file_prefixes = $WORK
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postern.bench.example
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
local_recipient_maps =
relayhost = [127.0.0.1]:$SINK_PORT
EOF
cat >"$WORK/postern/etc/master.cf" <<EOF
127.0.0.1:$POSTERN_PORT inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
smtp unix - - n - - smtp
relay unix - - n - - smtp
postlog unix-dgram n - n - 1 postlogd
EOF
POSTERN_ETC=$WORK/postern/etc
"$WORK/bin/postfix" -c "$POSTERN_ETC" start
sleep 1
POSTERN_RATE=$(run_one postern "$WORK/postern/spool" "$POSTERN_PORT" "$WORK/postern/maillog") || exit 1
"$WORK/bin/postfix" -c "$POSTERN_ETC" stop >/dev/null 2>&1 || true
POSTERN_ETC=

# Real Postfix.
mkdir -p "$WORK/real/etc" "$WORK/real/spool"
REAL_PORT=$(free_port)
cat >"$WORK/real/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $WORK/real/spool
data_directory = $WORK/real/data
maillog_file = $WORK/real/maillog
maillog_file_prefixes = $WORK
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = realpf.bench.example
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
local_recipient_maps =
relayhost = [127.0.0.1]:$SINK_PORT
EOF
cat >"$WORK/real/etc/master.cf" <<EOF
127.0.0.1:$REAL_PORT inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
smtp unix - - n - - smtp
relay unix - - n - - smtp
error unix - - n - - error
retry unix - - n - - error
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
proxymap unix - - n - - proxymap
postlog unix-dgram n - n - 1 postlogd
EOF
REAL_ETC=$WORK/real/etc
"$SBIN/postfix" -c "$REAL_ETC" start
sleep 1
REAL_RATE=$(run_one postfix "$WORK/real/spool" "$REAL_PORT" "$WORK/real/maillog") || exit 1

echo "$POSTERN_RATE $REAL_RATE" | awk -v n="$MESSAGES" -v s="$SIZE" -v c="$SESSIONS" \
	'{ printf "%d messages of %d bytes, %d sessions: Postern %.1f msg/s, Postfix %.1f msg/s, Postern/Postfix = %.2f\n", n, s, c, $1, $2, $1 / $2 }'
