# Sourced by scripts/peers.d/*.sh: installs Debian packages a test peer needs, only when one of
# its commands is missing. Usage: apt_peer NAME "COMMAND…" "PACKAGE…" "what to install by hand"
apt_peer() {
  local name=$1 commands=$2 packages=$3 manual=$4 missing=
  for c in $commands; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
  if [ -z "$missing" ]; then
    echo "peers: $name: $commands present" >&2
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "peers: $name:$missing missing and no apt-get; install $manual by hand" >&2
    return 1
  fi
  local sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "peers: $name: installing $packages with apt-get" >&2
  $sudo apt-get update -qq >&2 || return 1
  # shellcheck disable=SC2086 # a list of package names
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $packages >&2 || return 1
  for c in $commands; do
    command -v "$c" >/dev/null 2>&1 || { echo "peers: $name: $c still missing after installing $packages" >&2; return 1; }
  done
  echo "peers: $name: $packages installed" >&2
}
