#!/usr/bin/env bash
# Cross-build twinboot's device library for the nRF5340 application core
# (Cortex-M33) with Debian's arm-none-eabi-gcc, together with mbedTLS 2.28
# built from Debian's mbedtls SOURCE package, and print their sizes.
#
#   scripts/cross-build.sh            (from any directory)
#
# Outputs (in $TB_CROSS_DIR, default <repo>/build/cross):
#   libmbedcrypto-m33.a   mbedTLS, configured by port/nrf5340/mbedtls_config.h
#   libtwinboot-m33.a     every lib/*.c, built with -DTB_CONFIG_NO_ED25519
#   src/mbedtls/          the unpacked Debian source package (kept as a cache:
#                         later runs reuse it and need no network)
#
# Environment:
#   TB_CROSS_DIR          output directory (relative paths: to the caller's cwd)
#   TB_CROSS_SRC_DIR      source cache (default $TB_CROSS_DIR/src)
#   TB_CROSS_LIB_DIR      C files to build as "twinboot" (default <repo>/lib;
#                         for testing the pipeline on other sources)
#   TB_CROSS_JOBS         parallel compiles (default: nproc)
#   TB_CROSS_EXTRA_CFLAGS extra flags for both libraries, e.g.
#                         "-mfloat-abi=hard -mfpu=fpv5-sp-d16" to match a
#                         hard-float application (the default is soft-float ABI)
#
# Steps: (a) install the toolchain packages that are missing (apt-get);
# (b) fetch + unpack mbedtls's Debian source package through a private
# deb-src list (the system's apt configuration and lists are not touched);
# (c) build libmbedcrypto-m33.a; (d) build libtwinboot-m33.a; (e) check that
# neither archive needs libc beyond memcpy/memset/memcmp/memmove/strlen;
# (f) print the sizes.
set -euo pipefail

# ---- where things are ------------------------------------------------------

CALLER_PWD=$PWD
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)

abspath() { # $1 relative to the caller's cwd -> absolute (need not exist yet)
    case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$CALLER_PWD/$1" ;; esac
}

OUT=$(abspath "${TB_CROSS_DIR:-$ROOT/build/cross}")
SRC_CACHE=$(abspath "${TB_CROSS_SRC_DIR:-$OUT/src}")
LIB_DIR=$(abspath "${TB_CROSS_LIB_DIR:-$ROOT/lib}")
JOBS=${TB_CROSS_JOBS:-$(nproc 2>/dev/null || echo 2)}
CONFIG=$ROOT/port/nrf5340/mbedtls_config.h
case $JOBS in ''|*[!0-9]*|0) JOBS=1 ;; esac
cd "$ROOT"

START=$SECONDS
CURRENT_STEP="start-up"

