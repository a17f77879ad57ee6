// Package kafkatest starts Kafka brokers for tests: an in-process kfake cluster ([Fake]) for fast
// tests, and a real Apache Kafka broker in KRaft mode ([Real]) so the same tests also run against
// the server trailsight will meet in production. [Each] runs one test body against both. [KCat]
// finds kcat, an independent client (librdkafka) to check trailsight's clients against.
//
// Both kinds listen on 127.0.0.1 only and satisfy [Cluster].
//
// # The real broker
//
// Real starts one broker per test binary, lazily, on the first call, through
// scripts/kafka/kafka.sh (found by walking up from the working directory to go.mod), which fetches
// the broker's jars from Maven Central into a cache outside the clone
// (${TRAILSIGHT_CACHE:-${XDG_CACHE_HOME:-~/.cache}/trailsight}/kafka-<version>/libs) and runs it
// with the JDK. Every test of the binary shares it, so tests name their topics with [Topic] and
// must not assume an empty cluster. A package that uses Real calls [Main] from TestMain, which
// stops the broker and removes its data once the tests are done; if the binary dies first (a
// panic, -timeout, a signal), a watchdog started with the broker stops it within a second and
// removes its data.
//
// When java, mvn or the jars cannot be had, Real skips the test with a loud reason, and KCat does
// the same without kcat; with the environment variable CI=true both fail the test instead, so a
// CI run can never pass by skipping. `make deps` (a dependency of `make test`) installs both.
//
// # Concurrency
//
// A Cluster's methods may be called from any goroutine, but Restart interrupts every user of the
// cluster: on the shared real broker, call it only from tests that do not run in parallel with
// other tests using Real.
package kafkatest
