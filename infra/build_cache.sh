# Sourced by the build scripts: the machine's build cache, shared by every checkout of the project.
# A clean checkout (as CI makes for each run) then finds what an earlier checkout built from the same inputs
# instead of building it again. An entry is a folder named by a hash of everything it was made from; it is
# written once, complete (a .complete file, moved into place in one rename), and never changed afterwards.
# SECUREMODE_CACHE_DIR moves the cache (default ~/.cache/securemode); SECUREMODE_CACHE_DIR=off turns it off.
BUILD_CACHE="${SECUREMODE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/securemode}"

# cache_restore KIND KEY DEST: copy entry KIND/KEY's files into DEST, hard links where the file system
# allows; false when there is no complete entry. A file already in DEST is unlinked first, never written
# through (it may be a link to another entry); whoever changes a restored file must replace it, not edit it.
cache_restore() {
  local entry="$BUILD_CACHE/$1/$2"
  [ "$BUILD_CACHE" != off ] && [ -f "$entry/.complete" ] || return 1
  mkdir -p "$3"
  if ! cp -al --remove-destination "$entry/." "$3/" 2>/dev/null; then
    cp -a --remove-destination "$entry/." "$3/" || return 1
  fi
  rm -f "$3/.complete"
  cache_use "$1" "$2"
}

# cache_store KIND KEY SRC: keep a copy of SRC's files as entry KIND/KEY (the first complete one stays).
# Best effort: a cache that cannot be written costs the next checkout a build, never this one its result.
cache_store() {
  [ "$BUILD_CACHE" != off ] || return 0
  local kinds="$BUILD_CACHE/$1" tmp
  [ -f "$kinds/$2/.complete" ] && return 0
  mkdir -p "$kinds" 2>/dev/null && tmp="$(mktemp -d "$kinds/.partial-XXXXXX")" || return 0
  if cp -a "$3/." "$tmp/" && touch "$tmp/.complete" && mv -T "$tmp" "$kinds/$2" 2>/dev/null; then
    cache_prune "$1" "${CACHE_KEEP:-3}"
    return 0
  fi
  rm -rf "$tmp"
}

# cache_prune KIND KEEP: remove all but the KEEP entries of KIND used last (cache_use marks a use), so the
# cache does not grow with every change of its inputs.
cache_prune() {
  [ "$BUILD_CACHE" != off ] && [ -d "$BUILD_CACHE/$1" ] || return 0
  local old
  # shellcheck disable=SC2012 # entry names are hex hashes
  for old in $(ls -1t "$BUILD_CACHE/$1" | tail -n +"$(($2 + 1))"); do
    rm -rf "${BUILD_CACHE:?}/$1/$old"
  done
}

# cache_use KIND KEY: mark entry KIND/KEY as used now (cache_prune keeps the entries used last).
cache_use() {
  [ "$BUILD_CACHE" != off ] || return 0
  touch "$BUILD_CACHE/$1/$2" 2>/dev/null || true
}
