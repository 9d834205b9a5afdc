#!/usr/bin/env bash
# Builds the MinIO server that the S3 tests run against (a real S3-compatible peer, not a fake),
# from the Go module proxy at one pinned commit. The binary is cached per machine outside the
# checkout, so CI pays the build (several minutes on 2 cores) once; later runs only re-link it.
set -euo pipefail
cd "$(dirname "$0")/../.."

# MinIO publishes no semver tags, so the pin is a pseudo-version (one commit of minio/minio).
version=v0.0.0-20260212201848-7aac2a2c5b7c
cache=${PROVENANT_MINIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provenant/minio}/$version
bin=$cache/minio
link=.peers/bin/minio

mkdir -p .peers/bin
if [ ! -x "$bin" ]; then
  # A CI shell may not have the toolchain's directory on PATH; look where Go installs itself.
  command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
  if ! command -v go >/dev/null 2>&1; then
    echo "peers: minio: 'go' is not on PATH or in /usr/local/go/bin; install Go >= 1.24 to build MinIO" >&2
    exit 1
  fi
  echo "peers: minio: building github.com/minio/minio@$version with $(go version | cut -d' ' -f3) (first run on this machine: several minutes)" >&2
  start=$(date +%s)
  mkdir -p "$cache"
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  # CGO off: a static binary, and no C toolchain needed. -s -w: faster link, smaller binary.
  if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
      go install -trimpath -ldflags='-s -w' "github.com/minio/minio@$version" >&2; then
    rm -rf "$tmp"
    echo "peers: minio: BUILD FAILED (go install github.com/minio/minio@$version); the S3 tests cannot run" >&2
    exit 1
  fi
  mv -f "$tmp/minio" "$bin"
  rm -rf "$tmp"
  echo "peers: minio: built in $(( $(date +%s) - start ))s -> $bin" >&2
fi
ln -sfn "$bin" "$link"
echo "peers: minio: $link -> $bin" >&2
