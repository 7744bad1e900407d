# shellcheck shell=bash
# Shared by scripts/infra/up, down and status (sourced, not executed).
#
# Local infrastructure without Docker (DESIGN §4): Apache Kafka (KRaft, single node) and etcd are
# started by these scripts and live under <repo>/.infra/, and so does Keycloak (dev mode, realm `divoc`); Postgres and Redis are used when they already
# answer, and started from the system packages when they do not. `down` stops only what `up` started.
#
# Layout of .infra/:
#   kafka/libs/        jars fetched from Maven Central (cached between runs)
#   kafka/data/        the broker's log directory (formatted once)
#   kafka/server.properties
#   etcd/data/
#   keycloak/keycloak-<version>/      the Keycloak distribution fetched from Maven Central (cached), with
#            .../data/h2/             its dev database (H2 files) and
#            .../data/import/         the copy of keycloak/realm-export.json that database was made from
#   logs/<name>.log    stdout/stderr of the processes started here
#   run/<name>.pid     their pids; run/<name>.started marks a system service that `up` started

INFRA_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_SCRIPTS_DIR/../.." && pwd)"
INFRA_DIR="${DIVOC_INFRA_DIR:-$REPO_ROOT/.infra}"
RUN_DIR="$INFRA_DIR/run"
LOG_DIR="$INFRA_DIR/logs"

# The addresses src/testing/infra.ts expects. Kafka's and etcd's ports can be moved (e.g. to run a second
# set next to the first, with another DIVOC_INFRA_DIR); Postgres and Redis are the system services.
HOST=127.0.0.1
KAFKA_PORT="${DIVOC_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${DIVOC_KAFKA_CONTROLLER_PORT:-9093}"
ETCD_PORT="${DIVOC_ETCD_PORT:-2379}"
ETCD_PEER_PORT="${DIVOC_ETCD_PEER_PORT:-2380}"
POSTGRES_PORT=5432
POSTGRES_TEST_DB=divoc_test
REDIS_PORT=6379

KAFKA_DIR="$INFRA_DIR/kafka"
KAFKA_LIBS="$KAFKA_DIR/libs"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_CONFIG="$KAFKA_DIR/server.properties"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
ETCD_DATA="$INFRA_DIR/etcd/data"

# Keycloak: src/testing/infra.ts expects it on 127.0.0.1:8180. Keycloak 26 needs Java 21+ (see
# keycloak_java_home). The bootstrap admin of the master realm is TEST-ONLY (tests use it for the admin
# REST API); a real deployment sets its own and removes the temporary admin (keycloak/README.md).
KEYCLOAK_PORT="${DIVOC_KEYCLOAK_PORT:-8180}"
KEYCLOAK_VERSION="${DIVOC_KEYCLOAK_VERSION:-26.5.6}"
KEYCLOAK_REALM=divoc
KEYCLOAK_REALM_FILE="$REPO_ROOT/keycloak/realm-export.json"
KEYCLOAK_DIR="$INFRA_DIR/keycloak"
KEYCLOAK_HOME="$KEYCLOAK_DIR/keycloak-$KEYCLOAK_VERSION"
KEYCLOAK_IMPORTED="$KEYCLOAK_HOME/data/import/$KEYCLOAK_REALM-realm.json"
KEYCLOAK_HEAP_OPTS="${KEYCLOAK_HEAP_OPTS:--Xms256m -Xmx768m}"
KEYCLOAK_ADMIN_USERNAME="${KEYCLOAK_ADMIN_USERNAME:-admin}"
KEYCLOAK_ADMIN_PASSWORD="${KEYCLOAK_ADMIN_PASSWORD:-test-only-keycloak-admin-password}"
# Keycloak's first start (augmentation, database schema, realm import) is slow on two cores.
KEYCLOAK_START_TIMEOUT="${DIVOC_KEYCLOAK_START_TIMEOUT:-180}"

