#!/usr/bin/env bash
# Installs Debian's Chromium, the real browser the status-page test drives headless (no browser
# download from anywhere else: puppeteer-core only connects to it). Installed only when missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "peers: chromium: $(chromium --version 2>/dev/null | head -1) present" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "peers: chromium: chromium missing and no apt-get; install Chromium by hand (the status-page test needs it on PATH)" >&2
  exit 1
fi
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "peers: chromium: installing chromium with apt-get" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
echo "peers: chromium: $(chromium --version 2>/dev/null | head -1) installed" >&2
