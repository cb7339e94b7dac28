#!/usr/bin/env bash
# Cross-build twinboot's device library for the nRF5340 application core
# (Cortex-M33) with Debian's arm-none-eabi-gcc, together with mbedTLS 2.28
# and libcbor 0.8 built from Debian's mbedtls and libcbor SOURCE packages,
# and print their sizes.
#
#   scripts/cross-build.sh            (from any directory)
#
# Outputs (in $TB_CROSS_DIR, default <repo>/build/cross):
#   libmbedcrypto-m33.a   mbedTLS, configured by port/nrf5340/mbedtls_config.h
#   libcbor-m33.a         libcbor's allocation-free parts only: the encoders
#                         and the streaming decoder (a fixed file list), with
#                         port/nrf5340/cbor/{configuration,cbor_export}.h
#   liblzmadec-m33.a      the LZMA SDK's LZMA2 decoder and ARM-Thumb converter,
#                         from Debian's lzma source package (compressed images)
#   libtwinboot-m33.a     every lib/*.c, built with -DTB_CONFIG_NO_ED25519
#   src/mbedtls/          the unpacked Debian source packages (kept as a
#   src/libcbor/          cache: later runs reuse them and need no network)
#
# Environment:
#   TB_CROSS_DIR          output directory (relative paths: to the caller's cwd)
#   TB_CROSS_SRC_DIR      source cache (default $TB_CROSS_DIR/src)
#   TB_CROSS_LIB_DIR      C files to build as "twinboot" (default <repo>/lib;
#                         for testing the pipeline on other sources)
#   TB_CROSS_JOBS         parallel compiles (default: nproc)
#   TB_CROSS_EXTRA_CFLAGS extra flags for all libraries, e.g.
#                         "-mfloat-abi=hard -mfpu=fpv5-sp-d16" to match a
#                         hard-float application (the default is soft-float ABI)
#
# Steps: (a) install the toolchain packages that are missing (apt-get);
# (b) fetch + unpack mbedtls's and libcbor's Debian source packages through
# a private deb-src list (the system's apt configuration and lists are not
# touched); (c) build libmbedcrypto-m33.a; (c2) build libcbor-m33.a;
# (d) build libtwinboot-m33.a (libcbor's headers on its include path);
# (e) check that no archive needs libc beyond memcpy/memset/memcmp/memmove/
# strlen; (f) print the sizes.
#
# libcbor is needed only once lib/ (or include/) includes <cbor.h>. Until
# then a failed libcbor fetch is reported and libcbor is left out; after
# that it fails the build like any other missing input.
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

# ---- (b) source packages ---------------------------------------------------

# Private deb-src access (apt_source, dsc_of): scripts/apt-source.sh.
. "$SCRIPT_DIR/apt-source.sh"

step "(b) source packages (Debian source packages, cached in $SRC_CACHE)"
MBED=$SRC_CACHE/mbedtls
STAMP=$MBED/.twinboot-fetched
if [ -f "$STAMP" ]; then
    echo "reusing $(cat "$STAMP") in $MBED"
else
    if ! apt_source mbedtls library/sha256.c; then
        die "${FETCH_ERR[@]}" \
            "this script expects a Debian system with network access to its mirror; or unpack" \
            "'apt-get source mbedtls' (2.28.x) into $MBED yourself and create $STAMP"
    fi
    unpacked=$FETCHED
    ver=$(sed -nE 's/^#define[[:space:]]+MBEDTLS_VERSION_STRING[[:space:]]+"([^"]+)".*/\1/p' \
          "$unpacked/include/mbedtls/version.h")
    case $ver in
        2.28.*) ;;
        *) die "Debian's mbedtls source is version '${ver:-unknown}', but port/nrf5340/mbedtls_config.h is for 2.28.x" \
               "run on Debian 12 (bookworm), or port the config (and the file list in this script) to $ver" ;;
    esac
    rm -rf "$MBED"
    mv "$unpacked" "$MBED"
    printf 'mbedtls %s (%s)\n' "$ver" "$(dsc_of mbedtls)" >"$STAMP"
    echo "fetched $(cat "$STAMP") into $MBED"
