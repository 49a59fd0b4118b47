#!/bin/bash
# Postern against the real Postfix on this machine: both configured alike on
# loopback, each figure measured in ABBA order (Postern, Postfix, Postfix,
# Postern, per round) so that load from elsewhere hits both alike, and
# printed as one table: figure, Postern, Postfix, ratio.
#
# Usage (as root, from anywhere in the repository):
#   bash bench/run.sh                   # the full table; takes a while
#   bash bench/run.sh -n 2000 -quick    # a quick look
# Options:
#   -n N        messages of the relay and virtual figures (default 20000)
#   -quick      smaller scale and size runs
#   -rounds R   ABBA rounds per figure (default 1: each system runs twice)
#   -only LIST  comma-separated figures: relay,virtual,sessions,sizes,fsync
#   -keep       keep the work directory (configs, logs) for a look afterwards
#   -nowait     start at once even when a bench removed its files in the
#               last 5 minutes (see REMOVED below)
#   -warmup W   messages of the unmeasured run each system gets before a
#               figure's ABBA rounds (default a tenth of the figure's
#               messages, at least 200 or a quarter; 0: none)
# Figures:
#   relay      N x 4 KB over 20 sessions, smtp-sink as the next hop: end-to-end
#              msg/s (until the queue is empty), accept latency (end of DATA
#              to the 250 reply's arrival, stamped by the kernel) p50 and
#              p99, peak PSS of all the system's processes, CPU per message
#   virtual    N x 4 KB over 20 sessions into 20 virtual(8) Maildirs
#   sessions   1, 20, 100 and 500 sessions of 4 KB messages: msg/s, peak PSS,
#              and at 20, 100 and 500 sessions the accept latency p50/p99
#   sizes      1 KB, 100 KB and 5 MB messages over 20 sessions: msg/s, peak PSS
#   fsync      fsync-family system calls per accepted message, counted with
#              strace -f -c in a run of its own (tracing slows everything)
# Before a figure's ABBA rounds each system does the same figure once, with
# W messages, unmeasured (Postern, then Postfix): on the idle machine the
# first run after a pause was each system's slowest (Postern's, always in
# the first slot, 25 % below its later runs, Postfix's about 8 %), while
# nothing either system keeps between runs (Postern's spare/ queue files,
# fresh Maildirs and queue directories, a fresh work directory) changes
# its CPU per message. The warm-up gives both the same start; the rounds
# measure steady state.
# Postfix comes from the Debian package (installed when missing, its own
# service left stopped); its smtp-sink stands in for the next hop. Everything
# listens on 127.0.0.1 only; everything started is stopped on exit.
set -eu

N=20000
QUICK=
ROUNDS=1
ONLY=relay,virtual,sessions,sizes,fsync
KEEP=
NOWAIT=
WARMUP=
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-quick) QUICK=1; shift ;;
	-rounds) ROUNDS=$2; shift 2 ;;
	-only) ONLY=$2; shift 2 ;;
	-keep) KEEP=1; shift ;;
	-nowait) NOWAIT=1; shift ;;
	-warmup) WARMUP=$2; shift 2 ;;
	*) echo "usage: bash bench/run.sh [-n N] [-quick] [-rounds R] [-only relay,virtual,sessions,sizes,fsync] [-keep] [-nowait] [-warmup W]" >&2; exit 2 ;;
	esac
done
if [ -n "$QUICK" ]; then SCALE_N=400; BIG_N=20; else SCALE_N=2000; BIG_N=100; fi
SBIN=/usr/sbin

