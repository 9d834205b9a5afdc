#!/usr/bin/env bash
# Installs SoftHSM2 (a real PKCS#11 token in software) and OpenSC's pkcs11-tool, the peers the
# PKCS#11 signer tests run against. Debian packages, installed only when missing; tests make
# their own token per test through SOFTHSM2_CONF, so nothing here is per-checkout state.
set -euo pipefail
if command -v softhsm2-util >/dev/null 2>&1 && command -v pkcs11-tool >/dev/null 2>&1; then
  echo "peers: softhsm: $(softhsm2-util --version) and pkcs11-tool present" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "peers: softhsm: softhsm2-util or pkcs11-tool missing and no apt-get; install SoftHSM 2.6 and OpenSC by hand" >&2
  exit 1
fi
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "peers: softhsm: installing softhsm2 and opensc with apt-get" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends softhsm2 opensc >&2
echo "peers: softhsm: $(softhsm2-util --version) installed" >&2
