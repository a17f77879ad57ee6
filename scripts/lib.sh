# shellcheck shell=bash
# lib.sh holds what scripts/kafka/kafka.sh and scripts/minio/minio.sh share. A script sets
# SCRIPT_NAME (its messages' prefix) and NEEDED_FOR (what its tools are needed for), then sources
# this file.

die() {
	echo "$SCRIPT_NAME: $*" >&2
	exit 1
}

# usage prints the script's header comment, from line 2 to `set -euo`.
usage() {
	sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || die "$tool not found on PATH (needed to $NEEDED_FOR)"
	done
}

# port_open reports whether something accepts connections on 127.0.0.1:$1.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		port_open "$p" || {
			echo "$p"
			return 0
		}
	done
	die "no free port found"
}