fi

# libcbor: needed as soon as anything lib/ compiles includes <cbor.h>.
CBOR=$SRC_CACHE/libcbor
CBOR_STAMP=$CBOR/.twinboot-fetched
CBOR_NEEDED_BY=$(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]cbor(\.h|/)' \
                 "$LIB_DIR" "$ROOT/include" --include='*.c' --include='*.h' 2>/dev/null | sed "s#^$ROOT/##" | tr '\n' ' ' | sed 's/ $//' || true)
HAVE_CBOR=0
CBOR_HEADERS_ONLY=0
if [ -f "$CBOR_STAMP" ]; then
    echo "reusing $(cat "$CBOR_STAMP") in $CBOR"
    HAVE_CBOR=1
elif apt_source libcbor src/cbor/streaming.c; then
    unpacked=$FETCHED
    # Upstream version from debian/changelog ("0.8.0-2" -> 0.8.0); the
    # tarball's CMakeLists.txt as a cross-check for a tree without debian/.
    ver=$(dpkg-parsechangelog -l "$unpacked/debian/changelog" -S Version 2>/dev/null | sed -E 's/^[0-9]+://; s/-[^-]*$//' || true)
    cm=$(sed -nE 's/^[[:space:]]*SET\(CBOR_VERSION_(MAJOR|MINOR|PATCH)[[:space:]]+"?([0-9]+)"?\).*/\2/ip' "$unpacked/CMakeLists.txt" 2>/dev/null | tr '\n' '.' | sed 's/\.$//' || true)
    case ${ver:-$cm} in
        0.8.*) ;;
        *) die "Debian's libcbor source is version '${ver:-${cm:-unknown}}', but port/nrf5340/cbor/configuration.h is for 0.8.x" \
               "run on Debian 12 (bookworm), or port the configuration header (and the file list in this script)" ;;
    esac
    rm -rf "$CBOR"
    mv "$unpacked" "$CBOR"
    printf 'libcbor %s (%s)\n' "${ver:-$cm}" "$(dsc_of libcbor)" >"$CBOR_STAMP"
    echo "fetched $(cat "$CBOR_STAMP") into $CBOR"
    HAVE_CBOR=1
elif [ -n "$CBOR_NEEDED_BY" ]; then
    # Without libcbor's source, twinboot's code still compiles for the M33
    # against libcbor's (architecture-independent) headers from libcbor-dev:
    # that proves it freestanding; only libcbor-m33.a itself is left out.
    [ -f /usr/include/cbor.h ] || die "${FETCH_ERR[@]}" "libcbor is needed by: $CBOR_NEEDED_BY" \
        "install libcbor-dev (headers), or unpack 'apt-get source libcbor' (0.8.x) into $CBOR and create $CBOR_STAMP"
    echo "note: libcbor's source package could not be fetched (the fetch error is below); $CBOR_NEEDED_BY"
    echo "      is compiled against libcbor-dev's headers and libcbor-m33.a is left out of this build."
    printf '        %s\n' "${FETCH_ERR[@]}"
    CBOR_HEADERS_ONLY=1
else
    echo "note: libcbor's source package could not be fetched; nothing in lib/ or include/ includes <cbor.h>"
    echo "      yet, so libcbor-m33.a is left out of this build. The fetch error was:"
    printf '        %s\n' "${FETCH_ERR[@]}"
fi

# The LZMA SDK (decoder of compressed images): Debian's lzma source package,
# in the same cache CMake fills for the host build (cmake/LzmaSdk.cmake).
LZMA=$SRC_CACHE/lzma
if [ -f "$LZMA/.twinboot-fetched" ]; then
    echo "reusing $(cat "$LZMA/.twinboot-fetched") in $LZMA"
