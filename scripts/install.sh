#!/bin/sh
# install.sh: installs the built Postern programs and configuration as Postfix lays them out (used by `make install`).
#
# Commands go into command_directory (/usr/sbin), daemons into
# daemon_directory (/usr/lib/postfix/sbin), main.cf and master.cf into
# /etc/postfix and aliases into /etc/aliases, each only when not already
# there. sendmail is also linked from newaliases_path, mailq_path and
# /usr/lib/sendmail, as Debian's postfix package does. The postfix user and
# group and the postdrop group are created when missing; postdrop and
# postqueue become setgid postdrop (mode 2555); `postfix check` then
# creates the queue directories with their owners.
#
# Environment: DESTDIR (a staging root prefixed to every path; the users are
# still looked up, and created, on this system), POSTERN_BIN_DIR (the built
# binaries, default ./bin), NO_CHOWN=1 (a staging install without root:
# no users are created and no program or file is given away, modes are
# still set; run by root, `postfix check` still gives the queue
# directories their owners).
set -eu

destdir=${DESTDIR:-}
bin_dir=${POSTERN_BIN_DIR:-$PWD/bin}
src_etc=$(cd "$(dirname "$0")/../etc" && pwd)
no_chown=${NO_CHOWN:-}
[ "$no_chown" = 0 ] && no_chown=

commands="postfix postconf postmap postalias postqueue postsuper postcat sendmail postdrop postlog"
daemons="master smtpd cleanup qmgr pickup showq smtp lmtp local virtual pipe spawn anvil verify postlogd"

fail() {
	echo "install: $*" >&2
	exit 1
}

if [ -z "$no_chown" ] && [ "$(id -u)" != 0 ]; then
	fail "run as root, or set NO_CHOWN=1 to stage an install without owners"
fi
case $destdir in "" | /*) ;; *) destdir=$PWD/$destdir ;; esac
case $bin_dir in /*) ;; *) bin_dir=$PWD/$bin_dir ;; esac
for program in $commands $daemons; do
	[ -x "$bin_dir/$program" ] || fail "no $bin_dir/$program; run 'make build' first"
done

# The configuration first: an existing main.cf decides where the rest goes.
config_dir=$destdir/etc/postfix
mkdir -p "$config_dir"
chmod 755 "$config_dir"
for file in main.cf master.cf; do
	if [ -e "$config_dir/$file" ]; then
		echo "install: keeping the existing $config_dir/$file"
	else
		cp "$src_etc/$file" "$config_dir/$file"
		chmod 644 "$config_dir/$file"
	fi
done
param() {
	value=$("$bin_dir/postconf" -c "$config_dir" -h "$1") || fail "cannot read $1 from $config_dir/main.cf"
	case $value in /*) ;; *) fail "$1 = $value is not an absolute path" ;; esac
	printf '%s\n' "$value"
}
command_dir=$(param command_directory)
daemon_dir=$(param daemon_directory)
queue_dir=$(param queue_directory)
data_dir=$(param data_directory)
sendmail_path=$(param sendmail_path)
newaliases_path=$(param newaliases_path)
mailq_path=$(param mailq_path)
mail_owner=$("$bin_dir/postconf" -c "$config_dir" -h mail_owner)
setgid_group=$("$bin_dir/postconf" -c "$config_dir" -h setgid_group)

if [ -z "$no_chown" ]; then
	getent group "$mail_owner" >/dev/null || groupadd --system "$mail_owner"
	getent passwd "$mail_owner" >/dev/null ||
		useradd --system --gid "$mail_owner" --home-dir "$queue_dir" --no-create-home \
			--shell /usr/sbin/nologin --comment "Postfix MTA" "$mail_owner"
	getent group "$setgid_group" >/dev/null || groupadd --system "$setgid_group"
fi

# install_program SOURCE TARGET MODE [GROUP]: copies via a temporary name so
# a running program is replaced, not overwritten in place.
install_program() {
	mkdir -p "$(dirname "$2")"
	cp "$1" "$2.postern-new"
	if [ -z "$no_chown" ]; then
		chown "root:${4:-root}" "$2.postern-new"
	fi
	chmod "$3" "$2.postern-new"
	mv -f "$2.postern-new" "$2"
}
for program in $commands; do
	case $program in
	postdrop | postqueue) install_program "$bin_dir/$program" "$destdir$command_dir/$program" 2555 "$setgid_group" ;;
	*) install_program "$bin_dir/$program" "$destdir$command_dir/$program" 755 ;;
	esac
done
# Daemons that are one file in bin_dir (the multi-call binary, postern/main.go)
# stay one file, hard-linked under each name: their processes then share
# its pages in memory.
installed=
for daemon in $daemons; do
	same=
	for other in $installed; do
		if [ "$bin_dir/$daemon" -ef "$bin_dir/$other" ]; then
			same=$other
			break
		fi
	done
	if [ -n "$same" ]; then
		ln -f "$destdir$daemon_dir/$same" "$destdir$daemon_dir/$daemon.postern-new"
		mv -f "$destdir$daemon_dir/$daemon.postern-new" "$destdir$daemon_dir/$daemon"
	else
		install_program "$bin_dir/$daemon" "$destdir$daemon_dir/$daemon" 755
		installed="$installed $daemon"
	fi
done

# link TARGET LINK: a symlink from LINK to TARGET, relative as Debian makes them.
link() {
	mkdir -p "$(dirname "$destdir$2")"
	ln -sfn "$(relative_path "$1" "$(dirname "$2")")" "$destdir$2"
}
# relative_path TARGET DIR: TARGET as seen from DIR (both absolute).
relative_path() {
	target=$1 dir=$2 up=
	while :; do
		case $target in "$dir"/*) break ;; esac
		[ "$dir" = / ] && { dir=; break; }
		dir=$(dirname "$dir") up=../$up
	done
	printf '%s%s\n' "$up" "${target#"$dir"/}"
}
if [ "$sendmail_path" != "$command_dir/sendmail" ]; then
	link "$command_dir/sendmail" "$sendmail_path"
fi
link "$sendmail_path" "$newaliases_path"
link "$sendmail_path" "$mailq_path"
link "$sendmail_path" /usr/lib/sendmail

aliases=$destdir/etc/aliases
if [ ! -e "$aliases" ]; then
	cp "$src_etc/aliases" "$aliases"
	chmod 644 "$aliases"
fi
[ -e "$aliases.db" ] || "$bin_dir/postalias" -c "$config_dir" "$aliases"

# postfix check creates the queue directories; with DESTDIR it runs on a
# copy of the configuration whose directories are inside DESTDIR (their
# parents are made here so they get ordinary modes).
mkdir -p "$(dirname "$destdir$queue_dir")" "$(dirname "$destdir$data_dir")"
check_dir=$config_dir
if [ -n "$destdir" ]; then
	check_dir=$(mktemp -d)
	trap 'rm -rf "$check_dir"' EXIT
	cp "$config_dir/main.cf" "$config_dir/master.cf" "$check_dir/"
	printf 'queue_directory = %s\ndata_directory = %s\n' "$destdir$queue_dir" "$destdir$data_dir" >>"$check_dir/main.cf"
fi
"$destdir$command_dir/postfix" -c "$check_dir" check
echo "install: Postern installed${destdir:+ under $destdir}; start it with 'postfix start'"
