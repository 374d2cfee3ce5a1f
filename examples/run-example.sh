#!/usr/bin/env bash
# Run examples/testcontainers-vitest the way a user would: rctl installed from `npm pack` output
# (not from src/), then `tsc --noEmit` (the type test of the published .d.ts) and `vitest run`.
#   bash examples/run-example.sh [example dir]     (KEEP=1 keeps the temp dir, FRESH=1 see below)
# (Here, not in scripts/: scripts/ is published with the package, this is for the repo's CI only.)
# The example's dependencies are the repo's own dev dependencies. Measured on 2 cores: a clean
# `npm install --prefer-offline` (all from npm's cache) takes ~27 s; starting from a copy of the
# repo's node_modules, which npm then prunes to exactly the example's tree (rctl added from the
# tarball, the repo's other dev tools removed), ~6 s. FRESH=1 skips the copy.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
example="${1:-$repo/examples/testcontainers-vitest}"
work="$(mktemp -d "${TMPDIR:-/tmp}/rctl-example-XXXXXX")"
cleanup() { if [ "${KEEP:-}" = 1 ]; then echo "run-example: kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
say() { printf 'run-example: %s (%ss)\n' "$*" "$SECONDS"; }

say "building and packing rctl"
(cd "$repo" && npm run --silent build >/dev/null)
# The build just ran: --ignore-scripts keeps `prepare` from building a second time.
tarball="$(cd "$repo" && npm pack --ignore-scripts --silent --pack-destination "$work")"
cp -R "$example/." "$work/app"
mv "$work/$tarball" "$work/app/rctl.tgz"
rm -rf "$work/app/node_modules" "$work/app/package-lock.json"

say "installing the example's dependencies"
# A real copy, not hard links: npm must never write through to the repo's files.
if [ "${FRESH:-}" != 1 ] && [ -d "$repo/node_modules" ]; then cp -a "$repo/node_modules" "$work/app/node_modules"; fi
(cd "$work/app" && npm install --prefer-offline --no-audit --no-fund --loglevel=error)

say "type test: tsc --noEmit"
(cd "$work/app" && npx tsc --noEmit)

say "vitest run"
(cd "$work/app" && TESTCONTAINERS_RYUK_DISABLED="${TESTCONTAINERS_RYUK_DISABLED:-true}" npx vitest run)
say "done"