die() { # message lines...
    printf 'cross-build: error: %s\n' "$1" >&2
    shift
    for l in "$@"; do printf '  %s\n' "$l" >&2; done
    exit 1
}
TMP_PATHS=()
on_exit() {
    local rc=$?
    [ ${#TMP_PATHS[@]} -eq 0 ] || rm -rf "${TMP_PATHS[@]}"
    [ $rc -eq 0 ] || printf 'cross-build: FAILED (exit %d) during step: %s\n' "$rc" "$CURRENT_STEP" >&2
}
trap on_exit EXIT
step() { CURRENT_STEP=$1; printf '==> %s\n' "$1"; }

# ---- (a) toolchain ---------------------------------------------------------

step "(a) toolchain packages"
PKGS=(gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi dpkg-dev)
missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null ||
            die "missing packages ${missing[*]} and not root (no sudo either)" \
                "install them: apt-get install -y --no-install-recommends ${missing[*]}"
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq ||
        die "apt-get update failed" "check the network / apt sources, then re-run"
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
        die "apt-get install ${missing[*]} failed" "install them by hand and re-run"
else
    echo "all present: ${PKGS[*]}"
fi

CC=arm-none-eabi-gcc AR=arm-none-eabi-ar NM=arm-none-eabi-nm SIZE=arm-none-eabi-size
for t in $CC $AR $NM $SIZE dpkg-source; do
    command -v "$t" >/dev/null ||
        die "$t not found although its package is installed" "reinstall: apt-get install --reinstall ${PKGS[*]}"
done

# ---- (b) mbedTLS source package --------------------------------------------

step "(b) mbedTLS source (Debian source package, cached in $SRC_CACHE)"
MBED=$SRC_CACHE/mbedtls
STAMP=$MBED/.twinboot-fetched
if [ -f "$STAMP" ]; then
    echo "reusing $(cat "$STAMP") in $MBED"
else
    mkdir -p "$SRC_CACHE"
    WORK=$(mktemp -d "$SRC_CACHE/.fetch.XXXXXX")
    TMP_PATHS+=("$WORK")
    # A private deb-src list: the system's Debian sources with Types: deb-src,
    # and private index/cache locations, so that neither /etc/apt nor
    # /var/lib/apt/lists (the binary package lists) are changed.
    mkdir -p "$WORK/parts" "$WORK/lists/partial" "$WORK/dl"
    : >"$WORK/src.list"
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$WORK/parts/debian.sources"
    fi
    if [ -f /etc/apt/sources.list ]; then
        sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' /etc/apt/sources.list >"$WORK/src.list"
    fi
    [ -s "$WORK/parts/debian.sources" ] || [ -s "$WORK/src.list" ] ||
        die "no Debian apt sources found (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)" \
            "this script expects a Debian system; or unpack 'apt-get source mbedtls' (2.28.x) into $MBED yourself" \
            "and create $STAMP"
    APT_OPTS=(-o Dir::Etc::SourceParts="$WORK/parts" -o Dir::Etc::SourceList="$WORK/src.list"
              -o Dir::State::Lists="$WORK/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
              -o APT::Sandbox::User=root)
    apt-get "${APT_OPTS[@]}" -qq update ||
        die "apt-get update of the private deb-src list failed" "check the network and the Debian sources, then re-run"
    (cd "$WORK/dl" && apt-get "${APT_OPTS[@]}" -qq source mbedtls) ||
        die "apt-get source mbedtls failed" "check the network; dpkg-dev must be installed for unpacking"
    unpacked=$(find "$WORK/dl" -mindepth 1 -maxdepth 1 -type d -name 'mbedtls-*' | head -n1)
    if [ -z "$unpacked" ] || [ ! -f "$unpacked/library/sha256.c" ]; then
        die "apt-get source mbedtls did not leave an unpacked mbedtls-*/ tree"
    fi
    ver=$(sed -nE 's/^#define[[:space:]]+MBEDTLS_VERSION_STRING[[:space:]]+"([^"]+)".*/\1/p' \
          "$unpacked/include/mbedtls/version.h")
    case $ver in
        2.28.*) ;;
        *) die "Debian's mbedtls source is version '${ver:-unknown}', but port/nrf5340/mbedtls_config.h is for 2.28.x" \
               "run on Debian 12 (bookworm), or port the config (and the file list in this script) to $ver" ;;
    esac
    rm -rf "$MBED"
    mv "$unpacked" "$MBED"
    dsc=$(find "$WORK/dl" -maxdepth 1 -name '*.dsc' -printf '%f\n' | head -n1)
    printf 'mbedtls %s (%s)\n' "$ver" "$dsc" >"$STAMP"
    echo "fetched $(cat "$STAMP") into $MBED"
fi

# ---- compile helper --------------------------------------------------------

