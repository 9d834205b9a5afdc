#!/usr/bin/env bash
# Builds actionlint, the GitHub Actions workflow linter test/workflows/lint.test.ts runs on every
# workflow, from the Go module proxy at a pinned version; cached per machine like MinIO.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/go-peer.sh

version=v1.7.12
go_peer actionlint github.com/rhysd/actionlint/cmd/actionlint "$version" "${PROVENANT_ACTIONLINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/provenant/actionlint}/$version"
