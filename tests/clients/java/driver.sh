#!/usr/bin/env bash
# Runs the Kafka Java client driver (src/main/java/dev/skb/Driver.java, see ../CONTRACT.md),
# building it first with Maven when target/ is missing or older than the sources.
#
# Usage: tests/clients/java/driver.sh produce|consume|offsets --bootstrap HOST:PORT ... 
#        tests/clients/java/driver.sh --check     (build if needed, then check the client loads)
#        tests/clients/java/driver.sh --build     (build if needed, nothing else)
# Stdout carries only the driver's JSON lines; the build's output goes to stderr.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGET="$HERE/target"
STAMP="$TARGET/.built"

needs_build() {
  [ -f "$STAMP" ] && [ -d "$TARGET/classes" ] && [ -d "$TARGET/lib" ] || return 0
  [ -n "$(find "$HERE/pom.xml" "$HERE/src" -newer "$STAMP" -print -quit)" ]
}

if needs_build; then
  mkdir -p "$TARGET"
  exec 9>"$TARGET/.build.lock"
  flock 9 # parallel callers wait for one build
  if needs_build; then
    command -v mvn >/dev/null || { echo "java driver: mvn not found (install Maven)" >&2; exit 2; }
    echo "java driver: building with Maven" >&2
    rm -rf "$TARGET/lib" "$STAMP"
    if ! mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" -DskipTests package \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$TARGET/lib" >&2; then
      echo "java driver: the Maven build failed (see above)" >&2
      exit 2
    fi
    touch "$STAMP"
  fi
  exec 9>&-
fi

[ "${1:-}" = "--build" ] && exit 0
exec java -Xss1m -XX:+UseSerialGC -cp "$TARGET/classes:$TARGET/lib/*" dev.skb.Driver "$@"
