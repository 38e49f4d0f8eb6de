#!/usr/bin/env bash
# `npm run demo [-- --quick]`: installs what is missing (scripts/setup.sh), then runs the whole pipeline on a
# local stack: nats-server with JetStream and the five services as separate processes, EMT from MELD + ECF,
# sample videos through frame-extractor and au-scorer, M2SE training of emoverse-nano via the trainer,
# the five tasks through the gateway, an evaluation table, and a report under results/demo/.
# Data comes from EMOVERSE_SHARED (default: ../shared beside the clone). Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip
export EMOVERSE_SHARED="${EMOVERSE_SHARED:-$(cd .. && pwd)/shared}"
if [ ! -d "$EMOVERSE_SHARED/data" ]; then
  echo "demo: no data folder at $EMOVERSE_SHARED (set EMOVERSE_SHARED to the folder that holds data/)" >&2
  exit 2
fi
bash scripts/setup.sh
# The gateway's playground page (served at the printed URL) is bundled by esbuild.
node --import tsx services/gateway/scripts/build-playground.ts >/dev/null
# exec: the demo's node process receives Ctrl-C itself and shuts the stack down.
exec node --import tsx --conditions=source packages/demo/src/main.ts "$@"
