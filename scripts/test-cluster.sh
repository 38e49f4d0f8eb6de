#!/usr/bin/env bash
# `npm run test:cluster`: the three-node JetStream fault tests (*.cluster.ts: a node SIGKILLed while the
# pipeline runs, the registry's KV leader killed under gateway load, quorum loss, a node and then the trainer
# killed during training). They are kept out of
# `npm test` until they pass reliably on a 2-core machine: see issue #20's note for their state.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip
export EMOVERSE_SHARED="${EMOVERSE_SHARED:-$(cd .. && pwd)/shared}"
export EMOVERSE_TEST_SUFFIX=.cluster.ts
(cd packages/testing && node ../../scripts/run-tests.mjs src)
(cd tests && node ../scripts/run-tests.mjs platform)
(cd services/gateway && node ../../scripts/run-tests.mjs src)
(cd services/trainer && node ../../scripts/run-tests.mjs src)
