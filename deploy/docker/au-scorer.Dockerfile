# syntax=docker/dockerfile:1
# au-scorer: build from the repository root, e.g.
#   docker build -f deploy/docker/au-scorer.Dockerfile -t registry.example.com/emoverse/au-scorer:0.1.0 .
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install the workspace, build au-scorer and the packages it imports, then drop dev dependencies
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# onnxruntime-node's postinstall would download binaries; the npm package already carries linux-x64.
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY proto/ proto/
COPY packages/ packages/
COPY services/ services/
COPY tests/package.json tests/package.json
RUN npm ci --no-audit --no-fund
RUN npx turbo run build --filter=@emoverse/au-scorer...
# Production dependencies only; onnxruntime-node ships every platform (288 MB), Linux x64 needs
# bin/napi-v6/linux/x64 only.
RUN npm prune --omit=dev --no-audit --no-fund \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} + \
 && find node_modules/onnxruntime-node/bin/napi-v6/linux -mindepth 1 -maxdepth 1 ! -name x64 -exec rm -rf {} +
# What the image needs: node_modules (workspace links point into packages/ and services/), every
# workspace's package.json, and the built dist/ folders.
RUN mkdir -p /out \
 && cp -a package.json node_modules /out/ \
 && for d in packages/* services/*; do \
      mkdir -p "/out/$d" && cp "$d/package.json" "/out/$d/" && if [ -d "$d/dist" ]; then cp -a "$d/dist" "/out/$d/"; fi; \
    done \
 && test -f /out/services/au-scorer/dist/main.js

# ---- runtime: Node 20 slim, non-root (uid 10001, as the chart's securityContext expects)
FROM ${NODE_IMAGE} AS runtime
# ffmpeg decodes video frames; tini reaps child processes and forwards SIGTERM.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 emoverse \
 && useradd --system --uid 10001 --gid emoverse --home-dir /app --no-create-home emoverse
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /out/ ./
USER 10001:10001
EXPOSE 50053 9464
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "services/au-scorer/dist/main.js"]
