#!/usr/bin/env bash
# Installs what the tests need on a Debian machine, skipping whatever is already there
# (safe to run again and again). Called by scripts/test.sh, and so by CI.
#
# Usage: scripts/install_test_deps.sh [--with-apache-kafka] [--with-minio]
#   --with-apache-kafka   also resolve the jars of a real Apache Kafka broker
#                         (scripts/apache_kafka.sh) into .tools/kafka/lib
#   --with-minio          also build MinIO (go install, a few minutes) into .tools/bin, for
#                         running the S3 tests against it with SKB_S3_SERVER=minio
#
# Every step says what it installs; a step that fails stops the script with a message
# naming it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WITH_APACHE_KAFKA=0
WITH_MINIO=0
for arg in "$@"; do
  case "$arg" in
  --with-apache-kafka) WITH_APACHE_KAFKA=1 ;;
  --with-minio) WITH_MINIO=1 ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "install_test_deps: unknown argument: $arg (try --help)" >&2
    exit 2
    ;;
  esac
done

STEP="starting"
say() { echo "install_test_deps: $*"; }
fail() {
  echo "install_test_deps: FAILED at step '$STEP'${1:+: $1}" >&2
  exit 1
}
trap 'fail "command failed (exit $?) at line $LINENO"' ERR

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    say "not root and no sudo: apt steps will fail if a package is missing"
  fi
fi

APT_UPDATED=0
# apt_install PKG...: installs the Debian packages that are not installed yet; runs
# 'apt-get update' once, and only when something is missing.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing from apt: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q ||
      fail "apt-get update failed"
    APT_UPDATED=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" || fail "apt-get install ${missing[*]} failed"
}

# ---- Deno (pinned by the npm package in tools/deno/package.json) ----
STEP="deno"
DENO="tools/deno/node_modules/.bin/deno"
if [ -x "$DENO" ] && "$DENO" --version >/dev/null 2>&1; then
  say "deno: present ($("$DENO" --version | head -n 1))"
else
  command -v npm >/dev/null || apt_install nodejs npm
  say "installing deno with npm (tools/deno)"
  if [ -f tools/deno/package-lock.json ]; then
    (cd tools/deno && npm ci --no-audit --no-fund) || fail "npm ci in tools/deno failed"
  else
    (cd tools/deno && npm install --no-audit --no-fund) || fail "npm install in tools/deno failed"
  fi
  "$DENO" --version >/dev/null 2>&1 || fail "$DENO does not run after the install"
  say "deno: installed ($("$DENO" --version | head -n 1))"
fi

# ---- Debian packages: redis-server, kcat ----
STEP="apt packages"
apt_install redis-server kcat
say "redis-server and kcat: present"

# ---- confluent-kafka for Python (librdkafka) ----
STEP="confluent-kafka"
if python3 -c 'import confluent_kafka' >/dev/null 2>&1; then
  say "confluent-kafka: present ($(python3 -c 'import confluent_kafka; print(confluent_kafka.version())'))"
else
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  pip_flags=()
  # Debian's own python3 refuses pip installs (PEP 668) unless told otherwise.
  if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
    pip_flags+=(--break-system-packages)
  fi
  say "installing confluent-kafka with pip"
  python3 -m pip install -q "${pip_flags[@]}" confluent-kafka || fail "pip install confluent-kafka failed"
  python3 -c 'import confluent_kafka' || fail "confluent_kafka does not import after the install"
fi

# ---- kafka-python (pure Python), pinned: tests/kafka_python_admin_test.ts drives its admin client ----
STEP="kafka-python"
KAFKA_PYTHON_VERSION="3.0.12"
kafka_python_have="$(python3 -c 'import kafka; print(kafka.__version__)' 2>/dev/null || true)"
if [ "$kafka_python_have" = "$KAFKA_PYTHON_VERSION" ]; then
  say "kafka-python: present ($kafka_python_have)"
else
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  pip_flags=()
  if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
    pip_flags+=(--break-system-packages)
  fi
  say "installing kafka-python==$KAFKA_PYTHON_VERSION with pip${kafka_python_have:+ (found $kafka_python_have)}"
  python3 -m pip install -q "${pip_flags[@]}" "kafka-python==$KAFKA_PYTHON_VERSION" ||
    fail "pip install kafka-python==$KAFKA_PYTHON_VERSION failed"
  kafka_python_have="$(python3 -c 'import kafka; print(kafka.__version__)')" ||
    fail "kafka does not import after the install"
  [ "$kafka_python_have" = "$KAFKA_PYTHON_VERSION" ] ||
    fail "kafka-python is $kafka_python_have after the install, not $KAFKA_PYTHON_VERSION"
  say "kafka-python: installed ($kafka_python_have)"
