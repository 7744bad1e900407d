#!/bin/sh
# Creates the Kafka topics of topics.txt (next to this script) with explicit partition counts (DESIGN §6), then
# checks each one. Idempotent: an existing topic is left as it is, but one with FEWER partitions than listed
# fails the run (set KAFKA_ALTER_PARTITIONS=true to add partitions; that moves keys to other partitions, so
# per-beneficiary ordering is broken for messages already queued: drain the topic first).
#
# Environment:
#   KAFKA_BOOTSTRAP           host:port[,host:port] of the brokers (required)
#   KAFKA_TOPIC_PREFIX        prepended to every topic, as the services do (default: none)
#   KAFKA_REPLICATION_FACTOR  replicas of each new topic (default 1; 3 on a production cluster)
#   KAFKA_MIN_INSYNC_REPLICAS min.insync.replicas of each new topic (default: the broker's default)
#   KAFKA_TOPICS_CMD          the kafka-topics tool (default /opt/kafka/bin/kafka-topics.sh, as in apache/kafka)
#   KAFKA_COMMAND_CONFIG      optional client properties file (TLS/SASL), passed as --command-config
#   KAFKA_ALTER_PARTITIONS    true: add partitions to topics that have fewer than listed
#   TOPICS_FILE               the list (default: topics.txt next to this script)
set -eu

die() {
  echo "create-topics: $*" >&2
  exit 1
}

: "${KAFKA_BOOTSTRAP:?create-topics: KAFKA_BOOTSTRAP is required (host:port of a broker)}"
prefix="${KAFKA_TOPIC_PREFIX:-}"
replication="${KAFKA_REPLICATION_FACTOR:-1}"
tool="${KAFKA_TOPICS_CMD:-/opt/kafka/bin/kafka-topics.sh}"
topics_file="${TOPICS_FILE:-$(dirname "$0")/topics.txt}"
[ -r "$topics_file" ] || die "cannot read $topics_file"

kafka_topics() {
  if [ -n "${KAFKA_COMMAND_CONFIG:-}" ]; then
    $tool --bootstrap-server "$KAFKA_BOOTSTRAP" --command-config "$KAFKA_COMMAND_CONFIG" "$@"
  else
    $tool --bootstrap-server "$KAFKA_BOOTSTRAP" "$@"
  fi
}

failed=0
while read -r name partitions rest; do
  case "$name" in '' | '#'*) continue ;; esac
  case "$partitions" in '' | *[!0-9]*) die "$topics_file: \"$name\" needs a partition count" ;; esac
  [ -z "$rest" ] || die "$topics_file: unexpected \"$rest\" after \"$name $partitions\""
  topic="$prefix$name"
  if [ -n "${KAFKA_MIN_INSYNC_REPLICAS:-}" ]; then
    kafka_topics --create --if-not-exists --topic "$topic" --partitions "$partitions" \
      --replication-factor "$replication" --config "min.insync.replicas=$KAFKA_MIN_INSYNC_REPLICAS"
  else
    kafka_topics --create --if-not-exists --topic "$topic" --partitions "$partitions" \
      --replication-factor "$replication"
  fi
  actual="$(kafka_topics --describe --topic "$topic" | sed -n 's/.*PartitionCount:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)"
  [ -n "$actual" ] || die "could not read the partition count of $topic"
  if [ "$actual" -lt "$partitions" ]; then
    if [ "${KAFKA_ALTER_PARTITIONS:-false}" = true ]; then
      kafka_topics --alter --topic "$topic" --partitions "$partitions"
      echo "create-topics: $topic: partitions raised from $actual to $partitions"
    else
      echo "create-topics: $topic has $actual partitions, $partitions wanted (KAFKA_ALTER_PARTITIONS=true adds them)" >&2
      failed=1
    fi
  else
    echo "create-topics: $topic ok ($actual partitions, $partitions wanted)"
  fi
done <"$topics_file"
exit "$failed"
