#!/usr/bin/env bash
# Runs every test: installs what the tests need (skipping what is there), then
# checks formatting, lint, types and the generated codec, then `deno test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_test_deps.sh
DENO="$(pwd)/tools/deno/node_modules/.bin/deno"
export PATH="$(dirname "$DENO"):$PATH"
echo "== static checks"
"$DENO" task generate --check
"$DENO" fmt --check
"$DENO" lint
"$DENO" check main.ts mod.ts
echo "== deno test"
# Interop tests start broker processes and real clients; they run one file at a time.
exec "$DENO" test -A "$@"
