#!/usr/bin/env bash
# MITRE's assessor tools from npm, for the tests that prove our HDF: the SAF CLI and the Heimdall Lite
# static build. Installed locally into .build/npm (never globally); a stamp makes a second run a no-op, and
# the same versions installed by another checkout are taken from the machine's build cache (../build_cache.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEST="$ROOT/.build/npm"
PACKAGES=("@mitre/saf@1.5.3" "@mitre/heimdall-lite@2.12.6")
say() { printf 'assessor-tools: %s\n' "$*" >&2; }
# shellcheck source=../build_cache.sh
. "$ROOT/infra/build_cache.sh"

if ! command -v npm >/dev/null 2>&1; then
  # Only where the machine has no Node at all: Debian's own nodejs and npm.
  if [ "$(id -u)" -ne 0 ]; then
    say "npm not found: run this script as root to install Debian's nodejs and npm"
    exit 1
  fi
  say "installing Debian's nodejs and npm"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
fi
want="$(printf '%s\n' "${PACKAGES[@]}" "$(node --version)" | sha256sum | cut -d' ' -f1)"
stamp="$DEST/.securemode-stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$DEST/node_modules/.bin/saf" ]; then
  say "up to date"
  exit 0
fi
# A fresh install: what is there may be hard links into the build cache, which npm must not edit in place.
rm -rf "$DEST/node_modules" "$DEST/package-lock.json" "$DEST/package.json" "$stamp"
if cache_restore npm "$want" "$DEST" && [ -x "$DEST/node_modules/.bin/saf" ]; then
  rm -f "$stamp"  # a restored stamp is a link into the cache: replaced, not written through
  echo "$want" > "$stamp"
  say "up to date (from the build cache)"
  exit 0
fi
rm -rf "$DEST/node_modules" "$DEST/package-lock.json" "$DEST/package.json"
mkdir -p "$DEST"
[ -f "$DEST/package.json" ] || printf '{"name":"securemode-assessor-tools","private":true}\n' > "$DEST/package.json"
say "installing ${PACKAGES[*]} into $DEST"
start=$(date +%s)
npm install --prefix "$DEST" --no-audit --no-fund --loglevel=error --engine-strict=false "${PACKAGES[@]}" >&2
cache_store npm "$want" "$DEST"
echo "$want" > "$stamp"
say "installed in $(( $(date +%s) - start )) s"
