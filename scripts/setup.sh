#!/usr/bin/env bash
# Everything a fresh clone needs before it runs: system packages, node modules, generated code.
set -euo pipefail
cd "$(dirname "$0")/.."
# onnxruntime-node's postinstall downloads binaries, which fails offline; the npm package already has linux-x64.
export ONNXRUNTIME_NODE_INSTALL=skip
bash scripts/setup-system.sh "$@"
if [ ! -d node_modules/.bin ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npx turbo run codegen --output-logs=errors-only
