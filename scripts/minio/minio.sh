#!/usr/bin/env bash
# minio.sh builds, starts and stops a single-node, single-drive MinIO server on 127.0.0.1, the S3
# server of trailsight's integration tests. No Docker, no downloaded binary: `go install` builds
# MinIO from source (the Go module proxy) into a cache outside the clone.
#
#   minio.sh fetch                        build the server into the cache (idempotent; minutes once)
#   minio.sh start DATA_DIR PORT [CPORT]  start the server on DATA_DIR, wait until it is ready
#   minio.sh stop DATA_DIR [--keep-watch] SIGTERM, wait, then SIGKILL; --keep-watch leaves the
#                                         watchdog running, for a start to come (a test's outage)
#   minio.sh version | home | bin         print the MinIO version | its cache directory | the binary
#                                         (bin fails, saying so, when the server is not built)
#
# DATA_DIR holds the objects in DATA_DIR/data, the logs in DATA_DIR/logs and the pid files; start
# again on the same DATA_DIR and PORT finds the objects it held. CPORT is the console's port: the
# console is off (MINIO_BROWSER=off) and listens nowhere, but without the flag MinIO would pick
# one on every interface; it defaults to the one DATA_DIR's last start used. MinIO listens on
# 127.0.0.1:PORT and also on [::1]:PORT (it adds the other loopback address itself).
#
# Environment:
#   TRAILSIGHT_MINIO_VERSION    MinIO module version for go install (default below)
#   TRAILSIGHT_CACHE            cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/trailsight)
#   TRAILSIGHT_MINIO_OWNER_PID  start: a watchdog stops the server when this process is gone, and
#                               removes DATA_DIR if it holds a file named .remove-with-owner
#   TRAILSIGHT_MINIO_ROOT_USER, TRAILSIGHT_MINIO_ROOT_PASSWORD
#                               start: the root credentials (default trailsight, trailsight-secret)
#   TRAILSIGHT_MINIO_START_TIMEOUT  seconds start waits for the server (default 60)
set -euo pipefail

readonly MINIO_VERSION="${TRAILSIGHT_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
readonly MINIO_MODULE=github.com/minio/minio
readonly CACHE_ROOT="${TRAILSIGHT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trailsight}"
# A pseudo-version v0.0.0-TIMESTAMP-COMMIT names its directory by the timestamp, a tag by itself.
if [[ $MINIO_VERSION =~ ^v0\.0\.0-([0-9]{14})-[0-9a-f]{12}$ ]]; then
	readonly MINIO_HOME="$CACHE_ROOT/minio-${BASH_REMATCH[1]}"
else
	readonly MINIO_HOME="$CACHE_ROOT/minio-$MINIO_VERSION"
fi
readonly MINIO_BIN="$MINIO_HOME/bin/minio"
readonly MARKER="$MINIO_HOME/.complete"
readonly SCRIPT_NAME=minio.sh NEEDED_FOR="build MinIO for the tests"
# shellcheck source=scripts/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../lib.sh"

# runs reports whether $1 is a MinIO binary that runs (not one that a build is still writing).
runs() {
	[[ -x $1 ]] && "$1" --version >/dev/null 2>&1
}

# built reports whether the server is in the cache: the marker, or a binary that runs (one built
# by the same go install command outside this script, which writes no marker).
built() {
	[[ -f $MARKER && -x $MINIO_BIN ]] || runs "$MINIO_BIN"
}

