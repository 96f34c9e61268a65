#!/usr/bin/env bash
# Runs a real single-node Apache Kafka 4.x broker (KRaft, combined broker+controller) on
# 127.0.0.1, from the Maven Central jars pinned in scripts/apache-kafka/pom.xml. The jars are
# resolved once into .tools/kafka/lib (git-ignored); every start gets a fresh temporary data dir.
#
# Usage:
#   scripts/apache_kafka.sh [start] [PORT]   start on 127.0.0.1:PORT (default 19092); waits until
#                                            the port accepts connections (60 s at most), then
#                                            prints the broker's PID (the only line on stdout)
#   scripts/apache_kafka.sh stop [PORT]      stop the broker started on PORT, delete its data dir
#   scripts/apache_kafka.sh status [PORT]    print "running PID DIR" (exit 0) or "stopped" (exit 1)
#   scripts/apache_kafka.sh fetch            only resolve the jars (needs Maven and Java 17+)
#
# The controller listens on the first free loopback port above PORT (or on
# $KAFKA_CONTROLLER_PORT). Heap: $KAFKA_HEAP_OPTS (default "-Xmx1g -Xms256m").
# Opt-in security listeners (tests/security_kafka_reference_test.ts): with KAFKA_SASL_SSL_PORT
# and/or KAFKA_SSL_PORT set, and KAFKA_TLS_CERT, KAFKA_TLS_KEY (unencrypted PKCS#8), KAFKA_TLS_CA
# PEM files, the broker also listens on SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) and SSL
# (client certificate required) on 127.0.0.1; KAFKA_SCRAM_USERS="name:password,..." are created
# at format time (kafka-storage --add-scram) for both SCRAM mechanisms and accepted by PLAIN.
# The broker's log is server.log in its data dir (shown by `status`); the pid file and the data
# dir's location are kept in .tools/kafka/run/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
POM="$ROOT/scripts/apache-kafka/pom.xml"
TOOLS="$ROOT/.tools/kafka"
LIB="$TOOLS/lib"
RUN="$TOOLS/run"
WAIT_SECONDS=60

