#!/usr/bin/env bash
# Fetch a Debian SOURCE package through a private deb-src list: the system's
# apt configuration and package lists are left as they are.
#
# As a command (used by CMake to fetch the LZMA SDK from Debian's lzma
# source package at configure time):
#   scripts/apt-source.sh PKG CHECK_FILE DEST
# unpacks PKG into DEST (replacing it), checks that DEST/CHECK_FILE exists,
# and writes DEST/.twinboot-fetched; does nothing if that stamp exists.
#
# As a library (sourced by scripts/cross-build.sh): apt_source PKG CHECK_FILE
# and dsc_of PKG, using the caller's SRC_CACHE and TMP_PATHS.

# Private deb-src access, set up at most once per run and only when a source
# package is not cached yet: the system's Debian sources with Types: deb-src,
# and private index/cache locations, so that neither /etc/apt nor
# /var/lib/apt/lists (the binary package lists) are changed.
APT_WORK=
APT_OPTS=()
APT_READY=0
FETCH_ERR=()
apt_private_setup() { # -> 0, or 1 with FETCH_ERR set
    [ $APT_READY -eq 0 ] || return 0
    mkdir -p "$SRC_CACHE"
    APT_WORK=$(mktemp -d "$SRC_CACHE/.fetch.XXXXXX")
    TMP_PATHS+=("$APT_WORK")
    mkdir -p "$APT_WORK/parts" "$APT_WORK/lists/partial"
    : >"$APT_WORK/src.list"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$APT_WORK/parts/debian.sources"
    fi
    if [ -f /etc/apt/sources.list ]; then
        sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' /etc/apt/sources.list >"$APT_WORK/src.list"
    fi
    if ! [ -s "$APT_WORK/parts/debian.sources" ] && ! [ -s "$APT_WORK/src.list" ]; then
        FETCH_ERR=("no Debian apt sources found (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)")
        return 1
    fi
    APT_OPTS=(-o Dir::Etc::SourceParts="$APT_WORK/parts" -o Dir::Etc::SourceList="$APT_WORK/src.list"
              -o Dir::State::Lists="$APT_WORK/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
              -o APT::Sandbox::User=root)
    if ! apt-get "${APT_OPTS[@]}" -qq update; then
        FETCH_ERR=("apt-get update of the private deb-src list failed" "check the network and the Debian sources, then re-run")
        return 1
    fi
    APT_READY=1
}

# apt_source PKG CHECK_FILE -> 0 with FETCHED set to the unpacked tree (in
# the private work folder), or 1 with FETCH_ERR set. apt's messages go to
# $APT_WORK/PKG.log and, on failure, into FETCH_ERR.
FETCHED=
apt_source() {
    local pkg=$1 check=$2 dl l
    FETCHED=
    apt_private_setup || return 1
    dl=$APT_WORK/dl-$pkg
    mkdir -p "$dl"
    if ! (cd "$dl" && apt-get "${APT_OPTS[@]}" -qq source "$pkg") >"$APT_WORK/$pkg.log" 2>&1; then
        FETCH_ERR=("apt-get source $pkg failed:")
        while IFS= read -r l; do FETCH_ERR+=("  $l"); done < <(grep -v '^[[:space:]]*$' "$APT_WORK/$pkg.log" | tail -n 6)
        return 1
    fi
    FETCHED=$(find "$dl" -mindepth 1 -maxdepth 1 -type d -name "$pkg-*" | head -n1)
    if [ -z "$FETCHED" ] || [ ! -f "$FETCHED/$check" ]; then
        FETCH_ERR=("apt-get source $pkg did not leave an unpacked $pkg-*/ tree with $check")
        return 1
    fi
}
dsc_of() { find "$APT_WORK/dl-$1" -maxdepth 1 -name '*.dsc' -printf '%f\n' | head -n1; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    [ $# -eq 3 ] || { echo "usage: $0 PKG CHECK_FILE DEST" >&2; exit 2; }
    pkg=$1 check=$2 dest=$3
    if [ -f "$dest/.twinboot-fetched" ]; then
        exit 0
    fi
    SRC_CACHE=$(dirname "$dest")
    TMP_PATHS=()
    trap '[ ${#TMP_PATHS[@]} -eq 0 ] || rm -rf "${TMP_PATHS[@]}"' EXIT
    if ! apt_source "$pkg" "$check"; then
        printf 'apt-source: error: %s\n' "${FETCH_ERR[@]}" >&2
        echo "apt-source: or unpack 'apt-get source $pkg' into $dest yourself and create $dest/.twinboot-fetched" >&2
        exit 1
    fi
    rm -rf "$dest"
    mv "$FETCHED" "$dest"
    printf '%s (%s)\n' "$pkg" "$(dsc_of "$pkg")" >"$dest/.twinboot-fetched"
    echo "apt-source: fetched $(cat "$dest/.twinboot-fetched") into $dest"
fi