else
    bash "$SCRIPT_DIR/apt-source.sh" lzma C/Lzma2Dec.c "$LZMA" ||
        die "could not fetch Debian's lzma source package (LZMA SDK) into $LZMA"
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

# ---- (c2) libcbor ----------------------------------------------------------

# Fixed list: libcbor's allocation-free parts, nothing that touches
# cbor_item_t or the heap. encoding.c: cbor_encode_* (and _cbor_encode_byte);
# internal/encoders.c: the _cbor_encode_uint* they call; streaming.c:
# cbor_stream_decode; internal/loaders.c: the _cbor_load_* it calls;
# callbacks.c: the cbor_null_* callbacks and cbor_empty_callbacks.
# Flags: -DNDEBUG drops the assert() in cbor_encode_half (newlib's
# __assert_func would pull in fiprintf); -Dldexp=tb_cbor_ldexp points the
# half-float decoder in loaders.c at port/nrf5340/libcbor_ldexp.c instead of
# libm's ldexp (2.3 KiB + 1 KiB of errno/reent RAM), see that file.
CBOR_FILES=(cbor/encoding cbor/internal/encoders cbor/streaming cbor/internal/loaders cbor/callbacks)
CBOR_INC=()
CBOR_A=()
if [ $HAVE_CBOR -eq 1 ]; then
    step "(c2) libcbor-m33.a"
    CBOR_SRCS=()
    for f in "${CBOR_FILES[@]}"; do
        [ -f "$CBOR/src/$f.c" ] || die "$CBOR/src/$f.c is missing" "delete $CBOR and re-run to fetch the source again"
        CBOR_SRCS+=("$CBOR/src/$f.c")
    done
    CBOR_SRCS+=("$ROOT/port/nrf5340/libcbor_ldexp.c")
    # port/nrf5340 first: its cbor/configuration.h and cbor/cbor_export.h stand
    # in for the files CMake would generate.
    CBOR_INC=(-I "$ROOT/port/nrf5340" -I "$CBOR/src")
    if ! compile_all "$OUT/obj/libcbor" "${TARGET_FLAGS[@]}" -std=c99 -Wall -Wextra -Wno-unused-parameter \
            "${EXTRA[@]+"${EXTRA[@]}"}" -DNDEBUG -Dldexp=tb_cbor_ldexp "${CBOR_INC[@]}" -- "${CBOR_SRCS[@]}"; then
        die "libcbor failed to compile: ${COMPILE_FAILED[*]##*/}" \
            "see the compiler output above; usually port/nrf5340/cbor/*.h or the file list in this script"
    fi
    rm -f "$OUT/libcbor-m33.a"
    $AR rcs "$OUT/libcbor-m33.a" "$OUT"/obj/libcbor/*.o
    CBOR_A=("$OUT/libcbor-m33.a")
else
    rm -rf "$OUT/libcbor-m33.a" "$OUT/obj/libcbor"
    if [ $CBOR_HEADERS_ONLY -eq 1 ]; then
        # only <cbor.h> and <cbor/...>: never the rest of the host's /usr/include
        rm -rf "$OUT/cbor-headers"
        mkdir -p "$OUT/cbor-headers"
        cp /usr/include/cbor.h "$OUT/cbor-headers/"
        cp -r /usr/include/cbor "$OUT/cbor-headers/"
        CBOR_INC=(-I "$ROOT/port/nrf5340" -I "$OUT/cbor-headers")
    fi
fi

# ---- (c3) LZMA SDK decoder -------------------------------------------------

step "(c3) liblzmadec-m33.a"
# LZMA2 decoding and the ARM-Thumb BCJ converter only; twinboot allocates
# for it from a static arena (lib/decompress.c), so no Alloc.c.
LZMA_SRCS=("$LZMA/C/LzmaDec.c" "$LZMA/C/Lzma2Dec.c" "$LZMA/C/Bra.c")
if ! compile_all "$OUT/obj/lzma" "${TARGET_FLAGS[@]}" -std=c99 -Wall -Wextra "${EXTRA[@]+"${EXTRA[@]}"}" \
        -I "$LZMA/C" -- "${LZMA_SRCS[@]}"; then
    die "the LZMA SDK failed to compile: ${COMPILE_FAILED[*]##*/}" "see the compiler output above"