# fetch builds MinIO into $MINIO_HOME/bin. go install writes into a staging GOBIN and the binary is
# renamed into place, so $MINIO_BIN is never half written; the marker is written last, and once it
# exists fetch touches neither Go nor the network. A lock serialises concurrent fetches.
cmd_fetch() {
	[[ -f $MARKER && -x $MINIO_BIN ]] && return 0
	need flock
	mkdir -p "$MINIO_HOME"
	(
		flock 9
		[[ -f $MARKER && -x $MINIO_BIN ]] && exit 0
		if runs "$MINIO_BIN"; then # built by the same go install, outside this script
			echo "$MINIO_VERSION" >"$MARKER"
			exit 0
		fi
		need go
		stage="$(mktemp -d "$MINIO_HOME/stage.XXXXXX")"
		trap 'rm -rf "$stage"' EXIT
		echo "minio.sh: building MinIO $MINIO_VERSION from source into $MINIO_HOME/bin (takes minutes, once)" >&2
		# Outside any module and workspace, so the clone's go.mod and go.work play no part; -mod=mod
		# overrides a GOFLAGS=-mod=vendor the caller may have set.
		(cd "$stage" && GOBIN="$stage/bin" GOWORK=off GOFLAGS=-mod=mod \
			go install "$MINIO_MODULE@$MINIO_VERSION") >&2 ||
			die "go install $MINIO_MODULE@$MINIO_VERSION failed (see above)"
		runs "$stage/bin/minio" || die "the MinIO built by go install does not run: $stage/bin/minio --version failed"
		mkdir -p "$MINIO_HOME/bin"
		mv -f "$stage/bin/minio" "$MINIO_BIN"
		echo "$MINIO_VERSION" >"$MARKER"
	) 9>"$MINIO_HOME/.lock"
}

cmd_bin() {
	built || die "MinIO $MINIO_VERSION is not built in $MINIO_HOME: run \`make deps\` (or scripts/minio/minio.sh fetch; go install takes minutes)"
	echo "$MINIO_BIN"
}

# http_status PORT PATH prints the status code of GET http://127.0.0.1:PORT/PATH (no curl needed).
http_status() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$2" "$1" >&3
		IFS=' ' read -r -t 2 _ code _ <&3 || exit 1
		echo "$code"
	) 2>/dev/null
}

# alive reports whether process $1 runs. A zombie does not: the server's parent is init (start's
# shell is gone), and an init that reaps late must not make stop wait for the SIGKILL.
alive() {
	local stat
	kill -0 "$1" 2>/dev/null || return 1
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
	stat="${stat##*) }"
	[[ ${stat:0:1} != Z ]]
}

# server_pid prints the pid in DATA_DIR/minio.pid if that process is alive and is our server (so a
# reused pid is never signalled).
server_pid() {
	local data="$1" pid
	[[ -f $data/minio.pid ]] || return 1
	pid="$(<"$data/minio.pid")"
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	alive "$pid" || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF "$data/data" || return 1
	echo "$pid"
}

fail_start() {
	local data="$1"
	shift
	echo "minio.sh: $*" >&2
	if [[ -s $data/logs/minio.log ]]; then
		echo "---- tail of $data/logs/minio.log" >&2
		tail -n 40 "$data/logs/minio.log" >&2
	fi
	cmd_stop "$data" >/dev/null 2>&1 || true
	exit 1
}

