#!/usr/bin/env bash
# Re-captures the golden codec fixtures (tests/golden/fixtures, see tests/golden/README.md):
# starts a real Apache Kafka (scripts/apache_kafka.sh), runs each client's workload
# (tests/golden/workloads/) through the recording proxy (tools/capture_proxy.ts), then keeps
# one request/response pair per client, API and version (tools/select_golden.ts).
#
# Usage: scripts/capture_golden.sh [CLIENT...]   (default: kafkajs platformatic librdkafka java)
#
# Each client runs in three modes, one capture each:
#   default  the proxy caps the versions Kafka advertises to our codec's (what our broker allows)
#   oldest   the proxy advertises only the lowest version of each API (Produce: v3); clients
#            that cannot speak a version skip or fail that step. Not for java: kafka-clients 4.x
#            refuses Metadata v0 and so does nothing at all.
#   native   no capping: the versions the client picks against Kafka itself (listed in the
#            index's "seen"; versions our codec lacks are not kept as fixtures)
# Environment: GOLDEN_KAFKA_PORT (49092), GOLDEN_PROXY_PORT (49192), GOLDEN_KEEP_CAPTURES=1 keeps
# the raw captures (printed at the end). Needs what scripts/install_test_deps.sh installs, with
# --with-apache-kafka.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
KAFKA_PORT="${GOLDEN_KAFKA_PORT:-49092}"
PROXY_PORT="${GOLDEN_PROXY_PORT:-49192}"
CLIENTS=("$@")
[ "${#CLIENTS[@]}" -gt 0 ] || CLIENTS=(kafkajs platformatic librdkafka java)
DENO="deno"
[ -x tools/deno/node_modules/.bin/deno ] && DENO="$ROOT/tools/deno/node_modules/.bin/deno"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/skb-golden.XXXXXX")"
JAVA_LIB="$ROOT/tests/clients/java/target/lib"
PROXY_PID=""

log() { echo "capture_golden: $*" >&2; }

cleanup() {
  [ -z "$PROXY_PID" ] || kill -TERM "$PROXY_PID" 2>/dev/null || true
  bash scripts/apache_kafka.sh stop "$KAFKA_PORT" >/dev/null 2>&1 || true
  if [ "${GOLDEN_KEEP_CAPTURES:-0}" = 1 ]; then log "raw captures kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Versions, for the index.
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' scripts/apache-kafka/pom.xml)"
# The npm version deno.json pins for a package ("kafkajs": "npm:kafkajs@2.2.4").
npm_version() { sed -n "s|.*\"$1\": \"npm:$1@\([^\"]*\)\".*|\1|p" deno.json; }

# capture CLIENT MODE COMMAND...: one proxy run around one workload run.
capture() {
  local client="$1" mode="$2"
  shift 2
  local out="$WORK/$client/$mode" flag=""
  mkdir -p "$WORK/$client"
  case "$mode" in oldest) flag="--oldest" ;; native) flag="--no-cap" ;; esac
  "$DENO" run -A tools/capture_proxy.ts --listen "$PROXY_PORT" --upstream "127.0.0.1:$KAFKA_PORT" \
    --out "$out" $flag >"$out.proxy.out" 2>"$out.proxy.err" &
  PROXY_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    grep -q listening "$out.proxy.out" 2>/dev/null && break
    kill -0 "$PROXY_PID" 2>/dev/null || { cat "$out.proxy.err" >&2; return 1; }
    sleep 0.1
  done
  log "$client ($mode): running the workload"
  if "$@" 2>"$out.workload.log"; then log "$client ($mode): every step worked"; else
    log "$client ($mode): some steps failed (expected in oldest mode):"
    grep '^FAIL' "$out.workload.log" | cut -c1-200 >&2 || true
  fi
  sleep 0.5
  kill -TERM "$PROXY_PID"
  wait "$PROXY_PID" || true
  PROXY_PID=""
  if [ -s "$out/findings.jsonl" ]; then
    log "$client ($mode): the proxy's rewrites found codec problems:"
    cat "$out/findings.jsonl" >&2
  fi
}

workload() { # CLIENT MODE: sets CMD to the workload's command line
  local client="$1" mode="$2" bootstrap="127.0.0.1:$PROXY_PORT" prefix="golden-$1-$2"
  local timeout_s=30
  [ "$mode" = oldest ] && timeout_s=5
  case "$client" in
  kafkajs | platformatic)
    CMD=("$DENO" run -A "tests/golden/workloads/$client.ts" --bootstrap "$bootstrap"
      --prefix "$prefix" --timeout-ms "$((timeout_s * 1000))")
    ;;
  librdkafka)
    CMD=(python3 tests/golden/workloads/librdkafka.py --bootstrap "$bootstrap" --prefix "$prefix"
      --timeout "$timeout_s")
    ;;
  java)
    CMD=(java -cp "$WORK/java-classes:$JAVA_LIB/*" GoldenWorkload --bootstrap "$bootstrap"
      --prefix "$prefix")
    ;;
  esac
}

client_version() {
  case "$1" in
  kafkajs) npm_version kafkajs ;;
  platformatic) npm_version @platformatic/kafka ;;
  librdkafka) python3 -c 'import confluent_kafka as c; print(c.libversion()[0] + " (confluent-kafka " + c.version() + ")")' ;;
  java) ls "$JAVA_LIB" | sed -n 's/^kafka-clients-\(.*\)\.jar$/\1/p' ;;
  esac
}

for c in "${CLIENTS[@]}"; do
  case "$c" in kafkajs | platformatic | librdkafka | java) ;; *)
    log "unknown client $c (kafkajs, platformatic, librdkafka, java)"
    exit 2
    ;;
  esac
done

if printf '%s\n' "${CLIENTS[@]}" | grep -qx java; then
  bash tests/clients/java/driver.sh --build
  mkdir -p "$WORK/java-classes"
  javac -nowarn -d "$WORK/java-classes" -cp "$JAVA_LIB/*" tests/golden/workloads/GoldenWorkload.java
fi

log "starting Apache Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
bash scripts/apache_kafka.sh stop "$KAFKA_PORT" >/dev/null 2>&1 || true
bash scripts/apache_kafka.sh start "$KAFKA_PORT" >/dev/null

for c in "${CLIENTS[@]}"; do
  modes=(default oldest native)
  [ "$c" = java ] && modes=(default native)
  dirs=()
  for m in "${modes[@]}"; do
    workload "$c" "$m"
    capture "$c" "$m" "${CMD[@]}"
    dirs+=(--capture "$WORK/$c/$m")
  done
  "$DENO" run -A tools/select_golden.ts --client "$c" --client-version "$(client_version "$c")" \
    --kafka-version "$KAFKA_VERSION" "${dirs[@]}" | tee "$WORK/$c/select.log"
done
"$DENO" fmt tests/golden/fixtures/index.json
log "done: tests/golden/fixtures (run: deno test -A tests/golden_test.ts)"
