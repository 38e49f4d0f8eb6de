#!/usr/bin/env bash
# Mesa's software Vulkan driver (lavapipe) from Debian bookworm-backports, unpacked into a
# cache folder, so ONNX Runtime's WebGPU EP (Dawn over Vulkan) runs on machines without a GPU.
# Debian 12's own Mesa 22.3 is too old for Dawn; bookworm-backports has Mesa 25.x.
#
# bookworm-backports is not in the machine's apt sources and this script leaves them alone:
# it uses a private apt configuration (its own sources list and lists folder) only to
# `apt-get download` the .deb files, then `dpkg -x` unpacks them. Nothing is installed.
#
# Usage: eval "$(bash scripts/setup-lavapipe.sh)"     (prints export lines)
#        bash scripts/setup-lavapipe.sh --env-file     (prints the path of a file to source)
# The cache folder is $EMOVERSE_LAVAPIPE_DIR (default ~/.cache/emoverse/lavapipe). Re-running
# with a complete cache downloads nothing.
set -euo pipefail
CACHE="${EMOVERSE_LAVAPIPE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/emoverse/lavapipe}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
ARCH="$(dpkg --print-architecture)"
MULTIARCH="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)"
ROOT="$CACHE/root"
ENV_FILE="$CACHE/env.sh"
log() { echo "setup-lavapipe: $*" >&2; }

if [ ! -f "$CACHE/.complete" ]; then
  mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial" "$CACHE/apt/sources.list.d" "$CACHE/debs"
  # Backports for Mesa and the libdrm it needs; bookworm itself for the Vulkan loader, in case
  # the machine lacks libvulkan1.
  cat > "$CACHE/apt/sources.list" <<SOURCES
deb $MIRROR bookworm-backports main
deb $MIRROR bookworm main
SOURCES
  APT_OPTS=(
    -o "Dir::Etc::SourceList=$CACHE/apt/sources.list"
    -o "Dir::Etc::SourceParts=$CACHE/apt/sources.list.d"
    -o "Dir::State::Lists=$CACHE/apt/lists"
    -o "Dir::Cache=$CACHE/apt/cache"
    -o "APT::Default-Release=bookworm-backports"
    -o "Debug::NoLocking=1"
  )
  # The _apt sandbox user cannot write into a private folder under $HOME.
  [ "$(id -u)" -eq 0 ] && APT_OPTS+=(-o "APT::Sandbox::User=root")
  log "apt-get update (private lists in $CACHE/apt)"
  apt-get "${APT_OPTS[@]}" update -qq >&2
  # Mesa 25 and the newer libdrm it needs, plus any other direct dependency the machine lacks
  # (libLLVM, libvulkan1, X/Wayland client libraries on a minimal image).
  PKGS=(mesa-vulkan-drivers libdrm2 libdrm-amdgpu1)
  for dep in $(apt-cache "${APT_OPTS[@]}" depends mesa-vulkan-drivers 2>/dev/null | sed -n 's/^ *Depends: \([a-z0-9][a-z0-9.+-]*\)$/\1/p' | sort -u); do
    case " ${PKGS[*]} " in *" $dep "*) continue ;; esac
    dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "install ok installed" || PKGS+=("$dep")
  done
  log "downloading ${PKGS[*]}"
  (cd "$CACHE/debs" && apt-get "${APT_OPTS[@]}" download "${PKGS[@]}" >&2)
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  for deb in "$CACHE"/debs/*.deb; do dpkg -x "$deb" "$ROOT"; done
  ICD_SRC="$(ls "$ROOT"/usr/share/vulkan/icd.d/lvp_icd*.json | head -n1)"
  LIB_DIR="$ROOT/usr/lib/$MULTIARCH"
  # The packaged ICD names the driver by its system path; point it into the cache.
  sed "s#\"library_path\": *\"[^\"]*libvulkan_lvp.so\"#\"library_path\": \"$LIB_DIR/libvulkan_lvp.so\"#" "$ICD_SRC" > "$CACHE/lvp_icd.json"
  cat > "$ENV_FILE" <<ENV
export VK_ICD_FILENAMES="$CACHE/lvp_icd.json"
export VK_DRIVER_FILES="$CACHE/lvp_icd.json"
export LD_LIBRARY_PATH="$LIB_DIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export XDG_RUNTIME_DIR="\${XDG_RUNTIME_DIR:-/tmp}"
ENV
  MESA_VERSION="$(dpkg-deb -f "$(ls "$CACHE"/debs/mesa-vulkan-drivers_*.deb | head -n1)" Version)"
  echo "$MESA_VERSION" > "$CACHE/.complete"
  log "lavapipe from Mesa $MESA_VERSION is in $CACHE"
fi

if [ "${1:-}" = "--env-file" ]; then
  echo "$ENV_FILE"
else
  cat "$ENV_FILE"
fi
