#!/usr/bin/env bash
# Installs actionlint (the GitHub Actions workflow linter the workflow tests run) from the Go
# module proxy at a pinned version. Cached per machine outside the checkout like MinIO; the
# checkout only gets a symlink in .peers/bin.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=v1.7.12
cache=${PROVENANT_ACTIONLINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provenant/actionlint}/$version
bin=$cache/actionlint
link=.peers/bin/actionlint

mkdir -p .peers/bin
if [ ! -x "$bin" ]; then
  command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
  if ! command -v go >/dev/null 2>&1; then
    echo "peers: actionlint: 'go' is not on PATH or in /usr/local/go/bin; install Go >= 1.24" >&2
    exit 1
  fi
  echo "peers: actionlint: building github.com/rhysd/actionlint/cmd/actionlint@$version" >&2
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
      go install -trimpath -ldflags='-s -w' "github.com/rhysd/actionlint/cmd/actionlint@$version" >&2; then
    rm -rf "$tmp"
    echo "peers: actionlint: BUILD FAILED (go install ...actionlint@$version); the workflow tests cannot run" >&2
    exit 1
  fi
  mv -f "$tmp/actionlint" "$bin"
  rm -rf "$tmp"
fi
ln -sfn "$bin" "$link"
echo "peers: actionlint: $link -> $bin" >&2
