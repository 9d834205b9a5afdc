# Sourced by scripts/peers.d/*.sh: builds a Go program with `go install` at a pinned version into
# a per-machine cache outside the checkout (CI pays a build once; later runs only re-link), then
# links it as .peers/bin/<name>. Run from the checkout root.
# Usage: go_peer NAME MODULE/PATH VERSION CACHE_DIR
go_peer() {
  local name=$1 pkg=$2 version=$3 cache=$4
  local bin=$cache/$name link=.peers/bin/$name
  mkdir -p .peers/bin
  if [ ! -x "$bin" ]; then
    # A CI shell may not have the toolchain's directory on PATH; look where Go installs itself.
    command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
    if ! command -v go >/dev/null 2>&1; then
      echo "peers: $name: 'go' is not on PATH or in /usr/local/go/bin; install Go >= 1.24 to build $name" >&2
      return 1
    fi
    echo "peers: $name: building $pkg@$version with $(go version | cut -d' ' -f3)" >&2
    local start tmp
    start=$(date +%s)
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/.build.XXXXXX")
    # CGO off: a static binary, and no C toolchain needed. -s -w: faster link, smaller binary.
    if ! GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
        go install -trimpath -ldflags='-s -w' "$pkg@$version" >&2; then
      rm -rf "$tmp"
      echo "peers: $name: BUILD FAILED (go install $pkg@$version); the tests that need it cannot run" >&2
      return 1
    fi
    mv -f "$tmp/$name" "$bin"
    rm -rf "$tmp"
    echo "peers: $name: built in $(( $(date +%s) - start ))s -> $bin" >&2
  fi
  ln -sfn "$bin" "$link"
  echo "peers: $name: $link -> $bin" >&2
}
