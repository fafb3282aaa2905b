# shellcheck shell=bash
# stack.sh -- shell functions that run usher's real stack: a private
# PostgreSQL cluster, lighttpd (mod_fastcgi) and Apache (mod_fcgid).
# Sourced by tests/run, tools/quickstart and bench/; needs bash and root
# (apt-get, `runuser -u postgres`, Apache's `User nobody`).
#
#   deps_install                   apt-get what is missing (idempotent)
#   free_port                      print a free TCP port on 127.0.0.1
#   render_conf TEMPLATE OUT PREFIX PORT RUNDIR USHER_CONFIG [EXTRA_ENV]
#                                  fill in apache-conf/*.conf.in
#   pg_start DIR [PORT]            private cluster in DIR (data DIR/data,
#                                  socket DIR/sock, log DIR/log), no TCP,
#                                  trust auth; role and database `usher`
#   pg_stop | pg_restart           the cluster pg_start started
#   pg_psql [PSQL ARGS...]         psql as the superuser on that cluster
#   write_config FILE PREFIX [KEY=VALUE...]
#                                  usher.conf for an installed prefix and the
#                                  running cluster; later KEYs override
#   lighttpd_start RUNDIR PORT PREFIX USHER_CONFIG | lighttpd_stop
#   apache_start RUNDIR PORT PREFIX USHER_CONFIG   | apache_stop
#                                  render apache-conf/ templates into RUNDIR,
#                                  start on 127.0.0.1:PORT, wait until it
#                                  answers; stop waits for the programs to exit
#   wait_healthy BASE_URL [SECONDS]  until GET /v1/health answers 200
#   scan_logs FILE...              fail on sanitizer reports in the logs
#   lsan_selftest                  fail unless LeakSanitizer works here
#
# Variables read: STACK_SAN_ENV (NAME=VALUE words passed to the FastCGI
# programs, e.g. ASAN_OPTIONS=...), STACK_PG_CONF (extra postgresql.conf
# lines for a new cluster), STACK_QUIET (1: less chatter).
# Variables set: STACK_PG_DIR STACK_PG_PORT STACK_PG_HOST STACK_PG_BIN,
# STACK_LIGHTTPD_PID STACK_LIGHTTPD_CONF STACK_LIGHTTPD_LOGS,
# STACK_APACHE_CONF STACK_APACHE_LOGS, STACK_PROGRAMS_DIR.

