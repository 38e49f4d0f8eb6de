# syntax=docker/dockerfile:1
# trainer for NVIDIA GPU nodes: both ONNX Runtime GPU execution providers work in this image.
# - CUDA EP: libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so from the NuGet package
#   Microsoft.ML.OnnxRuntime.Gpu.Linux of the same version as onnxruntime-node, placed beside
#   libonnxruntime.so in onnxruntime-node's bin/napi-v6/linux/x64; CUDA 12 and cuDNN 9 from the base image.
# - WebGPU EP (onnxruntime-node's own build, Dawn over Vulkan): the Vulkan loader (libvulkan1) here, the
#   driver's ICD mounted by the NVIDIA container toolkit (NVIDIA_DRIVER_CAPABILITIES includes graphics).
#   docker build -f deploy/docker/trainer-gpu.Dockerfile -t registry.example.com/emoverse/trainer:0.1.0-gpu .
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
ARG ORT_VERSION=1.30.0
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install the workspace, build trainer and the packages it imports, then drop dev dependencies
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
RUN npx turbo run build --filter=@emoverse/trainer...
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
 && test -f /out/services/trainer/dist/main.js

# ---- the CUDA EP libraries from the NuGet package (a .nupkg is a zip)
FROM ${NODE_IMAGE} AS ort-cuda
ARG ORT_VERSION
ARG NUGET_FLAT_CONTAINER=https://api.nuget.org/v3-flatcontainer
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL -o /tmp/ort.nupkg \
      "$NUGET_FLAT_CONTAINER/microsoft.ml.onnxruntime.gpu.linux/$ORT_VERSION/microsoft.ml.onnxruntime.gpu.linux.$ORT_VERSION.nupkg" \
 && mkdir -p /ort \
 && unzip -j /tmp/ort.nupkg \
      runtimes/linux-x64/native/libonnxruntime_providers_cuda.so \
      runtimes/linux-x64/native/libonnxruntime_providers_shared.so -d /ort \
 && rm /tmp/ort.nupkg

# ---- Node's binary, copied onto the CUDA base
FROM ${NODE_IMAGE} AS node

# ---- runtime: CUDA 12 + cuDNN 9, Node 20, the Vulkan loader, non-root
FROM ${CUDA_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends libvulkan1 tini \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN groupadd --system --gid 10001 emoverse \
 && useradd --system --uid 10001 --gid emoverse --home-dir /app --no-create-home emoverse
WORKDIR /app
# The NVIDIA container toolkit mounts the driver's Vulkan ICD only with `graphics`: WebGPU (Dawn over
# Vulkan) needs it; the CUDA EP needs compute and utility.
ENV NODE_ENV=production \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics \
    NVIDIA_VISIBLE_DEVICES=all \
    XDG_RUNTIME_DIR=/tmp
COPY --from=build /out/ ./
COPY --from=ort-cuda /ort/ node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
USER 10001:10001
EXPOSE 50055 9464
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "services/trainer/dist/main.js"]
