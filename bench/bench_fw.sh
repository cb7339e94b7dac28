#!/usr/bin/env bash
# Firmware figures on QEMU mps2-an521 (not tests): instructions counted on
# the emulated Cortex-M33s (-icount shift=0 and SysTick: within 50, both
# CPUs summed), stack high-water marks of both bootloaders.
#   bench/bench_fw.sh [BUILD]      (needs `make firmware`)
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
T=$BUILD/bin/twinboot FW=build/fw/qemu K=keys/root-ecdsa-p256.pem
export TWINBOOT_FW_DIR=$PWD/$FW
[ -f "$FW/bench-validate.elf" ] || { echo "bench_fw: no firmware: run 'make firmware'"; exit 1; }
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT

sign() { # VERSION SLOT_SIZE IN OUT
    "$T" image sign -k "$K" -v "$1" -H 0x200 --pad-header -S "$2" --align 4 "$3" "$4" >/dev/null
}
# a 256 KiB application: the test app padded with data it never reads
head -c $((256 * 1024)) /dev/urandom >"$W/big.raw"
dd if="$FW/app-test.bin" of="$W/big.raw" conv=notrunc status=none
sign 1.0.0 0xe0000 "$FW/app-test.bin" "$W/a1.bin"
sign 2.0.0 0xe0000 "$W/big.raw" "$W/a2.bin"
sign 1.0.0 0x38000 "$FW/net-test.bin" "$W/n1.bin"
sign 2.0.0 0x38000 "$FW/net-test.bin" "$W/n2.bin"

stats() { # DIR LABEL: one reset with figures
    "$T" sim boot "$1" --qemu --stats >"$W/out" || { cat "$W/out"; exit 1; }
    local b a n
    b=$(sed -n 's/^\[stats\] bootloader-instructions //p' "$W/out")
    a=$(sed -n 's/^\[stats\] app-bootloader-stack \([0-9]*\).*/\1/p' "$W/out")
    n=$(sed -n 's/^\[stats\] net-bootloader-stack \([0-9]*\).*/\1/p' "$W/out")
    [ "$a" -gt "${app_hw:-0}" ] && app_hw=$a
    [ "$n" -gt "${net_hw:-0}" ] && net_hw=$n
    printf '  %-58s %12d instructions\n' "$2" "$b"
}

echo "== firmware on QEMU mps2-an521 (Cortex-M33, instructions of both cores up to the app core's jump) =="
"$T" sim new "$W/dk" >/dev/null
"$T" sim load "$W/dk" --slot primary "$W/a1.bin" >/dev/null
"$T" sim load "$W/dk" --image 1 --confirm "$W/n1.bin" >/dev/null
app_hw=0 net_hw=0
stats "$W/dk" "factory boot: net image 1.3 KiB installed through shared RAM"
stats "$W/dk" "plain boot: app primary validated (14 KiB, ECDSA), net INFO"
"$T" sim load "$W/dk" --test "$W/a2.bin" >/dev/null
stats "$W/dk" "256 KiB app upgrade boot (swap with backup, test)"
"$T" sim confirm "$W/dk" >/dev/null
"$T" sim load "$W/dk" --image 1 --test "$W/n2.bin" >/dev/null
stats "$W/dk" "net update boot (backup from the copy made ahead, install)"
stats "$W/dk" "net rollback boot (not confirmed: the backup goes back)"
echo "  stack high-water: app bootloader $app_hw bytes (of 16384), net bootloader $net_hw bytes (of 6144)"

echo "== image validation on the M33 (image 0's primary: the 256 KiB image) =="
qemu-system-arm -M mps2-an521 -display none -monitor none -serial none -icount shift=0,sleep=off \
    -semihosting-config enable=on,target=native,arg="$W/dk" -kernel "$FW/bench-validate.elf" >"$W/v"
awk '{ v[$1] = $2 } END {
    n = v["image-bytes"]; s = v["validate-signed-instructions"]; h = v["validate-hash-only-instructions"]
    b = v["sha256-instructions"]
    printf "  image: %d bytes hashed\n", n
    printf "  validation, hash only (reads + SHA-256 + TLVs): %d instructions, %.1f per byte\n", h, h / n
    printf "  bare SHA-256 of the same bytes in RAM:          %d instructions, %.1f per byte\n", b, b / n
    printf "  ratio validation / bare SHA-256:                %.3f\n", h / b
    printf "  with the signature (ECDSA-P256):                %d instructions, %.1f per byte (signature %d)\n", s, s / n, s - h
}' "$W/v"
