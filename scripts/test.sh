#!/usr/bin/env bash
# `npm test`: installs what is missing, then runs every package's tests and the cross-service tests.
# Tests start their own nats-server (JetStream, loopback, free port) through @emoverse/testing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ONNXRUNTIME_NODE_INSTALL=skip
export EMOVERSE_SHARED="${EMOVERSE_SHARED:-$(cd .. && pwd)/shared}"
# turbo cannot hash files outside the repository: this fingerprint of the shared data (every file's path,
# size and mtime) is an EMOVERSE_* variable, which turbo.json's test task hashes, so cached test results are
# not replayed after the shared data changes.
EMOVERSE_SHARED_STAMP=$(find -L "$EMOVERSE_SHARED" -type f -printf '%P %s %T@\n' 2>/dev/null | LC_ALL=C sort | sha256sum | cut -c1-16)
export EMOVERSE_SHARED_STAMP
npx turbo run build --output-logs=errors-only
log=$(mktemp)
set +e
npx turbo run test --concurrency=1 --continue "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One closing line over every package's node:test summary (turbo replays cached packages' logs too).
awk '/:test: # pass [0-9]+$/ { p += $NF } /:test: # fail [0-9]+$/ { f += $NF }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit "$rc"
