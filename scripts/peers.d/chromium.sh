#!/usr/bin/env bash
# Installs Debian's Chromium, the real browser the status-page test drives headless (no browser
# download from anywhere else: puppeteer-core only connects to it). Installed only when missing.
set -euo pipefail
. "$(dirname "$0")/../lib/apt-peer.sh"
apt_peer chromium "chromium" "chromium fonts-dejavu-core" "Chromium (on PATH as chromium)"