# compile_all OBJDIR FLAGS... -- SOURCES...
# Compiles every source (JOBS at a time); on failure prints each failing
# file's compiler output and returns 1 after all files were tried.
compile_all() {
    local objdir=$1; shift
    local flags=()
    while [ "$1" != "--" ]; do flags+=("$1"); shift; done
    shift
    local s o failed=()
    rm -rf "$objdir"; mkdir -p "$objdir"
    for s in "$@"; do
        o=$objdir/$(basename "${s%.c}").o
        while [ "$(jobs -pr | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
        ( rc=0; $CC "${flags[@]}" -c "$s" -o "$o" >"$o.log" 2>&1 || rc=$?; echo "$rc" >"$o.rc" ) &
    done
    wait
    for s in "$@"; do
        o=$objdir/$(basename "${s%.c}").o
        if [ -s "$o.log" ]; then printf -- '--- %s\n' "${s#"$ROOT"/}" >&2; cat "$o.log" >&2; fi
        [ "$(cat "$o.rc" 2>/dev/null)" = 0 ] || failed+=("$s")
    done
    COMPILE_FAILED=("${failed[@]+"${failed[@]}"}")
    [ ${#failed[@]} -eq 0 ]
}

TARGET_FLAGS=(-mcpu=cortex-m33 -mthumb -Os -ffreestanding -ffunction-sections -fdata-sections)
# shellcheck disable=SC2206 # word splitting of the extra flags is intended
EXTRA=(${TB_CROSS_EXTRA_CFLAGS:-})
CONFIG_FLAGS=("-DMBEDTLS_CONFIG_FILE=\"$CONFIG\"" -I "$MBED/include")
mkdir -p "$OUT"

# ---- (c) mbedTLS -----------------------------------------------------------

step "(c) libmbedcrypto-m33.a"
# Fixed list: what SHA-2, ECDSA-P256 verify, RSA-PSS verify, ASN.1 and the
# static heap need with port/nrf5340/mbedtls_config.h. constant_time.c holds
# helpers bignum.c and rsa.c call since 2.28; platform_util.c has zeroize.
MBED_FILES=(asn1parse asn1write bignum constant_time ecdsa ecp ecp_curves md
            memory_buffer_alloc oid platform platform_util rsa rsa_internal sha256 sha512)
MBED_SRCS=()
for f in "${MBED_FILES[@]}"; do
    [ -f "$MBED/library/$f.c" ] || die "$MBED/library/$f.c is missing" "delete $SRC_CACHE and re-run to fetch the source again"
    MBED_SRCS+=("$MBED/library/$f.c")
done
if ! compile_all "$OUT/obj/mbedtls" "${TARGET_FLAGS[@]}" -std=c99 -Wall -Wextra "${EXTRA[@]+"${EXTRA[@]}"}" \
        "${CONFIG_FLAGS[@]}" -I "$MBED/library" -- "${MBED_SRCS[@]}"; then
    die "mbedTLS failed to compile: ${COMPILE_FAILED[*]##*/}" \
        "see the compiler output above; usually port/nrf5340/mbedtls_config.h (check_config) or the file list in this script"
fi
rm -f "$OUT/libmbedcrypto-m33.a"
$AR rcs "$OUT/libmbedcrypto-m33.a" "$OUT"/obj/mbedtls/*.o

# ---- (d) twinboot ----------------------------------------------------------

step "(d) libtwinboot-m33.a"
shopt -s nullglob
LIB_SRCS=("$LIB_DIR"/*.c)
shopt -u nullglob
[ ${#LIB_SRCS[@]} -gt 0 ] || die "no C files in $LIB_DIR" "nothing to build for twinboot"
if ! compile_all "$OUT/obj/twinboot" "${TARGET_FLAGS[@]}" -std=c11 -Wall -Wextra -Werror "${EXTRA[@]+"${EXTRA[@]}"}" \
        -DTB_CONFIG_NO_ED25519 -I "$ROOT/include" "${CONFIG_FLAGS[@]}" -- "${LIB_SRCS[@]}"; then
    die "twinboot's lib failed to cross-compile: ${COMPILE_FAILED[*]##*/}" \
        "see the compiler output above: the device lib must build freestanding for the M33" \
        "(no host-only headers or calls; Ed25519 code behind TB_CONFIG_NO_ED25519)"
fi
rm -f "$OUT/libtwinboot-m33.a"
$AR rcs "$OUT/libtwinboot-m33.a" "$OUT"/obj/twinboot/*.o

# ---- (e) no libc beyond mem*/strlen ----------------------------------------

step "(e) libc dependencies"
# twinboot's own objects: memcpy/memset/memcmp/memmove/strlen (and the EABI
# aliases GCC may emit for them). mbedTLS additionally: strcmp, used only by
# its name look-ups (mbedtls_md_info_from_string,
# mbedtls_ecp_curve_info_from_name), pure and heap-free.
ALLOWED_LIBC='memcpy|memset|memcmp|memmove|strlen|__aeabi_mem(cpy|cpy4|cpy8|set|set4|set8|clr|clr4|clr8|move|move4|move8)'
allowed_for() { case $1 in libmbedcrypto*) echo "$ALLOWED_LIBC|strcmp" ;; *) echo "$ALLOWED_LIBC" ;; esac; }
MULTI_FLAGS=("${TARGET_FLAGS[@]}" "${EXTRA[@]+"${EXTRA[@]}"}")
LIBC_A=$($CC "${MULTI_FLAGS[@]}" -print-file-name=libc.a)
LIBM_A=$($CC "${MULTI_FLAGS[@]}" -print-file-name=libm.a)
LIBGCC_A=$($CC "${MULTI_FLAGS[@]}" -print-libgcc-file-name)
[ -f "$LIBC_A" ] || die "newlib's libc.a not found for these flags ($LIBC_A)" "apt-get install libnewlib-arm-none-eabi"
TMPD=$(mktemp -d)
TMP_PATHS+=("$TMPD")
defined() { $NM -g --defined-only "$@" 2>/dev/null | awk 'NF >= 3 { print $3 }' | sort -u; }
defined "$LIBC_A" "$LIBM_A" >"$TMPD/libc"
defined "$LIBGCC_A" >"$TMPD/libgcc"
defined "$OUT/libtwinboot-m33.a" "$OUT/libmbedcrypto-m33.a" >"$TMPD/ours"
libc_problem=0
for lib in libtwinboot-m33.a libmbedcrypto-m33.a; do
    # "archive:member.o:         U symbol" -> "member.o symbol"
    $NM -u -A "$OUT/$lib" | sed -E 's/^[^:]*:([^:]*):[[:space:]]*U[[:space:]]+/\1 /' | sort -u >"$TMPD/undef"
    bad=$(awk 'NR == FNR { libc[$1] = 1; next } ($2 in libc) { print }' "$TMPD/libc" "$TMPD/undef" |
          grep -Ev " ($(allowed_for "$lib"))\$" || true)
    if [ -n "$bad" ]; then
        libc_problem=1
        printf 'cross-build: %s calls libc functions a bootloader must not need (allowed: %s):\n' \
            "$lib" "$(allowed_for "$lib" | sed -E 's/\|__aeabi_mem\([^)]*\)//; s/\|/ /g')" >&2
        printf '%s\n' "$bad" | awk '{ printf "    %-28s -> %s\n", $1, $2 }' >&2
    fi
    # Anything neither in libc, libgcc nor our two archives: hooks the port
    # (or the application) has to provide. Informational.
    ext=$(awk '{ print $2 }' "$TMPD/undef" | sort -u | comm -23 - "$TMPD/ours" | comm -23 - "$TMPD/libc" |
          comm -23 - "$TMPD/libgcc" | tr '\n' ' ')
    [ -z "$ext" ] || echo "$lib expects from the port/application: $ext"