log() { echo "apache_kafka: $*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

# Resolves the broker's jars into $LIB unless they match the current pom already.
fetch() {
  command -v java >/dev/null || die "java not found (Kafka 4.x needs Java 17+)"
  mkdir -p "$TOOLS"
  local want
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  exec 9>"$TOOLS/.fetch.lock"
  flock 9
  if [ -f "$LIB/.stamp" ] && [ "$(cat "$LIB/.stamp")" = "$want" ]; then
    exec 9>&-
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (install Maven to fetch the Kafka jars)"
  log "resolving the Apache Kafka jars into .tools/kafka/lib"
  rm -rf "$LIB"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB" >&2; then
    rm -rf "$LIB"
    die "Maven could not resolve the Kafka jars (see above)"
  fi
  echo "$want" >"$LIB/.stamp"
  exec 9>&-
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# True when $1 is a live process of a broker this script started.
is_our_broker() {
  local pid="$1"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka'
}

pidfile_for() { echo "$RUN/kafka-$1.pid"; }

# Reads "PID DIR" from the pid file of port $1 into PID and DIR (empty when absent).
read_pidfile() {
  PID=""
  DIR=""
  local f
  f="$(pidfile_for "$1")"
  if [ -f "$f" ]; then read -r PID DIR <"$f" || true; fi
}

check_port() {
  [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ] || die "bad port: $1"
}

stop() {
  local port="$1"
  read_pidfile "$port"
  if [ -z "$PID" ]; then
    log "no broker recorded on port $port"
    return 0
  fi
  if is_our_broker "$PID"; then
    log "stopping broker $PID (port $port)"
    kill -TERM "$PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 300; i++)); do
      is_our_broker "$PID" || break
      sleep 0.1
    done
    if is_our_broker "$PID"; then
      log "broker $PID did not stop within 30 s; killing it"
      kill -KILL "$PID" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  # Only ever delete a directory this script made.
  case "$DIR" in
  */skb-apache-kafka.*) rm -rf "$DIR" ;;
  esac
  rm -f "$(pidfile_for "$port")"
  log "stopped"
}

status() {
  local port="$1"
  read_pidfile "$port"
  if [ -n "$PID" ] && is_our_broker "$PID"; then
    echo "running $PID $DIR"
  else
    echo "stopped"
    return 1
  fi
}

# A PEM file as one properties value (newlines escaped), for the PEM-string SSL settings.
pem_value() {
  [ -r "$1" ] || die "cannot read $1"
  awk 'BEGIN { ORS = "" } NR > 1 { print "\\n" } { print }' "$1"
}

# The server.properties lines of the opt-in security listeners (see the header).
security_properties() {
  local port="$1" cport="$2" listeners="PLAINTEXT://127.0.0.1:$port" jaas_plain="" entry
  [ -n "${KAFKA_TLS_CERT:-}" ] && [ -n "${KAFKA_TLS_KEY:-}" ] && [ -n "${KAFKA_TLS_CA:-}" ] ||
    die "security listeners need KAFKA_TLS_CERT, KAFKA_TLS_KEY and KAFKA_TLS_CA"
  [ -n "${KAFKA_SASL_SSL_PORT:-}" ] && listeners+=",SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT"
  [ -n "${KAFKA_SSL_PORT:-}" ] && listeners+=",SSL://127.0.0.1:$KAFKA_SSL_PORT"
  IFS=',' read -r -a users <<<"${KAFKA_SCRAM_USERS:-}"
  for entry in "${users[@]}"; do jaas_plain+=" user_${entry%%:*}=\"${entry#*:}\""; done
  echo "listeners=$listeners,CONTROLLER://127.0.0.1:$cport"
  echo "advertised.listeners=$listeners"
  echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL"
  echo "sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN"
  echo "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$jaas_plain;"
  echo "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
  echo "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
  echo "listener.name.ssl.ssl.client.auth=required"
  echo "ssl.keystore.type=PEM"
  echo "ssl.keystore.certificate.chain=$(pem_value "$KAFKA_TLS_CERT")"
  echo "ssl.keystore.key=$(pem_value "$KAFKA_TLS_KEY")"
  echo "ssl.truststore.type=PEM"
  echo "ssl.truststore.certificates=$(pem_value "$KAFKA_TLS_CA")"
}

start() {
  local port="$1"
  read_pidfile "$port"
  if [ -n "$PID" ] && is_our_broker "$PID"; then
    die "a broker is already running on port $port (pid $PID); run: scripts/apache_kafka.sh stop $port"
  fi
  [ -z "$PID" ] || stop "$port" # stale pid file: clean up its data dir
  port_open "$port" && die "port $port on 127.0.0.1 is already in use"

  local cport="${KAFKA_CONTROLLER_PORT:-}"
  if [ -z "$cport" ]; then
    cport=$((port + 1))
    while port_open "$cport"; do cport=$((cport + 1)); done
  fi
  check_port "$cport"

  fetch
  mkdir -p "$RUN"
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/skb-apache-kafka.XXXXXX")"

  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF

  local -a scram=()
  if [ -n "${KAFKA_SASL_SSL_PORT:-}${KAFKA_SSL_PORT:-}" ]; then
    security_properties "$port" "$cport" >>"$dir/server.properties"
    local entry
    IFS=',' read -r -a users <<<"${KAFKA_SCRAM_USERS:-}"
    for entry in "${users[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=${entry%%:*},password=${entry#*:}]"
        --add-scram "SCRAM-SHA-256=[name=${entry%%:*},password=${entry#*:}]")
    done
  fi

  cat >"$dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = org.apache.kafka
logger.kafka.level = INFO
EOF

  local -a jvm
  read -r -a jvm <<<"${KAFKA_HEAP_OPTS:--Xmx1g -Xms256m}"
  jvm+=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" "-Dkafka.logs.dir=$dir"
    -cp "$LIB/*")

  # A cluster id is 16 random bytes in URL-safe base64 without padding.
  local cluster_id
  cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  if ! java "${jvm[@]}" kafka.tools.StorageTool format --cluster-id="$cluster_id" \
    -c "$dir/server.properties" "${scram[@]}" >"$dir/format.log" 2>&1; then
    cat "$dir/format.log" >&2
    rm -rf "$dir"
    die "formatting the KRaft storage failed"
  fi

  nohup java "${jvm[@]}" kafka.Kafka "$dir/server.properties" \
    </dev/null >"$dir/stdout.log" 2>&1 &
  local pid=$!
  echo "$pid $dir" >"$(pidfile_for "$port")"
  log "broker pid $pid, controller port $cport, data dir $dir"

  local deadline=$((SECONDS + WAIT_SECONDS))
  until port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$dir/stdout.log" "$dir/server.log" >&2 2>/dev/null || true
      stop "$port"
      die "the broker exited during startup (log above)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 40 "$dir/stdout.log" "$dir/server.log" >&2 2>/dev/null || true
      stop "$port"
      die "the broker did not accept connections on 127.0.0.1:$port within ${WAIT_SECONDS} s"
    fi
    sleep 0.2
  done
  # The port opens at the end of startup; wait briefly for the "started" line as well.
  until grep -q 'Kafka Server started' "$dir/server.log" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.2
  done
  log "Apache Kafka is up on 127.0.0.1:$port"
  echo "$pid"
}

cmd="${1:-start}"
case "$cmd" in
start | stop | status)
  port="${2:-19092}"
  ;;
fetch) ;;
[0-9]*)
  port="$cmd"
  cmd=start
  ;;
-h | --help | help)
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 0
  ;;
*) die "unknown command: $cmd (try --help)" ;;
esac

case "$cmd" in
fetch) fetch ;;
start)
  check_port "$port"
  start "$port"
  ;;
stop)
  check_port "$port"
  stop "$port"
  ;;
status)
  check_port "$port"
  status "$port"
  ;;
esac