[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root (both mail systems start as root)" >&2; exit 1; }
cd "$(dirname "$0")/.."

if [ ! -x $SBIN/postfix ] || [ ! -x $SBIN/smtp-sink ] || ! command -v strace >/dev/null; then
	echo "run.sh: installing postfix and strace" >&2
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix strace >/dev/null
	service postfix stop >/dev/null 2>&1 || true
fi
getent passwd postfix >/dev/null || { echo "run.sh: no postfix user" >&2; exit 1; }

# On ext4 without a journal a create skips, and reads, every inode freed
# in its block group in the last 60-300 s. A bench started right after
# another makes its directories in the groups the last one's removal has
# just freed, so its first run (always Postern's) paid for them: wait
# until those inodes are 5 minutes old.
REMOVED=/tmp/postern-bench.removed
if [ -z "$NOWAIT" ] && [ -f "$REMOVED" ]; then
	age=$(($(date +%s) - $(stat -c %Y "$REMOVED")))
	if [ "$age" -lt 300 ]; then
		echo "run.sh: the last bench removed its files ${age} s ago; waiting $((300 - age)) s (-nowait to skip)" >&2
		sleep $((300 - age))
	fi
fi

WORK=$(mktemp -d /tmp/postern-bench.XXXXXX)
chmod 755 "$WORK"
# Each system's directories in an inode group of their own (ext4's "top
# of directory hierarchy" flag spreads the subdirectories): on ext4
# without a journal a create scans the inodes freed in its group in the
# last minutes, so without this the files one system creates would pay
# for the queue files the other deleted in the run before.
chattr +T "$WORK" 2>/dev/null || true
SINK_PID=
RUNNING=

stop_system() {
	case $RUNNING in
	postern) "$WORK/bin/postfix" -c "$WORK/postern/etc" stop >/dev/null 2>&1 || true ;;
	postfix) $SBIN/postfix -c "$WORK/postfix/etc" stop >/dev/null 2>&1 || true ;;
	esac
	if [ -n "$RUNNING" ]; then
		# Wait until the port is free for the next system.
		for _ in $(seq 100); do
			(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
			sleep 0.1
		done
		sleep 0.5
	fi
	RUNNING=
}

cleanup() {
	stop_system
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
	if [ -n "$KEEP" ]; then echo "run.sh: kept $WORK" >&2; else rm -rf "$WORK" && touch "$REMOVED"; fi
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

mkdir -p "$WORK/bin"
echo "run.sh: building Postern and bench/loadgen into $WORK" >&2
# As `make build` builds it (the daemons one multi-call executable).
GOFLAGS=-buildvcs=false make -s build BIN="$WORK/bin" >/dev/null
go build -buildvcs=false -o "$WORK/loadgen" ./bench/loadgen
chmod -R a+rX "$WORK/bin"

SINK_PORT=$(free_port)
$SBIN/smtp-sink -u postfix -h sink.bench.example "127.0.0.1:$SINK_PORT" 1024 &
SINK_PID=$!
# A sink that could not bind would leave every run's queue undrained.
sleep 0.5
kill -0 "$SINK_PID" 2>/dev/null || { echo "run.sh: smtp-sink did not start" >&2; exit 1; }
PORT=$(free_port)
VUID=$(id -u nobody)
VGID=$(id -g nobody)

# configure NAME EXTRA writes the main.cf both systems share, plus EXTRA.
configure() {
	dir=$WORK/$1
	mkdir -p "$dir/etc" "$dir/spool" "$dir/mail"
	chown "$VUID:$VGID" "$dir/mail"
	for i in $(seq 0 19); do echo "rcpt$i@virt.bench.example rcpt$i/"; done >"$dir/etc/vmailbox"
	cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $WORK
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = $1.bench.example
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
local_recipient_maps =
relayhost = [127.0.0.1]:$SINK_PORT
virtual_mailbox_domains = virt.bench.example
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = texthash:$dir/etc/vmailbox
virtual_uid_maps = static:$VUID
virtual_gid_maps = static:$VGID
$2
CF
}

configure postern "daemon_directory = $WORK/bin
command_directory = $WORK/bin"
cat >"$WORK/postern/etc/master.cf" <<CF
127.0.0.1:$PORT inet n - n - 600 smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
smtp unix - - n - - smtp
relay unix - - n - - smtp
virtual unix - n n - - virtual
postlog unix-dgram n - n - 1 postlogd
CF

configure postfix ""
cat >"$WORK/postfix/etc/master.cf" <<CF
127.0.0.1:$PORT inet n - n - 600 smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
smtp unix - - n - - smtp
relay unix - - n - - smtp
virtual unix - n n - - virtual
error unix - - n - - error
retry unix - - n - - error
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
proxymap unix - - n - - proxymap
postlog unix-dgram n - n - 1 postlogd
CF

start_system() {
	case $1 in
	postern) "$WORK/bin/postfix" -c "$WORK/postern/etc" start >/dev/null 2>&1 ;;
	postfix) $SBIN/postfix -c "$WORK/postfix/etc" start >/dev/null 2>&1 ;;
	esac
	RUNNING=$1
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
		sleep 0.1
	done
	# Warm up: start the on-demand processes.
	"$WORK/loadgen" -addr "127.0.0.1:$PORT" -n 40 -c 20 -drain-queue "$WORK/$1/spool" >/dev/null
}

