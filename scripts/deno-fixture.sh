#!/usr/bin/env bash
# CI: runs the fixture graph under Deno (orchestrator and stage scripts), then a no-op rerun
# that must find every stage in the store. Uses a throw-away store so CI's real cache is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."
store="$(mktemp -d)"
trap 'rm -rf "$store"' EXIT
graph=(--graph test/fixtures/basic/graph.ts --cache-dir "$store" --plain)
npx deno --version | head -1
npx deno run -A pipeline.ts "${graph[@]}"
second="$(npx deno run -A pipeline.ts "${graph[@]}")"
echo "$second"
if ! grep -q '^== cached 4$' <<<"$second"; then
  echo "deno-fixture: the rerun under Deno was not fully cached" >&2
  exit 1
fi
echo "deno-fixture: ok"