# Seconds a service may take to answer after being started.
START_TIMEOUT="${DIVOC_INFRA_START_TIMEOUT:-90}"

# ---------------------------------------------------------------------------------------------------
# Output: one line per component.

report() { # <component> <state> <detail>
  printf '%-9s %-5s %s\n' "$1" "$2" "$3"
}

die() {
  printf 'scripts/infra: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------------
# Processes and ports.

port_open() { # <host> <port>
  timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

wait_for() { # <seconds> <command...>: runs the command every 0.5 s until it succeeds
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    if ((SECONDS >= deadline)); then
      return 1
    fi
    sleep 0.5
  done
}

# Waits until <answers-function> succeeds while the process recorded for <name> stays alive.
wait_started() { # <name> <marker> <answers-function>
  local deadline=$((SECONDS + START_TIMEOUT))
  until "$3"; do
    running_pid "$1" "$2" >/dev/null || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

process_gone() { ! kill -0 "$1" 2>/dev/null; }

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# Prints the pid recorded for <name> if that process is still alive and its command line still
# contains <marker> (guards against a recycled pid).
running_pid() { # <name> <marker>
  local file pid
  file="$(pid_file "$1")"
  [[ -f $file ]] || return 1
  pid="$(<"$file")"
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  printf '%s' "$pid"
}

# Starts <command...> in the background, detached from this shell, output to logs/<name>.log.
start_background() { # <name> <command...>
  local name=$1
  shift
  mkdir -p "$RUN_DIR" "$LOG_DIR"
  nohup setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  printf '%s' "$!" >"$(pid_file "$name")"
}

# Stops the process recorded for <name> (TERM, then KILL after 30 s). Prints what it did.
stop_recorded() { # <name> <marker> <answers-function> <address>
  local pid
  if ! pid="$(running_pid "$1" "$2")"; then
    rm -f "$(pid_file "$1")"
    if "$3"; then
      report "$1" left "$4 answers but was not started by scripts/infra, left alone"
    else
      report "$1" down 'not running'
    fi
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for 30 process_gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$1")"
  report "$1" down "stopped (pid $pid)"
}

need_command() { # <command> <hint>
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# ---------------------------------------------------------------------------------------------------
# Kafka (KRaft, broker + controller in one JVM).

KAFKA_MARKER=kafka.Kafka

# A metadata request through kafkajs (from packages/platform) when it is installed, else a TCP check.
kafka_answers() {
  local kafkajs="$REPO_ROOT/packages/platform/node_modules/kafkajs"
  if [[ -d $kafkajs ]] && command -v node >/dev/null 2>&1; then
    KAFKAJS="$kafkajs" BROKER="$HOST:$KAFKA_PORT" timeout 10 node -e '
      const { Kafka, logLevel } = require(process.env.KAFKAJS);
      const admin = new Kafka({
        clientId: "divoc-infra-check", brokers: [process.env.BROKER], logLevel: logLevel.NOTHING,
        connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 },
      }).admin();
      admin.connect()
        .then(() => admin.describeCluster())
        .then((c) => { if (c.brokers.length === 0) throw new Error("no broker"); return admin.disconnect(); })
        .then(() => process.exit(0), () => process.exit(1));
    ' >/dev/null 2>&1
  else
    port_open "$HOST" "$KAFKA_PORT"
  fi
}

kafka_fetch_libs() {
  [[ -f $KAFKA_LIBS/.complete ]] && return 0
  need_command mvn 'install Maven (apt-get install -y maven) to fetch the Kafka jars'
  need_command java 'install a Java 17+ runtime (apt-get install -y openjdk-17-jre-headless)'
  rm -rf "$KAFKA_LIBS.tmp"
  mkdir -p "$KAFKA_DIR"
  mvn -q -B -f "$INFRA_SCRIPTS_DIR/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" >"$LOG_DIR/kafka-maven.log" 2>&1 ||
    die "fetching the Kafka jars with Maven failed, see $LOG_DIR/kafka-maven.log"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  touch "$KAFKA_LIBS/.complete"
}

kafka_configure() {
  mkdir -p "$KAFKA_DATA"
  sed -e "s|@HOST@|$HOST|g" -e "s|@PORT@|$KAFKA_PORT|g" \
    -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" -e "s|@DATA_DIR@|$KAFKA_DATA|g" \
    "$INFRA_SCRIPTS_DIR/kafka/server.properties" >"$KAFKA_CONFIG"
  if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
    local cluster_id
    cluster_id="$(java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>>"$LOG_DIR/kafka.log")"
    java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_CONFIG" --standalone \
      >>"$LOG_DIR/kafka.log" 2>&1 || die "formatting the Kafka storage failed, see $LOG_DIR/kafka.log"
  fi
}

kafka_up() {
  if kafka_answers; then
    report kafka up "$HOST:$KAFKA_PORT (already running)"
    return 0
  fi
  if port_open "$HOST" "$KAFKA_PORT" && ! running_pid kafka "$KAFKA_MARKER" >/dev/null; then
    die "something else listens on $HOST:$KAFKA_PORT but does not answer as a Kafka broker"
  fi
  if ! running_pid kafka "$KAFKA_MARKER" >/dev/null; then
    kafka_fetch_libs
    kafka_configure
    # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several JVM options
    start_background kafka java $KAFKA_HEAP_OPTS -Dlog4j2.configurationFile="$INFRA_SCRIPTS_DIR/kafka/log4j2.yaml" \
      -cp "$KAFKA_LIBS/*" "$KAFKA_MARKER" "$KAFKA_CONFIG"
  fi
  wait_started kafka "$KAFKA_MARKER" kafka_answers ||
    die "Kafka exited or did not answer on $HOST:$KAFKA_PORT within ${START_TIMEOUT}s, see $LOG_DIR/kafka.log"
  report kafka up "$HOST:$KAFKA_PORT (started, pid $(running_pid kafka "$KAFKA_MARKER"), KRaft single node)"
}

kafka_down() { stop_recorded kafka "$KAFKA_MARKER" kafka_answers "$HOST:$KAFKA_PORT"; }

kafka_status() {
  if kafka_answers; then
    report kafka up "$HOST:$KAFKA_PORT"
  else
    report kafka down "$HOST:$KAFKA_PORT does not answer"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------
# etcd (Debian package etcd-server; /usr/bin/etcd).

ETCD_ENDPOINT="http://$HOST:$ETCD_PORT"

etcd_answers() {
  if command -v etcdctl >/dev/null 2>&1; then
    ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINT" --dial-timeout=1s --command-timeout=2s \
      endpoint health >/dev/null 2>&1
  else
    curl -fsS --max-time 2 "$ETCD_ENDPOINT/health" 2>/dev/null | grep -q '"health":"true"'
  fi
}

etcd_install() {
  command -v etcd >/dev/null 2>&1 && return 0
  if [[ $(id -u) -ne 0 ]]; then
    die 'etcd not found: install it with "sudo apt-get install -y etcd-server etcd-client" (or run up as root)'
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server etcd-client >"$LOG_DIR/etcd-install.log" 2>&1 ||
    die "apt-get install etcd-server etcd-client failed, see $LOG_DIR/etcd-install.log"
}

etcd_up() {
  if etcd_answers; then
    report etcd up "$ETCD_ENDPOINT (already running)"
    return 0
  fi
  if ! running_pid etcd etcd >/dev/null; then
    mkdir -p "$LOG_DIR"
    etcd_install
    mkdir -p "$ETCD_DATA"
    chmod 700 "$ETCD_DATA"
    start_background etcd etcd --name divoc --data-dir "$ETCD_DATA" \
      --listen-client-urls "$ETCD_ENDPOINT" --advertise-client-urls "$ETCD_ENDPOINT" \
      --listen-peer-urls "http://$HOST:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
      --initial-cluster "divoc=http://$HOST:$ETCD_PEER_PORT" --logger zap --log-level warn
  fi
  wait_started etcd etcd etcd_answers ||
    die "etcd exited or did not answer on $ETCD_ENDPOINT within ${START_TIMEOUT}s, see $LOG_DIR/etcd.log"
  report etcd up "$ETCD_ENDPOINT (started, pid $(running_pid etcd etcd))"
}

etcd_down() { stop_recorded etcd etcd etcd_answers "$ETCD_ENDPOINT"; }

etcd_status() {
  if etcd_answers; then
    report etcd up "$ETCD_ENDPOINT"
  else
    report etcd down "$ETCD_ENDPOINT does not answer"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------
# Postgres: the system cluster (Debian postgresql package), started only if it does not answer.

postgres_answers() {
  pg_isready -q -h "$HOST" -p "$POSTGRES_PORT" -t 2
}

postgres_version() { # the newest installed major version, as in /etc/postgresql/<version>/main
  local dir version=''
  for dir in /etc/postgresql/*/main; do
    [[ -d $dir ]] || continue
    dir="${dir%/main}"
    version="$(printf '%s\n%s\n' "$version" "${dir##*/}" | sort -V | tail -n 1)"
  done
  [[ -n $version ]] || die 'Postgres is not installed (no /etc/postgresql/*/main); install the postgresql package'
  printf '%s' "$version"
}

postgres_ensure_test_db() {
  local exists
  exists="$(psql -h "$HOST" -p "$POSTGRES_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$POSTGRES_TEST_DB'")" ||
    die "cannot connect to Postgres as user postgres on $HOST:$POSTGRES_PORT"
  if [[ $exists != 1 ]]; then
    psql -q -h "$HOST" -p "$POSTGRES_PORT" -U postgres -d postgres -c "CREATE DATABASE $POSTGRES_TEST_DB" >/dev/null ||
      die "cannot create the database $POSTGRES_TEST_DB"
    printf 'created'
  else
    printf 'present'
  fi
}

postgres_up() {
  need_command pg_isready 'install the postgresql-client package'
  local how='already running' db
  if ! postgres_answers; then
    local version
    version="$(postgres_version)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
      die "pg_ctlcluster $version main start failed"
    mkdir -p "$RUN_DIR"
    printf '%s' "$version" >"$RUN_DIR/postgres.started"
    wait_for "$START_TIMEOUT" postgres_answers || die "Postgres did not answer on $HOST:$POSTGRES_PORT"
    how="started, cluster $version/main"
  fi
  db="$(postgres_ensure_test_db)"
  report postgres up "$HOST:$POSTGRES_PORT ($how; database $POSTGRES_TEST_DB $db)"
}

postgres_down() {
  local marker="$RUN_DIR/postgres.started"
  if [[ -f $marker ]]; then
    local version
    version="$(<"$marker")"
    pg_ctlcluster --skip-systemctl-redirect "$version" main stop || die "pg_ctlcluster $version main stop failed"
    rm -f "$marker"
    report postgres down "stopped (cluster $version/main)"
  else
    report postgres left "$HOST:$POSTGRES_PORT not started by scripts/infra, left alone"
  fi
}

postgres_status() {
  if postgres_answers; then
    report postgres up "$HOST:$POSTGRES_PORT"
  else
    report postgres down "$HOST:$POSTGRES_PORT does not answer"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------
# Redis: the system redis-server, started only if it does not answer.

redis_answers() {
  [[ $(timeout 2 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]
}

redis_up() {
  need_command redis-cli 'install the redis-tools package'
  if redis_answers; then
    report redis up "$HOST:$REDIS_PORT (already running)"
    return 0
  fi
  need_command redis-server 'install the redis-server package'
  mkdir -p "$LOG_DIR"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --logfile "$LOG_DIR/redis.log" >/dev/null || die 'redis-server did not start'
  mkdir -p "$RUN_DIR"
  touch "$RUN_DIR/redis.started"
  wait_for "$START_TIMEOUT" redis_answers || die "Redis did not answer on $HOST:$REDIS_PORT"
  report redis up "$HOST:$REDIS_PORT (started)"
}

redis_down() {
  local marker="$RUN_DIR/redis.started"
  if [[ -f $marker ]]; then
    redis-cli -h "$HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    rm -f "$marker"
    report redis down 'stopped'
  else
    report redis left "$HOST:$REDIS_PORT not started by scripts/infra, left alone"
  fi
}

redis_status() {
  if redis_answers; then
    report redis up "$HOST:$REDIS_PORT"
  else
    report redis down "$HOST:$REDIS_PORT does not answer"
    return 1
  fi
}

# ---------------------------------------------------------------------------------------------------
# Keycloak (the Quarkus distribution from Maven Central, `kc.sh start-dev`: H2 file database, HTTP only,
# bound to 127.0.0.1). The realm of keycloak/realm-export.json is imported at start; when that file
# changes, the next `up` restarts Keycloak on an empty database so the new realm is imported.

KEYCLOAK_MARKER="$KEYCLOAK_HOME/bin/"
KEYCLOAK_ISSUER="http://$HOST:$KEYCLOAK_PORT/realms/$KEYCLOAK_REALM"

keycloak_answers() {
  curl -fsS --max-time 2 -o /dev/null "$KEYCLOAK_ISSUER/.well-known/openid-configuration" 2>/dev/null
}

# A JDK that runs Keycloak 26 (21 or newer): DIVOC_KEYCLOAK_JAVA_HOME, else the newest one found here.
keycloak_java_home() {
  local candidate
  for candidate in "${DIVOC_KEYCLOAK_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64 \
    /usr/lib/jvm/temurin-21-jdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64; do
    if [[ -n $candidate && -x $candidate/bin/java ]]; then
      printf '%s' "$candidate"
      return 0
    fi
  done
  die 'no Java 21+ found for Keycloak: install one (e.g. a Temurin 25 JDK) or set DIVOC_KEYCLOAK_JAVA_HOME'
}

keycloak_fetch() {
  [[ -f $KEYCLOAK_HOME/.complete ]] && return 0
  need_command mvn 'install Maven (apt-get install -y maven) to fetch the Keycloak distribution'
  need_command unzip 'install unzip (apt-get install -y unzip)'
  local download="$KEYCLOAK_DIR/download"
  rm -rf "$download" "$KEYCLOAK_HOME"
  mkdir -p "$download" "$LOG_DIR"
  mvn -q -B dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
    -DoutputDirectory="$download" >"$LOG_DIR/keycloak-maven.log" 2>&1 ||
    die "fetching keycloak-quarkus-dist $KEYCLOAK_VERSION with Maven failed, see $LOG_DIR/keycloak-maven.log"
  unzip -q "$download/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$download" ||
    die "unzipping keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip failed"
  mv "$download/keycloak-$KEYCLOAK_VERSION" "$KEYCLOAK_HOME"
  rm -rf "$download"
  touch "$KEYCLOAK_HOME/.complete"
}

# True when the database holds (or, while starting, imports) the realm of the current keycloak/realm-export.json.
keycloak_realm_current() { cmp -s "$KEYCLOAK_REALM_FILE" "$KEYCLOAK_IMPORTED"; }

# A new (or changed) realm file: start from an empty database so that --import-realm imports it.
keycloak_prepare_realm() {
  [[ -f $KEYCLOAK_REALM_FILE ]] || die "$KEYCLOAK_REALM_FILE not found"
  keycloak_realm_current && return 0
  rm -rf "$KEYCLOAK_HOME/data/h2" "$KEYCLOAK_HOME/data/import"
  mkdir -p "$KEYCLOAK_HOME/data/import"
  cp "$KEYCLOAK_REALM_FILE" "$KEYCLOAK_IMPORTED"
}

keycloak_port_closed() { ! port_open "$HOST" "$KEYCLOAK_PORT"; }

# Stops the Keycloak recorded here (prints its pid): kc.sh and the JVM it runs share a process group (setsid).
keycloak_stop() {
  local pid
  pid="$(running_pid keycloak "$KEYCLOAK_MARKER")" || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for 60 process_gone "$pid"; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  wait_for 10 keycloak_port_closed || true
  rm -f "$(pid_file keycloak)"
  printf '%s' "$pid"
}

keycloak_up() {
  local how=started pid
  if keycloak_answers; then
    if ! running_pid keycloak "$KEYCLOAK_MARKER" >/dev/null; then
      report keycloak up "$KEYCLOAK_ISSUER (already running, not started by scripts/infra: realm not checked)"
      return 0
    fi
    if keycloak_realm_current; then
      report keycloak up "$KEYCLOAK_ISSUER (already running)"
      return 0
    fi
    pid="$(keycloak_stop)"
    how="restarted, pid $pid stopped: keycloak/realm-export.json changed, realm imported again"
  elif port_open "$HOST" "$KEYCLOAK_PORT" && ! running_pid keycloak "$KEYCLOAK_MARKER" >/dev/null; then
    die "something else listens on $HOST:$KEYCLOAK_PORT but does not serve the realm $KEYCLOAK_REALM"
  elif running_pid keycloak "$KEYCLOAK_MARKER" >/dev/null && ! keycloak_realm_current; then
    # Still starting, but with a realm file that has changed since: start again on an empty database.
    pid="$(keycloak_stop)"
    how="restarted, pid $pid stopped: keycloak/realm-export.json changed, realm imported again"
  fi
  local started=$SECONDS
  if ! running_pid keycloak "$KEYCLOAK_MARKER" >/dev/null; then
    local java_home
    java_home="$(keycloak_java_home)"
    keycloak_fetch
    keycloak_prepare_realm
    start_background keycloak env JAVA_HOME="$java_home" JAVA_OPTS_KC_HEAP="$KEYCLOAK_HEAP_OPTS" \
      KC_BOOTSTRAP_ADMIN_USERNAME="$KEYCLOAK_ADMIN_USERNAME" KC_BOOTSTRAP_ADMIN_PASSWORD="$KEYCLOAK_ADMIN_PASSWORD" \
      "$KEYCLOAK_HOME/bin/kc.sh" start-dev --http-host="$HOST" --http-port="$KEYCLOAK_PORT" --import-realm
  else
    how='was already starting'
  fi
  START_TIMEOUT="$KEYCLOAK_START_TIMEOUT" wait_started keycloak "$KEYCLOAK_MARKER" keycloak_answers ||
    die "Keycloak exited or did not serve $KEYCLOAK_ISSUER within ${KEYCLOAK_START_TIMEOUT}s, see $LOG_DIR/keycloak.log"
  report keycloak up "$KEYCLOAK_ISSUER ($how, pid $(running_pid keycloak "$KEYCLOAK_MARKER"), Keycloak $KEYCLOAK_VERSION, $((SECONDS - started))s)"
}

keycloak_down() {
  local pid
  pid="$(keycloak_stop)"
  if [[ -n $pid ]]; then
    report keycloak down "stopped (pid $pid)"
  elif keycloak_answers; then
    report keycloak left "$KEYCLOAK_ISSUER answers but was not started by scripts/infra, left alone"
  else
    rm -f "$(pid_file keycloak)"
    report keycloak down 'not running'
  fi
}

keycloak_status() {
  if keycloak_answers; then
    if keycloak_realm_current || ! running_pid keycloak "$KEYCLOAK_MARKER" >/dev/null; then
      report keycloak up "$KEYCLOAK_ISSUER"
    else
      report keycloak up "$KEYCLOAK_ISSUER (realm file changed since import: run scripts/infra/up)"
    fi
  else
    report keycloak down "$KEYCLOAK_ISSUER does not answer"
    return 1
  fi
}