# measure SYSTEM FIGURE LOADGEN-ARGS...: one run on a freshly started system
# (@SPOOL@ and @MAIL@ in the arguments become its queue and mail directories);
# appends "FIGURE SYSTEM key=value..." to the results, unless WARM is set:
# then it is a warm-up run with WARM messages, not recorded.
measure() {
	system=$1 figure=$2
	shift 2
	args=$(echo "$*" | sed "s|@SPOOL@|$WORK/$system/spool|g; s|@MAIL@|$WORK/$system/mail|g")
	[ -n "${WARM:-}" ] && args=$(echo "$args" | sed "s|-n [0-9]*|-n $WARM|")
	start_system "$system"
	# shellcheck disable=SC2086
	line=$("$WORK/loadgen" -addr "127.0.0.1:$PORT" -pidfile "$WORK/$system/spool/pid/master.pid" $args) ||
		{ echo "run.sh: $figure on $system failed" >&2; stop_system; exit 1; }
	stop_system
	if [ -n "${WARM:-}" ]; then
		echo "run.sh: $figure $system (warm-up, not counted): $line" >&2
		return
	fi
	echo "run.sh: $figure $system: $line" >&2
	echo "$figure $system $line" >>"$WORK/results"
}

# abba FIGURE LOADGEN-ARGS...: the warm-up run of each system (the same
# for both, see the top), then ROUNDS rounds of Postern, Postfix, Postfix,
# Postern.
abba() {
	n=$(echo "$*" | sed -n 's/.*-n \([0-9]*\).*/\1/p')
	floor=$((n / 4 < 200 ? n / 4 : 200))
	warm=${WARMUP:-$((n / 10 > floor ? n / 10 : floor))}
	if [ "$warm" -gt 0 ]; then
		for system in postern postfix; do
			WARM=$warm measure "$system" "$@"
		done
	fi
	for _ in $(seq "$ROUNDS"); do
		for system in postern postfix postfix postern; do
			measure "$system" "$@"
		done
	done
}

# count_fsyncs SYSTEM FIGURE LOADGEN-ARGS...: one traced run; appends
# "FIGURE SYSTEM fsyncs_per_msg=X" to the results.
count_fsyncs() {
	system=$1 figure=$2
	shift 2
	start_system "$system"
	master=$(tr -d ' ' <"$WORK/$system/spool/pid/master.pid")
	pids=$(ps -e -o pid=,ppid= | awk -v m="$master" '$1 == m || $2 == m { printf "-p %s ", $1 }')
	# shellcheck disable=SC2086
	strace -f -c -o "$WORK/strace.$system" -e trace=fsync,fdatasync,syncfs,sync_file_range $pids 2>/dev/null &
	strace_pid=$!
	sleep 1
	"$WORK/loadgen" -addr "127.0.0.1:$PORT" "$@" -drain-queue "$WORK/$system/spool" >/dev/null ||
		{ echo "run.sh: $figure on $system failed" >&2; kill -INT $strace_pid; stop_system; exit 1; }
	sleep 0.5
	kill -INT $strace_pid
	wait $strace_pid || true
	stop_system
	calls=$(awk '$NF ~ /^(fsync|fdatasync|syncfs|sync_file_range)$/ { n += $4 } END { print n + 0 }' "$WORK/strace.$system")
	n=$(echo "$*" | sed -n 's/.*-n \([0-9]*\).*/\1/p')
	per=$(awk -v c="$calls" -v n="$n" 'BEGIN { printf "%.2f", c / n }')
	echo "run.sh: $figure $system: $calls fsync-family calls for $n messages" >&2
	echo "$figure $system fsyncs_per_msg=$per" >>"$WORK/results"
}

