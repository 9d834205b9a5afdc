#!/usr/bin/env bash
# Installs the peers that tests and benchmarks compare against, into .peers/ (git-ignored).
# Idempotent and cheap when nothing changed: a stamp file records what was installed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .peers
venv=.peers/venv
req=scripts/peers-requirements.txt
stamp=.peers/venv.stamp
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "peers: creating Python venv in $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
for extra in scripts/peers.d/*.sh; do
  [ -e "$extra" ] && bash "$extra"
done
exit 0
