#!/usr/bin/env bash
# `npm test`: installs what is missing, then runs every package's tests and the cross-service tests.
# Tests start their own nats-server (JetStream, loopback, free port) through @emoverse/testing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ONNXRUNTIME_NODE_INSTALL=skip
export EMOVERSE_SHARED="${EMOVERSE_SHARED:-$(cd .. && pwd)/shared}"
npx turbo run build --output-logs=errors-only
npx turbo run test --concurrency=1 --continue=never "$@"