fi

# ---- Java and Maven, then the Java client driver (tests/clients/java) ----
STEP="java driver"
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  apt_install openjdk-17-jdk-headless maven
fi
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[ "${java_major:-0}" -ge 17 ] 2>/dev/null || fail "Java 17 or newer is needed, found '${java_major:-none}'"
bash tests/clients/java/driver.sh --build || fail "building tests/clients/java failed"
bash tests/clients/java/driver.sh --check || fail "the Java driver does not run"
say "java driver: built"

# ---- Kafka's own command-line tools (kafka-tools from Maven Central) ----
# tests/kafka_tools.ts runs them (kafka-topics, kafka-configs, kafka-log-dirs, ...) against us.
STEP="kafka tools"
TOOLS_LIB=".tools/kafka-tools/lib"
tools_want="$(sha256sum bench/kafka-tools/pom.xml | cut -d' ' -f1)"
if [ -f "$TOOLS_LIB/.stamp" ] && [ "$(cat "$TOOLS_LIB/.stamp")" = "$tools_want" ]; then
  say "kafka tools: present ($TOOLS_LIB)"
else
  say "resolving org.apache.kafka:kafka-tools into $TOOLS_LIB with Maven"
  rm -rf "$TOOLS_LIB"
  mkdir -p "$TOOLS_LIB"
  mvn -q -B -Dstyle.color=never -f bench/kafka-tools/pom.xml dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$(pwd)/$TOOLS_LIB" || fail "Maven could not resolve kafka-tools"
  echo "$tools_want" >"$TOOLS_LIB/.stamp"
  say "kafka tools: resolved"
fi

# ---- Kafka Streams 4.4 and Kafka Connect 4.3.1 (jars from Maven Central) ----
# tests/streams_connect_test.ts runs a Streams word count (tests/clients/streams/WordCount.java,
# a single-file source program) and a distributed Connect worker with the FileStream
# connectors against us. Each pom is resolved into its own lib (their kafka-clients differ),
# again only when the pom's sha256 no longer matches the lib's stamp.
# resolve_lib NAME POM LIB: resolves POM's runtime jars into LIB unless LIB's stamp matches.
resolve_lib() {
  local name="$1" pom="$2" lib="$3" want
  want="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [ -f "$lib/.stamp" ] && [ "$(cat "$lib/.stamp")" = "$want" ]; then
    say "$name: present ($lib)"
    return 0
  fi
  say "resolving $name ($pom) into $lib with Maven"
  rm -rf "$lib"
  mkdir -p "$lib"
  if ! mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$(pwd)/$lib"; then
    rm -rf "$lib"
    fail "Maven could not resolve $pom"
  fi
  echo "$want" >"$lib/.stamp"
  say "$name: resolved"
}
STEP="kafka streams jars"
resolve_lib "kafka streams" tests/clients/streams/pom.xml .tools/streams/lib
STEP="kafka connect jars"
resolve_lib "kafka connect" tests/clients/connect/pom.xml .tools/connect/lib

# ---- Apache Kafka jars (optional) ----
if [ "$WITH_APACHE_KAFKA" -eq 1 ]; then
  STEP="apache kafka jars"
  bash scripts/apache_kafka.sh fetch || fail "resolving the Apache Kafka jars failed"
  say "apache kafka jars: present in .tools/kafka/lib"
fi

# ===================================================================================
# MORE STEPS GO HERE (drivers for other clients: Python, JS, Go, ...).
# Each step: set STEP="name", skip what is present, say what it installs, and call
# fail "message" when something goes wrong (apt_install PKG... handles Debian packages).
# ===================================================================================

# ---- JavaScript client drivers: kafkajs and @platformatic/kafka (npm, through Deno) ----
# Fetches the npm packages pinned in deno.json's imports into Deno's cache (a no-op when
# they are there already). kcat and confluent-kafka, the other drivers' clients, are above.
STEP="js client drivers"
"$DENO" cache tests/clients/kafkajs_driver.ts tests/clients/platformatic_driver.ts ||
  fail "deno cache of the JS client drivers failed"
say "js client drivers (kafkajs, @platformatic/kafka): cached"

