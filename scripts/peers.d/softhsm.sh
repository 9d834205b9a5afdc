#!/usr/bin/env bash
# Installs SoftHSM2 (a real PKCS#11 token in software) and OpenSC's pkcs11-tool, the peers the
# PKCS#11 signer tests run against. Debian packages, installed only when missing; tests make
# their own token per test through SOFTHSM2_CONF, so nothing here is per-checkout state.
set -euo pipefail
. "$(dirname "$0")/../lib/apt-peer.sh"
apt_peer softhsm "softhsm2-util pkcs11-tool" "softhsm2 opensc" "SoftHSM 2.6 and OpenSC"