fi
rm -f "$OUT/liblzmadec-m33.a"
$AR rcs "$OUT/liblzmadec-m33.a" "$OUT"/obj/lzma/*.o

# ---- (d) twinboot ----------------------------------------------------------

step "(d) libtwinboot-m33.a"
shopt -s nullglob
LIB_SRCS=("$LIB_DIR"/*.c)
shopt -u nullglob
[ ${#LIB_SRCS[@]} -gt 0 ] || die "no C files in $LIB_DIR" "nothing to build for twinboot"
if ! compile_all "$OUT/obj/twinboot" "${TARGET_FLAGS[@]}" -std=c11 -Wall -Wextra -Werror "${EXTRA[@]+"${EXTRA[@]}"}" \
        -DTB_CONFIG_NO_ED25519 -I "$ROOT/include" "${CONFIG_FLAGS[@]}" "${CBOR_INC[@]+"${CBOR_INC[@]}"}" -I "$LZMA/C" \
        -- "${LIB_SRCS[@]}"; then
    die "twinboot's lib failed to cross-compile: ${COMPILE_FAILED[*]##*/}" \
        "see the compiler output above: the device lib must build freestanding for the M33" \
        "(no host-only headers or calls; Ed25519 code behind TB_CONFIG_NO_ED25519)"
fi
rm -f "$OUT/libtwinboot-m33.a"
$AR rcs "$OUT/libtwinboot-m33.a" "$OUT"/obj/twinboot/*.o

# ---- (e) no libc beyond mem*/strlen ----------------------------------------

step "(e) libc dependencies"
# twinboot's and libcbor's objects: memcpy/memset/memcmp/memmove/strlen (and
# the EABI aliases GCC may emit for them); for libcbor this is what keeps the
# allocating files (and _CBOR_MALLOC = malloc) out. mbedTLS additionally:
# strcmp, used only by its name look-ups (mbedtls_md_info_from_string,
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
CHECK_LIBS=(libtwinboot-m33.a libmbedcrypto-m33.a liblzmadec-m33.a)
[ $HAVE_CBOR -eq 0 ] || CHECK_LIBS+=(libcbor-m33.a)
defined "${CHECK_LIBS[@]/#/$OUT/}" >"$TMPD/ours"
libc_problem=0
for lib in "${CHECK_LIBS[@]}"; do
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
    # Anything neither in libc, libgcc nor our archives: hooks the port
    # (or the application) has to provide. Informational.
    ext=$(awk '{ print $2 }' "$TMPD/undef" | sort -u | comm -23 - "$TMPD/ours" | comm -23 - "$TMPD/libc" |
          comm -23 - "$TMPD/libgcc" | tr '\n' ' ')
    [ -z "$ext" ] || echo "$lib expects from the port/application: $ext"
done
[ $libc_problem -eq 0 ] ||
    die "libc dependency check failed" \
        "twinboot's device code may use only memcpy/memset/memcmp/memmove/strlen from libc:" \
        "no malloc/calloc/free (use caller-provided or static buffers), no printf/abort/assert/exit;" \
        "for mbedTLS, fix port/nrf5340/mbedtls_config.h (PLATFORM_NO_STD_FUNCTIONS, EXIT_MACRO);" \
        "for libcbor, build only allocation-free files (CBOR_FILES in this script; a file that calls" \
        "malloc/free through _CBOR_MALLOC/_CBOR_FREE does not belong on the device)"
echo "ok: from libc only memcpy/memset/memcmp/memmove/strlen (+ strcmp in mbedTLS's name look-ups); libgcc helpers"

# ---- (f) sizes ---------------------------------------------------------------