done
[ $libc_problem -eq 0 ] ||
    die "libc dependency check failed" \
        "twinboot's device code may use only memcpy/memset/memcmp/memmove/strlen from libc:" \
        "no malloc/calloc/free (use caller-provided or static buffers), no printf/abort/assert/exit;" \
        "for mbedTLS, fix port/nrf5340/mbedtls_config.h (PLATFORM_NO_STD_FUNCTIONS, EXIT_MACRO)"
echo "ok: from libc only memcpy/memset/memcmp/memmove/strlen (+ strcmp in mbedTLS's name look-ups); libgcc helpers"

# ---- (f) sizes ---------------------------------------------------------------

step "(f) sizes (arm-none-eabi-size, -Os, Cortex-M33 Thumb-2)"
total() { # archive -> "text data bss" of the TOTALS line
    $SIZE -t "$1" | awk '/\(TOTALS\)/ { print $1, $2, $3 }'
}
for lib in libmbedcrypto-m33.a libtwinboot-m33.a; do
    echo "--- $lib"
    $SIZE -t "$OUT/$lib" | sed -E "s#[^ ]*/##; s# \(ex [^)]*\)##"
done
read -r tw_text tw_data tw_bss < <(total "$OUT/libtwinboot-m33.a")
read -r mb_text mb_data mb_bss < <(total "$OUT/libmbedcrypto-m33.a")
echo
printf 'twinboot lib: %d bytes text+data, mbedTLS crypto: %d bytes text+data\n' \
    $((tw_text + tw_data)) $((mb_text + mb_data))