cmd_start() {
	[[ $# -ge 2 && $# -le 3 ]] || usage
	local data="$1" port="$2" cport="${3:-}"
	[[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, got $port"
	mkdir -p "$data"
	data="$(cd "$data" && pwd)"
	local bin
	bin="$(cmd_bin)"
	if server_pid "$data" >/dev/null; then
		die "a MinIO server is already running for $data (pid $(<"$data/minio.pid"))"
	fi
	port_open "$port" && die "127.0.0.1:$port is already in use"
	[[ -z $cport && -f $data/console.port ]] && cport="$(<"$data/console.port")"
	[[ -n $cport ]] || cport="$(free_port)"
	[[ $cport =~ ^[0-9]+$ ]] || die "CPORT must be a number, got $cport"
	[[ $cport != "$port" ]] || die "PORT and CPORT are both $port"
	port_open "$cport" && die "127.0.0.1:$cport (console) is already in use"

	mkdir -p "$data/data" "$data/logs"
	echo "$cport" >"$data/console.port"
	echo "$MINIO_VERSION" >"$data/minio.version"
	[[ -f $data/logs/minio.log ]] && mv "$data/logs/minio.log" "$data/logs/minio.log.prev"

	local t0=$SECONDS t0ns
	t0ns="$(date +%s%N)"
	# env -i: no MINIO_* or proxy variable of the caller's reaches the server; HOME is where MinIO
	# would keep its client config (certs), so it gets one of its own.
	env -i PATH="/usr/bin:/bin" HOME="$data" \
		MINIO_ROOT_USER="${TRAILSIGHT_MINIO_ROOT_USER:-trailsight}" \
		MINIO_ROOT_PASSWORD="${TRAILSIGHT_MINIO_ROOT_PASSWORD:-trailsight-secret}" \
		MINIO_BROWSER=off MINIO_UPDATE=off \
		"$bin" server --address "127.0.0.1:$port" --console-address "127.0.0.1:$cport" \
		--certs-dir "$data/certs" "$data/data" >"$data/logs/minio.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$data/minio.pid"

	if [[ -n ${TRAILSIGHT_MINIO_OWNER_PID:-} ]]; then
		local wpid=""
		[[ -f $data/watch.pid ]] && wpid="$(<"$data/watch.pid")"
		if ! [[ $wpid =~ ^[0-9]+$ ]] || ! alive "$wpid"; then
			setsid bash "${BASH_SOURCE[0]}" watch "$TRAILSIGHT_MINIO_OWNER_PID" "$data" >/dev/null 2>&1 </dev/null &
			echo "$!" >"$data/watch.pid"
		fi
	fi

	local timeout="${TRAILSIGHT_MINIO_START_TIMEOUT:-60}"
	while :; do
		alive "$pid" || fail_start "$data" "the server exited while starting"
		if [[ $(http_status "$port" /minio/health/live) == 200 && $(http_status "$port" /minio/health/ready) == 200 ]]; then
			break
		fi
		((SECONDS - t0 < timeout)) || fail_start "$data" "the server was not ready within ${timeout}s"
		sleep 0.05
	done
	local ms=$((($(date +%s%N) - t0ns) / 1000000))
	echo "minio.sh: MinIO ready on http://127.0.0.1:$port (pid $pid, $((ms / 1000)).$(printf %03d $((ms % 1000)))s)" >&2
	echo "http://127.0.0.1:$port"
}

cmd_stop() {
	[[ $# -eq 1 || ($# -eq 2 && $2 == --keep-watch) ]] || usage
	local data="$1" keep="${2:-}" pid
	[[ -d $data ]] || return 0
	data="$(cd "$data" && pwd)"
	if pid="$(server_pid "$data")"; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 600); do # 30 s to shut down
			alive "$pid" || break
			sleep 0.05
		done
		if alive "$pid"; then
			echo "minio.sh: server pid $pid still running after 30s; SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				alive "$pid" || break
				sleep 0.1
			done
		fi
	fi
	rm -f "$data/minio.pid"
	if [[ -z $keep && -f $data/watch.pid ]]; then
		local wpid
		wpid="$(<"$data/watch.pid")"
		rm -f "$data/watch.pid"
		if [[ $wpid =~ ^[0-9]+$ && $wpid != "$$" ]]; then
			kill -TERM "$wpid" 2>/dev/null || true
		fi
	fi
}

# cmd_watch (internal) waits for the owner process to exit and then stops the server, so a test
# binary that panics, times out or is killed leaves no server behind.
cmd_watch() {
	local owner="$1" data="$2"
	trap 'exit 0' TERM
	while alive "$owner"; do
		sleep 1
	done
	rm -f "$data/watch.pid"
	cmd_stop "$data"
	if [[ -f $data/.remove-with-owner ]]; then
		rm -rf "$data"
	fi
}

main() {
	[[ $# -ge 1 ]] || usage
	local cmd="$1"
	shift
	case "$cmd" in
	fetch) cmd_fetch ;;
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	watch) cmd_watch "$@" ;;
	version) echo "$MINIO_VERSION" ;;
	home) echo "$MINIO_HOME" ;;
	bin) cmd_bin ;;
	*) usage ;;
	esac
}

main "$@"
