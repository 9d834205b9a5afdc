#!/usr/bin/env bash
# Builds the MinIO server that the S3 tests run against (a real S3-compatible peer, not a fake),
# from the Go module proxy at one pinned commit. The binary is cached per machine outside the
# checkout, so CI pays the build (several minutes on 2 cores) once; later runs only re-link it.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/go-peer.sh

# MinIO publishes no semver tags, so the pin is a pseudo-version (one commit of minio/minio).
version=v0.0.0-20260212201848-7aac2a2c5b7c
go_peer minio github.com/minio/minio "$version" "${PROVENANT_MINIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provenant/minio}/$version"