printf '  (bss: twinboot %d, mbedTLS %d; whole archives: a linked image with --gc-sections keeps only what it calls)\n' \
    "$tw_bss" "$mb_bss"

# What a firmware image actually carries: link both archives with
# --gc-sections, keeping every global function of libtwinboot as a root
# (so all of twinboot's API, and all crypto it can reach, stays in), and
# attribute the kept sections to their archive through the link map.
PROBE_ROOTS=$($NM -g --defined-only "$OUT/libtwinboot-m33.a" | awk '$2 == "T" { print $3 }' | sort -u)
if [ -n "$PROBE_ROOTS" ]; then
    probe_flags=()
    for r in $PROBE_ROOTS; do probe_flags+=("-Wl,-u,$r"); done
    first_root=${PROBE_ROOTS%%$'\n'*}
    if $CC "${MULTI_FLAGS[@]}" -nostdlib -Wl,--gc-sections -Wl,--unresolved-symbols=ignore-all \
            -Wl,-e,"$first_root" "${probe_flags[@]}" -Wl,-Map="$OUT/size-probe.map" -o "$OUT/size-probe.elf" \
            -Wl,--start-group "$OUT/libtwinboot-m33.a" "$OUT/libmbedcrypto-m33.a" -lc -lgcc -Wl,--end-group \
            2>"$OUT/size-probe.log"; then
        awk '
            function hex(h,   i, c, v) { v = 0; h = tolower(substr(h, 3))
                for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c }
                return v }
            /^Linker script and memory map/ { on = 1; next }
            !on { next }
            /^[.][^ ]/ { out = $1 }
            NF >= 3 && $(NF-2) ~ /^0x[0-9a-f]+$/ && $(NF-1) ~ /^0x[0-9a-f]+$/ && $NF ~ /\)$|\.o$/ {
                who = ($NF ~ /libtwinboot-m33\.a\(/) ? "tb" : ($NF ~ /libmbedcrypto-m33\.a\(/) ? "mb" : "tc"
                if (out ~ /^\.(text|rodata|data|ARM\.exidx|ARM\.extab)$/) flash[who] += hex($(NF-1))
                else if (out == ".bss") ram[who] += hex($(NF-1))
            }
            END {
                printf "linked (--gc-sections, all twinboot API kept): twinboot lib: %d bytes text+data, mbedTLS crypto: %d bytes, libc/libgcc: %d bytes\n", flash["tb"], flash["mb"], flash["tc"]
                printf "  (bss: twinboot %d, mbedTLS %d; map: %s)\n", ram["tb"], ram["mb"], map
            }' map="$OUT/size-probe.map" "$OUT/size-probe.map"
    else
        echo "note: the size-probe link failed (see $OUT/size-probe.log); archive sizes above still hold"
    fi
fi
echo "archives in $OUT ($((SECONDS - START)) s)"
CURRENT_STEP="finished"
