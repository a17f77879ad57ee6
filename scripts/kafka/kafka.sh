#!/usr/bin/env bash
# kafka.sh fetches, starts and stops a single-node Apache Kafka broker in KRaft mode (broker and
# controller in one JVM) on 127.0.0.1, for trailsight's integration tests. No Docker, no tarball:
# the broker's jars come from Maven Central through scripts/kafka/pom.xml.
#
#   kafka.sh fetch                        copy the broker jars into the cache (idempotent)
#   kafka.sh start DATA_DIR PORT [CPORT]  format DATA_DIR once, start the broker, wait until ready
#   kafka.sh stop DATA_DIR                SIGTERM, wait, then SIGKILL
#   kafka.sh version | home               print the Kafka version | its cache directory
#
# Environment:
#   TRAILSIGHT_KAFKA_VERSION    Kafka version (default below)
#   TRAILSIGHT_CACHE            cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/trailsight)
#   TRAILSIGHT_KAFKA_OWNER_PID  start: a watchdog stops the broker when this process is gone, and
#                               removes DATA_DIR if it holds a file named .remove-with-owner
#   KAFKA_HEAP_OPTS             JVM heap options (default -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT         seconds start waits for the broker (default 60)
set -euo pipefail

readonly KAFKA_VERSION="${TRAILSIGHT_KAFKA_VERSION:-4.4.0}"
readonly CACHE_ROOT="${TRAILSIGHT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trailsight}"
readonly KAFKA_HOME="$CACHE_ROOT/kafka-$KAFKA_VERSION"
readonly LIBS="$KAFKA_HOME/libs"
readonly MARKER="$KAFKA_HOME/.complete"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly STARTED_MESSAGE='Kafka Server started' # KafkaBroker.STARTED_MESSAGE, logged once ready
readonly SCRIPT_NAME=kafka.sh NEEDED_FOR="run Apache Kafka for the tests"
# shellcheck source=scripts/lib.sh
source "$SCRIPT_DIR/../lib.sh"

