#!/usr/bin/env bash
# Offline build of vcsim-ext from Debian's govmomi 0.24.2 (GOPATH mode, no module downloads).
# Skipped when a hash of our sources, the installed govmomi version and the Go version matches
# the stamp of the last good build; a binary built from the same hash by another checkout is taken from
# the machine's build cache (infra/build_cache.sh). Usage: infra/vcsim/build.sh [--force]
# SECUREMODE_VCSIM_BUILD_DIR=DIR builds into DIR (and securemode.infra.vcsim runs DIR/bin/vcsim-ext) instead of .build/vcsim.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="${SECUREMODE_VCSIM_BUILD_DIR:-$ROOT/.build/vcsim}"  # another folder: a private build, e.g. to test a change
BIN="$OUT/bin/vcsim-ext"
STAMP="$OUT/build.stamp"
# shellcheck source=../build_cache.sh
. "$HERE/../build_cache.sh"
fail() { printf 'vcsim build: FAILED: %s\n' "$*" >&2; exit 1; }
say() { printf 'vcsim build: %s\n' "$*" >&2; }

command -v go >/dev/null || fail "go not found (apt-get install golang-go)"
govmomi_version="$(dpkg-query -W -f='${Version}' golang-github-vmware-govmomi-dev 2>/dev/null)" \
  || fail "golang-github-vmware-govmomi-dev is not installed"
case "$govmomi_version" in 0.24.2*) ;; *) fail "govmomi $govmomi_version installed; the patches expect 0.24.2";; esac

want="$( {
  printf '%s\n%s\n' "$govmomi_version" "$(go version)"
  cd "$HERE" && find go ext patch_sources.py build.sh -type f \( -name '*.go' -o -name '*.py' -o -name '*.sh' \) \
    -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
} | sha256sum | cut -d' ' -f1)"

if [ "${1:-}" != "--force" ] && [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  say "up to date ($BIN)"
  exit 0
fi

rm -f "$STAMP"
if [ "${1:-}" != "--force" ] && cache_restore vcsim "$want" "$OUT/bin" && [ -x "$BIN" ]; then
  echo "$want" > "$STAMP"
  say "up to date ($BIN, from the build cache)"
  exit 0
fi
mkdir -p "$OUT/bin" "$OUT/overlay" "$ROOT/.build/gocache"
overlay="$(python3 "$HERE/patch_sources.py" "$OUT/overlay")" || fail "patching govmomi sources"

export GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= GOENV=off CGO_ENABLED=0 \
  GOCACHE="$ROOT/.build/gocache" GOTMPDIR="" HOME="$OUT"
start=$(date +%s%N)
( cd "$HERE/go" && go build -trimpath -overlay "$overlay" -o "$BIN.tmp" . ) || fail "go build"
mv -f "$BIN.tmp" "$BIN"
echo "$want" > "$STAMP"
cache_store vcsim "$want" "$OUT/bin"
say "built $BIN in $(( ($(date +%s%N) - start) / 1000000 )) ms"
