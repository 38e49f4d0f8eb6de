#!/usr/bin/env bash
# Installs the system packages EmoVerse needs on a fresh Debian machine, only those missing:
# nats-server (JetStream), ffmpeg, chromium, and Go with the libraries the chart renderer needs. Idempotent; needs root
# or sudo.
set -euo pipefail
need=()
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# openssl: the gateway's TLS/mTLS tests make a throwaway CA and certificates
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# fonts for headless chart/overlay text (vega SVG rendered by sharp's librsvg, which reads /etc/fonts)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
dpkg -s fontconfig-config >/dev/null 2>&1 || need+=(fontconfig-config)
# chromium: the gateway's playground spec drives Debian's headless browser (puppeteer-core downloads none)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Go and the Debian-packaged Go libraries deploy/tools/chart-template builds from, offline (GOPATH mode):
# it renders the Helm chart's real templates (text/template + sprig) for packages/k8s's equality tests.
for pkg in golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev \
  golang-github-xeipuuv-gojsonschema-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
for extra in "$@"; do dpkg -s "$extra" >/dev/null 2>&1 || need+=("$extra"); done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
