#!/usr/bin/env bash
# Compile check of the nRF5340 drivers (port/nrf5340/drivers/) for both
# cores with Debian's arm-none-eabi-gcc, the flags of the bootloader images:
#   app core: -mcpu=cortex-m33
#   net core: -mcpu=cortex-m33+nofp+nodsp -mfloat-abi=soft -DTB_NRF_NETCORE
# Fails on any warning, or when an object needs from outside the drivers
# anything but memcpy/memset/memcmp (no libc, no heap, no stdio). Prints each
# object's size. The firmware images themselves are built elsewhere
# (`make firmware`); this only proves the drivers' folder on its own.
#   scripts/cross-drivers.sh [OUTDIR]     (default build/cross-drivers)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/build/cross-drivers}
CC=arm-none-eabi-gcc
NM=arm-none-eabi-nm
SIZE=arm-none-eabi-size
command -v $CC >/dev/null || { echo "cross-drivers: $CC not found (apt-get install gcc-arm-none-eabi)" >&2; exit 1; }

COMMON=(-mthumb -Os -std=c11 -ffreestanding -ffunction-sections -fdata-sections
        -Wall -Wextra -Werror -I "$ROOT/include" -I "$ROOT/port/nrf5340")
ALLOWED='memcpy|memset|memcmp|__aeabi_mem(cpy|cpy4|cpy8|set|set4|set8|clr|clr4|clr8)'
rc=0
for core in app net; do
    if [ $core = app ]; then flags=(-mcpu=cortex-m33); else flags=(-mcpu=cortex-m33+nofp+nodsp -mfloat-abi=soft -DTB_NRF_NETCORE); fi
    dir=$OUT/$core
    rm -rf "$dir"; mkdir -p "$dir"
    for src in "$ROOT"/port/nrf5340/drivers/*.c; do
        $CC "${flags[@]}" "${COMMON[@]}" -c "$src" -o "$dir/$(basename "${src%.c}").o" || rc=1
    done
    [ $rc -eq 0 ] || { echo "cross-drivers: $core core: compile failed" >&2; exit 1; }
    # undefined symbols not defined by another driver object
    defined=$($NM -g --defined-only "$dir"/*.o | awk 'NF == 3 { print $3 }' | sort -u)
    undef=$($NM -u "$dir"/*.o | awk 'NF == 2 { print $2 }' | sort -u)
    bad=$(comm -23 <(printf '%s\n' "$undef") <(printf '%s\n' "$defined") | grep -Ev "^($ALLOWED)\$" | grep -v '^$' || true)
    if [ -n "$bad" ]; then
        echo "cross-drivers: $core core: the drivers need symbols they may not: $(echo $bad)" >&2
        exit 1
    fi
    echo "--- $core core (${flags[*]})"
    $SIZE -t "$dir"/*.o | sed -E "s#$dir/##"
done
echo "cross-drivers: ok (both cores, -Werror, only memcpy/memset/memcmp from libc)"