# fetch copies the broker's runtime class path into $LIBS. The marker file is written last, so a
# fetch that was interrupted is redone; once it exists, fetch touches neither Maven nor the network.
# A lock serialises concurrent fetches (go test runs one test binary per package in parallel).
cmd_fetch() {
	[[ -f $MARKER ]] && return 0
	need java mvn flock
	mkdir -p "$KAFKA_HOME"
	(
		flock 9
		[[ -f $MARKER ]] && exit 0
		stage="$(mktemp -d "$KAFKA_HOME/stage.XXXXXX")"
		trap 'rm -rf "$stage"' EXIT
		cp "$SCRIPT_DIR/pom.xml" "$stage/pom.xml"
		echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION from Maven Central into $LIBS" >&2
		# -U: a failure that Maven cached in ~/.m2 (a network hiccup) must not stick for a day.
		# Maven 3.8 prints colour resets even with -B: sed drops them (pipefail keeps mvn's status).
		(cd "$stage" && MAVEN_OPTS="${MAVEN_OPTS:-} -XX:-UsePerfData" mvn -q -B -U \
			dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$stage/libs" \
			-Dkafka.version="$KAFKA_VERSION" 2>&1 | sed $'s/\e\\[[0-9;]*m//g') >&2 ||
			die "mvn could not fetch Apache Kafka $KAFKA_VERSION (see above)"
		[[ -f $stage/libs/kafka_2.13-$KAFKA_VERSION.jar && -f $stage/libs/kafka-server-$KAFKA_VERSION.jar ]] ||
			die "mvn did not copy kafka_2.13-$KAFKA_VERSION.jar and kafka-server-$KAFKA_VERSION.jar"
		rm -rf "$LIBS"
		mv "$stage/libs" "$LIBS"
		echo "$KAFKA_VERSION" >"$MARKER"
	) 9>"$KAFKA_HOME/.lock"
}

# broker_pid prints the pid in DATA_DIR/kafka.pid if that process is alive and is our broker (so a
# reused pid is never signalled).
broker_pid() {
	local data="$1" pid
	[[ -f $data/kafka.pid ]] || return 1
	pid="$(<"$data/kafka.pid")"
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$data/server.properties" || return 1
	echo "$pid"
}

prop() { # prop FILE KEY prints KEY's value in a properties file
	sed -n "s/^$2=//p" "$1" 2>/dev/null | tail -n 1
}

write_config() {
	local data="$1" port="$2" cport="$3"
	cat >"$data/server.properties" <<EOF
# Written by scripts/kafka/kafka.sh for trailsight's tests: one node, broker and controller.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:$cport
log.dirs=$data/kraft
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
log.cleaner.enable=true
log.cleaner.backoff.ms=500
log.retention.check.interval.ms=5000
EOF
	cat >"$data/log4j2.properties" <<EOF
# Written by scripts/kafka/kafka.sh: the broker logs to $data/logs/server.log only.
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $data/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = org.apache.kafka
logger.kafka.level = info
EOF
}

java_cmd() { # java_cmd DATA_DIR MAIN ARGS... runs a class from the cached jars
	local data="$1"
	shift
	# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of options
	exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:TieredStopAtLevel=1 -XX:-UsePerfData \
		-Djava.awt.headless=true -Dlog4j2.configurationFile="$data/log4j2.properties" \
		-Dkafka.logs.dir="$data/logs" -cp "$LIBS/*" "$@"
}

fail_start() {
	local data="$1"
	shift
	echo "kafka.sh: $*" >&2
	local f
	for f in "$data/logs/stdout.log" "$data/logs/server.log"; do
		[[ -s $f ]] || continue
		echo "---- tail of $f" >&2
		tail -n 40 "$f" >&2
	done
	cmd_stop "$data" >/dev/null 2>&1 || true
	exit 1
}

cmd_start() {
	[[ $# -ge 2 && $# -le 3 ]] || usage
	local data="$1" port="$2" cport="${3:-}"
	[[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, got $port"
	mkdir -p "$data"
	data="$(cd "$data" && pwd)"
	need java
	cmd_fetch
	if broker_pid "$data" >/dev/null; then
		die "a broker is already running for $data (pid $(<"$data/kafka.pid"))"
	fi
	port_open "$port" && die "127.0.0.1:$port is already in use"

	# A restart keeps the controller port: the quorum's address is part of the formatted data
	# (a dynamic quorum records its voters' endpoints), so pass the same CPORT or none.
	if [[ -z $cport ]]; then
		cport="$(prop "$data/server.properties" controller.quorum.bootstrap.servers)"
		cport="${cport##*:}"
	fi
	[[ -n $cport ]] || cport="$(free_port)"
	[[ $cport =~ ^[0-9]+$ ]] || die "CONTROLLER_PORT must be a number, got $cport"
	port_open "$cport" && die "127.0.0.1:$cport (controller) is already in use"

	mkdir -p "$data/logs"
	write_config "$data" "$port" "$cport"
	echo "$KAFKA_VERSION" >"$data/kafka.version"

	if [[ ! -f $data/kraft/meta.properties ]]; then
		local cluster_id
		# A URL-safe base64 UUID as Kafka's Uuid.randomUuid makes, and like it never one that starts
		# with '-': the format tool's argument parser would take that for an option (1 run in 64).
		cluster_id=-
		while [[ $cluster_id == -* ]]; do
			cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
		done
		(java_cmd "$data" kafka.tools.StorageTool format --standalone --cluster-id "$cluster_id" \
			--config "$data/server.properties") >"$data/logs/format.log" 2>&1 ||
			{
				cat "$data/logs/format.log" >&2
				die "formatting $data/kraft failed"
			}
	fi

	[[ -f $data/logs/server.log ]] && mv "$data/logs/server.log" "$data/logs/server.log.prev"
	local t0=$SECONDS t0ns
	t0ns="$(date +%s%N)"
	(java_cmd "$data" kafka.Kafka "$data/server.properties") >"$data/logs/stdout.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$data/kafka.pid"

	if [[ -n ${TRAILSIGHT_KAFKA_OWNER_PID:-} ]]; then
		local wpid=""
		[[ -f $data/watch.pid ]] && wpid="$(<"$data/watch.pid")"
		if ! [[ $wpid =~ ^[0-9]+$ ]] || ! kill -0 "$wpid" 2>/dev/null; then
			setsid bash "${BASH_SOURCE[0]}" watch "$TRAILSIGHT_KAFKA_OWNER_PID" "$data" >/dev/null 2>&1 </dev/null &
			echo "$!" >"$data/watch.pid"
		fi
	fi

	local timeout="${KAFKA_START_TIMEOUT:-60}"
	while :; do
		kill -0 "$pid" 2>/dev/null || fail_start "$data" "the broker exited while starting"
		if grep -qF "$STARTED_MESSAGE" "$data/logs/server.log" 2>/dev/null && port_open "$port"; then
			break
		fi
		((SECONDS - t0 < timeout)) || fail_start "$data" "the broker was not ready within ${timeout}s"
		sleep 0.2
	done
	local ms=$((($(date +%s%N) - t0ns) / 1000000))
	echo "kafka.sh: Apache Kafka $KAFKA_VERSION ready on 127.0.0.1:$port (pid $pid, $((ms / 1000)).$(printf %03d $((ms % 1000)))s)" >&2
}

cmd_stop() {
	[[ $# -eq 1 ]] || usage
	local data="$1" pid
	[[ -d $data ]] || return 0
	data="$(cd "$data" && pwd)"
	if pid="$(broker_pid "$data")"; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 150); do # 30 s for a controlled shutdown
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "kafka.sh: broker pid $pid still running after 30s; SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
	fi
	rm -f "$data/kafka.pid"
	if [[ -f $data/watch.pid ]]; then
		local wpid
		wpid="$(<"$data/watch.pid")"
		rm -f "$data/watch.pid"
		if [[ $wpid =~ ^[0-9]+$ && $wpid != "$$" ]]; then
			kill -TERM "$wpid" 2>/dev/null || true
		fi
	fi
}

# cmd_watch (internal) waits for the owner process to exit and then stops the broker, so a test
# binary that panics, times out or is killed leaves no broker behind.
cmd_watch() {
	local owner="$1" data="$2"
	trap 'exit 0' TERM
	while kill -0 "$owner" 2>/dev/null; do
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
	version) echo "$KAFKA_VERSION" ;;
	home) echo "$KAFKA_HOME" ;;
	*) usage ;;
	esac
}

main "$@"