step "(f) sizes (arm-none-eabi-size, -Os, Cortex-M33 Thumb-2)"
total() { # archive -> "text data bss" of the TOTALS line
    $SIZE -t "$1" | awk '/\(TOTALS\)/ { print $1, $2, $3 }'
}
SIZE_LIBS=(libmbedcrypto-m33.a)
[ $HAVE_CBOR -eq 0 ] || SIZE_LIBS+=(libcbor-m33.a)
SIZE_LIBS+=(liblzmadec-m33.a libtwinboot-m33.a)
for lib in "${SIZE_LIBS[@]}"; do
    echo "--- $lib"
    $SIZE -t "$OUT/$lib" | sed -E "s#[^ ]*/##; s# \(ex [^)]*\)##"
done
read -r tw_text tw_data tw_bss < <(total "$OUT/libtwinboot-m33.a")
read -r mb_text mb_data mb_bss < <(total "$OUT/libmbedcrypto-m33.a")
cb_text=0 cb_data=0 cb_bss=0 cb_note=""
if [ $HAVE_CBOR -eq 1 ]; then
    read -r cb_text cb_data cb_bss < <(total "$OUT/libcbor-m33.a")
else
    cb_note=" (not built)"
fi
echo
printf 'twinboot lib: %d bytes text+data, mbedTLS crypto: %d bytes text+data, libcbor: %d bytes text+data%s\n' \
    $((tw_text + tw_data)) $((mb_text + mb_data)) $((cb_text + cb_data)) "$cb_note"
printf '  (bss: twinboot %d, mbedTLS %d, libcbor %d; whole archives: a linked image with --gc-sections keeps only what it calls)\n' \
    "$tw_bss" "$mb_bss" "$cb_bss"

# What a firmware image actually carries: link the archives with
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
            -Wl,--start-group "$OUT/libtwinboot-m33.a" "$OUT/libmbedcrypto-m33.a" "$OUT/liblzmadec-m33.a" "${CBOR_A[@]+"${CBOR_A[@]}"}" \
            -lc -lgcc -Wl,--end-group \
            2>"$OUT/size-probe.log"; then
        awk '
            function hex(h,   i, c, v) { v = 0; h = tolower(substr(h, 3))
                for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c }
                return v }
            /^Linker script and memory map/ { on = 1; next }
            !on { next }
            /^[.][^ ]/ { out = $1 }
            NF >= 3 && $(NF-2) ~ /^0x[0-9a-f]+$/ && $(NF-1) ~ /^0x[0-9a-f]+$/ && $NF ~ /\)$|\.o$/ {
                who = ($NF ~ /libtwinboot-m33\.a\(/) ? "tb" : ($NF ~ /libmbedcrypto-m33\.a\(/) ? "mb" : \
                      ($NF ~ /libcbor-m33\.a\(/) ? "cb" : ($NF ~ /liblzmadec-m33\.a\(/) ? "lz" : "tc"
                if (out ~ /^\.(text|rodata|data|ARM\.exidx|ARM\.extab)$/) flash[who] += hex($(NF-1))
                else if (out == ".bss") ram[who] += hex($(NF-1))
            }
            END {
                printf "linked (--gc-sections, all twinboot API kept): twinboot lib: %d bytes text+data, mbedTLS crypto: %d bytes, libcbor: %d bytes, LZMA decoder: %d bytes, libc/libgcc: %d bytes\n", flash["tb"], flash["mb"], flash["cb"], flash["lz"], flash["tc"]
                printf "  (bss: twinboot %d, mbedTLS %d, libcbor %d; map: %s)\n", ram["tb"], ram["mb"], ram["cb"], map
            }' map="$OUT/size-probe.map" "$OUT/size-probe.map"
    else
        echo "note: the size-probe link failed (see $OUT/size-probe.log); archive sizes above still hold"
    fi
fi
echo "archives in $OUT ($((SECONDS - START)) s)"
CURRENT_STEP="finished"