STACK_SRCDIR=${STACK_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# The packages of shared/field-notes.md, plus the compiler and curl.
STACK_PACKAGES="gcc make libc6-dev autoconf automake libtool autoconf-archive
pkg-config libfcgi-dev libpq-dev libjson-c-dev libjwt-dev libscrypt-dev
libcurl4-openssl-dev libssl-dev postgresql lighttpd apache2
libapache2-mod-fcgid python3-pytest python3-requests python3-aiosmtpd wrk
curl ca-certificates"

stack_say() {
	[ "${STACK_QUIET:-0}" = 1 ] || printf '%s\n' "stack: $*" >&2
}

# Print an error; the caller returns 1 (so `set -e` callers stop there).
stack_die() {
	printf '%s\n' "stack: error: $*" >&2
}

# Run a command as postgres from / (root's working folder may be closed to it).
_stack_as_postgres() {
	(cd / && runuser -u postgres -- "$@")
}

deps_install() {
	local p missing=() policy_made=0
	for p in $STACK_PACKAGES; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" \
		    != installed ]; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		stack_say "packages: all present"
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		stack_die "need root to install: ${missing[*]}"
		return 1
	fi
	stack_say "packages: installing ${missing[*]}"
	# Keep the packages' own daemons (postgresql, apache2 and lighttpd all on
	# port 80 ...) from starting: we run private instances.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		policy_made=1
	fi
	local rc=0
	DEBIAN_FRONTEND=noninteractive apt-get -q update || rc=$?
	if [ $rc -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		    --no-install-recommends install "${missing[@]}" || rc=$?
	fi
	[ $policy_made = 0 ] || rm -f /usr/sbin/policy-rc.d
	return $rc
}

free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# render_conf TEMPLATE OUT PREFIX PORT RUNDIR USHER_CONFIG [EXTRA_ENV]
render_conf() {
	local tpl=$1 out=$2 text
	text=$(<"$tpl")
	text=${text//@PREFIX@/$3}
	text=${text//@PORT@/$4}
	text=${text//@RUNDIR@/$5}
	text=${text//@USHER_CONFIG@/$6}
	text=${text//@EXTRA_ENV@/${7:-}}
	printf '%s\n' "$text" >"$out"
	if grep -n '@[A-Z_]*@' "$out" >&2; then
		stack_die "$out: placeholder left unsubstituted"
		return 1
	fi
}

_pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$d" ]; then
		stack_die "PostgreSQL server not installed"
		return 1
	fi
	printf '%s\n' "$d"
}

# pg_start DIR [PORT]: create (once) and start a private cluster.
pg_start() {
	local dir=$1 port=${2:-5432} bin
	bin=$(_pg_bindir) || return 1
	STACK_PG_BIN=$bin
	STACK_PG_DIR=$dir
	STACK_PG_HOST=$dir/sock
	mkdir -p "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		chown postgres:postgres "$dir"
		chmod 755 "$dir"
		if ! _stack_as_postgres test -w "$dir"; then
			stack_die "postgres cannot write $dir (a parent folder closed to it?)"
			return 1
		fi
		stack_say "postgresql: initdb $dir/data"
		_stack_as_postgres "$bin/initdb" -D "$dir/data" -A trust \
		    -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		    { cat "$dir/initdb.log" >&2; return 1; }
		_stack_as_postgres mkdir -p "$dir/sock"
		chmod 755 "$dir/sock"
		# Everything pg_ctl needs is in the cluster's own configuration,
		# so a bare `pg_ctl -D DIR/data start` (tests' db fixture) works.
		cat >>"$dir/data/postgresql.conf" <<-EOF

		# --- usher private cluster (tests/lib/stack.sh) ---
		listen_addresses = ''
		port = $port
		unix_socket_directories = '$dir/sock'
		unix_socket_permissions = 0777
		max_connections = 200
		${STACK_PG_CONF:-}
		EOF
	fi
	STACK_PG_PORT=$(sed -n "s/^port = \([0-9]*\)$/\1/p" \
	    "$dir/data/postgresql.conf" | tail -n 1)
	STACK_PG_PORT=${STACK_PG_PORT:-$port}
	if ! _stack_as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
	then
		stack_say "postgresql: starting ($dir)"
		_stack_as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" \
		    -w -t 60 start >/dev/null ||
		    { tail -n 30 "$dir/log" >&2; return 1; }
	fi
	export STACK_PG_DIR STACK_PG_PORT STACK_PG_HOST STACK_PG_BIN
	# The application's role owns its database (not a superuser).
	if [ "$(pg_psql -d postgres -Atc \
	    "SELECT 1 FROM pg_roles WHERE rolname = 'usher'")" != 1 ]; then
		pg_psql -d postgres -qc 'CREATE ROLE usher LOGIN' || return 1
	fi
	if [ "$(pg_psql -d postgres -Atc \
	    "SELECT 1 FROM pg_database WHERE datname = 'usher'")" != 1 ]; then
		pg_psql -d postgres -qc 'CREATE DATABASE usher OWNER usher' ||
		    return 1
	fi
}

pg_psql() {
	psql -X -v ON_ERROR_STOP=1 -h "$STACK_PG_HOST" -p "$STACK_PG_PORT" \
	    -U postgres "$@"
}

pg_stop() {
	[ -n "${STACK_PG_DIR:-}" ] && [ -f "$STACK_PG_DIR/data/PG_VERSION" ] ||
	    return 0
	if _stack_as_postgres "$STACK_PG_BIN/pg_ctl" -D "$STACK_PG_DIR/data" \
	    status >/dev/null 2>&1; then
		stack_say "postgresql: stopping"
		_stack_as_postgres "$STACK_PG_BIN/pg_ctl" -D "$STACK_PG_DIR/data" \
		    -m fast -w -t 60 stop >/dev/null
	fi
}

pg_restart() {
	pg_stop && pg_start "$STACK_PG_DIR" "$STACK_PG_PORT"
}

# write_config FILE PREFIX [KEY=VALUE...]
write_config() {
	local file=$1 prefix=$2 kv k
	shift 2
	local -a keys=()
	local -A val=()
	for kv in \
	    "database_url=host=$STACK_PG_HOST port=$STACK_PG_PORT dbname=usher user=usher" \
	    "common_passwords=$prefix/share/usher/common-passwords.txt" \
	    "docs_dir=$prefix/share/usher" \
	    "templates_dir=$prefix/share/usher/templates" \
	    "$@"; do
		k=${kv%%=*}
		[ -n "${val[$k]+set}" ] || keys+=("$k")
		val[$k]=${kv#*=}
	done
	mkdir -p "$(dirname "$file")"
	{
		printf '# usher.conf written by tests/lib/stack.sh write_config\n'
		for k in "${keys[@]}"; do
			printf '%s = %s\n' "$k" "${val[$k]}"
		done
	} >"$file"
	chmod 644 "$file"
}

# Wait until http://127.0.0.1:PORT/ answers anything (or the pid dies).
_stack_wait_port() {
	local port=$1 pid=${2:-} _
	for _ in $(seq 1 150); do
		if [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
		    "http://127.0.0.1:$port/")" != 000 ]; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			stack_die "server (pid $pid) exited before answering on $port"
			return 1
		fi
		sleep 0.2
	done
	stack_die "nothing answers on 127.0.0.1:$port after 30 s"
	return 1
}

# PIDs of processes running an installed program of STACK_PROGRAMS_DIR.
_stack_program_pids() {
	{ find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$1/*" \
	    2>/dev/null || true; } | cut -d/ -f3
}

# After a server stopped: give its programs time to finish (sanitizer
# reports are written at exit), then end stragglers by pid and say so.
_stack_wait_programs() {
	local d=$1 _ pids
	[ -n "$d" ] || return 0
	for _ in $(seq 1 50); do
		pids=$(_stack_program_pids "$d")
		[ -n "$pids" ] || return 0
		sleep 0.2
	done
	stack_say "programs still running 10 s after the server stopped:" \
	    $pids "-- killing them"
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null || true
	return 1
}

_stack_san_lighttpd() {
	local kv out=
	for kv in ${STACK_SAN_ENV:-}; do
		out+=$'\t'"\"${kv%%=*}\" => \"${kv#*=}\","$'\n'
	done
	printf '%s' "$out"
}

_stack_san_apache() {
	local kv out=
	for kv in ${STACK_SAN_ENV:-}; do
		out+="FcgidInitialEnv ${kv%%=*} \"${kv#*=}\""$'\n'
	done
	printf '%s' "$out"
}

# lighttpd_start RUNDIR PORT PREFIX USHER_CONFIG
lighttpd_start() {
	local run=$1 port=$2 prefix=$3 config=$4
	mkdir -p "$run/htdocs"
	chmod 755 "$run" "$run/htdocs"
	STACK_LIGHTTPD_CONF=$run/lighttpd.conf
	STACK_LIGHTTPD_LOGS="$run/lighttpd-error.log $run/lighttpd-stderr.log"
	STACK_PROGRAMS_DIR=$prefix/libexec/usher/cgi-bin
	render_conf "$STACK_SRCDIR/apache-conf/usher-lighttpd.conf.in" \
	    "$STACK_LIGHTTPD_CONF" "$prefix" "$port" "$run" "$config" \
	    "$(_stack_san_lighttpd)" || return 1
	lighttpd -tt -f "$STACK_LIGHTTPD_CONF" || return 1
	rm -f "$run"/*.sock-*
	stack_say "lighttpd: starting on 127.0.0.1:$port ($STACK_LIGHTTPD_CONF)"
	# The programs' stderr (their JSON log lines, sanitizer reports) is
	# lighttpd's own stderr: keep it in a file. A session of its own: a
	# Ctrl-C in the terminal reaches the calling script (whose trap runs
	# lighttpd_stop), not lighttpd and its programs directly.
	setsid lighttpd -D -f "$STACK_LIGHTTPD_CONF" </dev/null \
	    >>"$run/lighttpd-stderr.log" 2>&1 &
	STACK_LIGHTTPD_PID=$!
	_stack_wait_port "$port" "$STACK_LIGHTTPD_PID" || {
		tail -n 20 $STACK_LIGHTTPD_LOGS >&2
		return 1
	}
}

lighttpd_stop() {
	[ -n "${STACK_LIGHTTPD_PID:-}" ] || return 0
	if kill -0 "$STACK_LIGHTTPD_PID" 2>/dev/null; then
		stack_say "lighttpd: stopping"
		# SIGINT: graceful; lighttpd then sends SIGTERM to the programs.
		kill -INT "$STACK_LIGHTTPD_PID" 2>/dev/null || true
		local _
		for _ in $(seq 1 50); do
			kill -0 "$STACK_LIGHTTPD_PID" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$STACK_LIGHTTPD_PID" 2>/dev/null; then
			kill -TERM "$STACK_LIGHTTPD_PID" 2>/dev/null || true
		fi
		wait "$STACK_LIGHTTPD_PID" 2>/dev/null || true
	fi
	STACK_LIGHTTPD_PID=
	_stack_wait_programs "${STACK_PROGRAMS_DIR:-}"
}

# apache_start RUNDIR PORT PREFIX USHER_CONFIG
apache_start() {
	local run=$1 port=$2 prefix=$3 config=$4 path
	mkdir -p "$run/fcgid" "$run/htdocs"
	chmod 755 "$run" "$run/htdocs"
	chown nobody:nogroup "$run/fcgid"
	STACK_APACHE_CONF=$run/apache.conf
	STACK_APACHE_LOGS="$run/apache-error.log"
	STACK_PROGRAMS_DIR=$prefix/libexec/usher/cgi-bin
	render_conf "$STACK_SRCDIR/apache-conf/usher-apache.conf.in" \
	    "$STACK_APACHE_CONF" "$prefix" "$port" "$run" "$config" \
	    "$(_stack_san_apache)" || return 1
	apache2 -t -f "$STACK_APACHE_CONF" 2>&1 | grep -v '^Syntax OK$' >&2 || true
	stack_say "apache: starting on 127.0.0.1:$port ($STACK_APACHE_CONF)"
	apache2 -f "$STACK_APACHE_CONF" -k start || {
		tail -n 20 "$STACK_APACHE_LOGS" >&2
		return 1
	}
	_stack_wait_port "$port" || { tail -n 20 "$STACK_APACHE_LOGS" >&2; return 1; }
	# mod_fcgid starts each program on its first request, and more of them
	# only gradually: have one of each running before any test.
	for path in /v1/health /v1/auth/login /v1/me /.well-known/jwks.json \
	    /v1/openapi.json /v1/docs; do
		curl -s -o /dev/null -m 30 "http://127.0.0.1:$port$path" || true
	done
}

apache_stop() {
	[ -n "${STACK_APACHE_CONF:-}" ] || return 0
	local pidfile pid _
	pidfile=$(dirname "$STACK_APACHE_CONF")/apache.pid
	if [ -f "$pidfile" ]; then
		pid=$(cat "$pidfile")
		stack_say "apache: stopping"
		apache2 -f "$STACK_APACHE_CONF" -k stop || kill -TERM "$pid" || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			stack_say "apache: pid $pid still running after 20 s, killing"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	STACK_APACHE_CONF=
	_stack_wait_programs "${STACK_PROGRAMS_DIR:-}"
}

# wait_healthy BASE_URL [SECONDS]
wait_healthy() {
	local base=$1 secs=${2:-30} code _
	for _ in $(seq 1 $((secs * 5))); do
		code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$base/v1/health")
		[ "$code" = 200 ] && return 0
		sleep 0.2
	done
	stack_die "$base/v1/health answers $code, not 200, after $secs s"
	curl -s -i -m 5 "$base/v1/health" >&2 || true
	return 1
}

# lsan_selftest: LeakSanitizer needs to stop the process's threads with
# ptrace; some sandboxes forbid it. Check once, loudly, instead of letting
# every program fail (or a leak go unseen) later.
lsan_selftest() {
	local d out rc
	d=$(mktemp -d)
	printf '%s\n' '#include <stdlib.h>' 'void *volatile p;' \
	    'int main(void) { p = malloc(33); p = 0; return 0; }' >"$d/leak.c"
	if ! gcc -fsanitize=address -g "$d/leak.c" -o "$d/leak" 2>"$d/cc.log"; then
		cat "$d/cc.log" >&2
		rm -rf "$d"
		stack_die "cannot build an AddressSanitizer program"
		return 1
	fi
	out=$(ASAN_OPTIONS=detect_leaks=1 "$d/leak" 2>&1) && rc=0 || rc=$?
	rm -rf "$d"
	case $out in
	*"ERROR: LeakSanitizer: detected memory leaks"*)
		stack_say "LeakSanitizer works here"
		return 0 ;;
	esac
	stack_die "LeakSanitizer does not work here (exit $rc; ptrace" \
	    "forbidden in this sandbox?): $out"
	return 1
}

# scan_logs FILE...: sanitizer reports fail the run.
scan_logs() {
	local f bad=0
	for f in "$@"; do
		[ -f "$f" ] || continue
		if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$f"; then
			printf '%s\n' "stack: sanitizer report in $f:" >&2
			grep -nE -B2 -A25 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' \
			    "$f" | head -n 200 >&2 || true
			bad=1
		fi
	done
	return $bad
}
