#!/usr/bin/env bash
# Installs the system packages EmoVerse needs on a fresh Debian machine, only those missing:
# nats-server (JetStream) and ffmpeg. Idempotent; needs root or sudo.
set -euo pipefail
need=()
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# openssl: the gateway's TLS/mTLS tests make a throwaway CA and certificates
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# fonts for headless chart/overlay text (vega SVG rendered by sharp's librsvg, which reads /etc/fonts)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
dpkg -s fontconfig-config >/dev/null 2>&1 || need+=(fontconfig-config)
for extra in "$@"; do dpkg -s "$extra" >/dev/null 2>&1 || need+=("$extra"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