# ---- Go, then the franz-go client driver (tests/clients/franzgo) into .tools/bin ----
# Built once, and again only when a file of tests/clients/franzgo is newer than the binary.
# The pinned franz-go needs the Go release named by the `go` line of its go.mod. A Go from
# 1.21 on fetches that toolchain from the Go module proxy by itself (GOTOOLCHAIN=auto);
# Debian's golang-go (1.19 on bookworm) predates that, so it only bootstraps: it downloads the
# toolchain module (golang.org/toolchain) into its module cache, and that Go builds the driver.
STEP="franz-go driver"
FRANZGO_DIR=tests/clients/franzgo
FRANZGO_BIN=.tools/bin/franzgo-driver
# version_ge A B: whether Go version A (1.26.0, 1.19.8, ...) is B or later.
version_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]; }
# pick_go NEED: sets GO to a command running a Go that can build modules needing Go NEED.
pick_go() {
  command -v go >/dev/null || apt_install golang-go
  local go_have toolchain dir
  go_have="$(go version | sed -n 's/^go version go\([0-9][0-9.]*\).*/\1/p')"
  GO=(env GOTOOLCHAIN=auto go)
  if ! version_ge "${go_have:-0}" 1.21; then
    toolchain="golang.org/toolchain@v0.0.1-go$1.$(go env GOHOSTOS)-$(go env GOHOSTARCH)"
    say "go ${go_have:-?} cannot switch toolchains: downloading $toolchain with it"
    dir="$(cd / && go mod download -json "$toolchain" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || fail "go mod download $toolchain failed"
    [ -f "$dir/bin/go" ] || fail "go mod download $toolchain gave no bin/go"
    # Module zips keep no file modes: make the toolchain's programs executable again.
    find "$dir/bin" "$dir/pkg/tool" -type f -exec chmod u+x {} +
    GO=(env -u GOROOT GOTOOLCHAIN=auto "$dir/bin/go")
  fi
}
go_need="$(sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' "$FRANZGO_DIR/go.mod")"
[ -n "$go_need" ] || fail "no go line in $FRANZGO_DIR/go.mod"
if [ -x "$FRANZGO_BIN" ] && [ -z "$(find "$FRANZGO_DIR" -newer "$FRANZGO_BIN" -print -quit)" ]; then
  say "franz-go driver: up to date ($FRANZGO_BIN)"
else
  pick_go "$go_need"
  mkdir -p "$(dirname "$FRANZGO_BIN")"
  franzgo_tmp="$(pwd)/$FRANZGO_BIN.tmp"
  (
    cd "$FRANZGO_DIR"
    say "building the franz-go driver with $("${GO[@]}" env GOVERSION) into $FRANZGO_BIN"
    GOFLAGS="-mod=mod -buildvcs=false" "${GO[@]}" build -trimpath -o "$franzgo_tmp" .
  ) || fail "go build in $FRANZGO_DIR failed"
  mv -f "$FRANZGO_BIN.tmp" "$FRANZGO_BIN"
  say "franz-go driver: built ($("$FRANZGO_BIN" --check))"
fi
"$FRANZGO_BIN" --check >/dev/null || fail "the franz-go driver does not run"

# ---- S3-compatible server for the s3:// log store tests: moto (PyPI) ----
# tests/servers/s3_server.ts starts `moto_server` (in memory; honours If-None-Match: *).
STEP="moto server"
if command -v moto_server >/dev/null 2>&1 && python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
  say "moto server: present ($(python3 -c 'import moto; print(moto.__version__)'))"
else
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  pip_flags=()
  if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
    pip_flags+=(--break-system-packages)
  fi
  say "installing moto[server] with pip"
  python3 -m pip install -q "${pip_flags[@]}" 'moto[server]>=5.0.20' || fail "pip install 'moto[server]' failed"
  hash -r
  command -v moto_server >/dev/null 2>&1 || fail "moto_server is not on PATH after the install"
  say "moto server: installed ($(python3 -c 'import moto; print(moto.__version__)'))"
fi

# ---- MinIO (optional, --with-minio): the S3 tests use it when SKB_S3_SERVER=minio ----
MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
if [ "$WITH_MINIO" -eq 1 ]; then
  STEP="minio"
  if [ -x .tools/bin/minio ] && .tools/bin/minio --version >/dev/null 2>&1; then
    say "minio: present (.tools/bin/minio)"
  else
    # MinIO needs a recent Go too; from the bootstrapped one, GOTOOLCHAIN=auto fetches its own.
    pick_go "$go_need"
    say "building minio with go install $MINIO_MODULE into .tools/bin (takes a few minutes)"
    mkdir -p .tools/bin
    GOBIN="$(pwd)/.tools/bin" timeout 1800 "${GO[@]}" install "$MINIO_MODULE" || fail "go install minio failed"
    .tools/bin/minio --version >/dev/null 2>&1 || fail ".tools/bin/minio does not run"
    say "minio: built (.tools/bin/minio)"
  fi
fi

STEP="done"
say "all test dependencies are present"