wanted() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

: >"$WORK/results"
if wanted relay; then
	abba relay-4k-c20 -n "$N" -c 20 -size 4096 -drain-queue @SPOOL@
fi
if wanted virtual; then
	abba virtual-4k-c20 -n "$N" -c 20 -size 4096 -to 'rcpt%d@virt.bench.example' -rcpts 20 -drain-maildir @MAIL@
fi
if wanted sessions; then
	for c in 1 20 100 500; do
		n=$SCALE_N
		[ "$c" = 1 ] && n=$((SCALE_N / 4))
		abba "sessions-4k-c$c" -n "$n" -c "$c" -size 4096 -drain-queue @SPOOL@
	done
fi
if wanted sizes; then
	abba size-1k-c20 -n "$SCALE_N" -c 20 -size 1024 -drain-queue @SPOOL@
	abba size-100k-c20 -n "$((SCALE_N / 2))" -c 20 -size 102400 -drain-queue @SPOOL@
	abba size-5m-c20 -n "$BIG_N" -c 20 -size 5242880 -drain-queue @SPOOL@
fi
if wanted fsync; then
	for system in postern postfix; do
		count_fsyncs "$system" fsync -n "$SCALE_N" -c 20 -size 4096
	done
fi

# The table: the mean of each system's runs per figure and measure.
echo
echo "Postern $(git describe --always --dirty 2>/dev/null) against Postfix $($SBIN/postconf -c "$WORK/postfix/etc" -h mail_version); $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $(date -u +%Y-%m-%dT%H:%MZ)"
awk '
function add(key, sys, v) { sum[key, sys] += v; cnt[key, sys]++; if (!(key in seen)) { seen[key] = 1; order[++nk] = key } }
{
	fig = $1; sys = $2
	for (i = 3; i <= NF; i++) {
		split($i, kv, "=")
		k = kv[1]; v = kv[2]
		if (k == "rate") add(fig " msg/s", sys, v)
		else if (k == "p50_ms" && fig ~ /^(relay-4k-c20|sessions-4k-c(20|100|500))$/) add(fig " accept p50 ms", sys, v)
		else if (k == "p99_ms" && fig ~ /^(relay-4k-c20|sessions-4k-c(20|100|500))$/) add(fig " accept p99 ms", sys, v)
		else if (k == "peak_pss_mb") add(fig " peak PSS MB", sys, v)
		else if (k == "cpu_ms_per_msg" && fig ~ /-c20$/) add(fig " CPU ms/msg", sys, v)
		else if (k == "fsyncs_per_msg") add("fsyncs per message", sys, v)
	}
}
END {
	printf "| %-30s | %9s | %9s | %7s |\n", "figure", "Postern", "Postfix", "ratio"
	printf "|%s|%s|%s|%s|\n", "--------------------------------", "----------:", "----------:", "--------:"
	for (i = 1; i <= nk; i++) {
		k = order[i]
		if (printed[k]++) continue
		a = cnt[k, "postern"] ? sum[k, "postern"] / cnt[k, "postern"] : 0
		b = cnt[k, "postfix"] ? sum[k, "postfix"] / cnt[k, "postfix"] : 0
		printf "| %-30s | %9.2f | %9.2f | %7s |\n", k, a, b, (b > 0 ? sprintf("%.2f", a / b) : "-")
	}
}' "$WORK/results"
