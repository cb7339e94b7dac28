#!/usr/bin/env bash
# A realistic Cortex-M33 Thumb-2 payload of >= 256 KiB for bench_lzma: the
# flash contents (.text, .rodata, .data) of a link of twinboot's device
# library, mbedTLS, the LZMA decoder and newlib's libc/libm, every object
# kept (--whole-archive). Needs the cross build (scripts/cross-build.sh).
#   bench/thumb-payload.sh OUT.bin
set -euo pipefail
OUT=$1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
C=${TB_CROSS_DIR:-$ROOT/build/cross}
for a in libtwinboot-m33.a libmbedcrypto-m33.a liblzmadec-m33.a; do
    [ -f "$C/$a" ] || bash "$ROOT/scripts/cross-build.sh" >/dev/null
done
F=(-mcpu=cortex-m33 -mthumb)
LIBC=$(arm-none-eabi-gcc "${F[@]}" -print-file-name=libc.a)
LIBM=$(arm-none-eabi-gcc "${F[@]}" -print-file-name=libm.a)
ELF=$(mktemp --suffix=.elf)
trap 'rm -f "$ELF"' EXIT
arm-none-eabi-gcc "${F[@]}" -nostdlib -Wl,--unresolved-symbols=ignore-all -Wl,--allow-multiple-definition \
    -Wl,-e,0 -o "$ELF" -Wl,--whole-archive "$C/libtwinboot-m33.a" "$C/libmbedcrypto-m33.a" "$C/liblzmadec-m33.a" \
    "$LIBM" "$LIBC" -Wl,--no-whole-archive
arm-none-eabi-objcopy -O binary -j .text -j .rodata -j .data "$ELF" "$OUT"
size=$(stat -c %s "$OUT")
[ "$size" -ge $((256 * 1024)) ] || { echo "thumb-payload: only $size bytes" >&2; exit 1; }
