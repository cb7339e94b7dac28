#!/usr/bin/env bash
# Benchmarks (not tests): print figures and ratios; `make bench` runs this.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
B="$BUILD/bin/bench_validate"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT

echo "== boot engine: flash cost of upgrade / confirm / revert =="
"$BUILD/bin/bench_boot" keys/root-ecdsa-p256.pem
echo "== SMP upload over the serial transport (simulated baud rates) =="
"$BUILD/bin/bench_smp" keys/root-ecdsa-p256.pem
echo
echo "== SMP upload over UDP on loopback (real sockets, the simulated device behind them) =="
T="$BUILD/bin/twinboot"
PORT=$((22000 + RANDOM % 20000))
"$T" sim new "$W/udpdk" >/dev/null
"$T" sim run "$W/udpdk" --udp 127.0.0.1:$PORT --for 120 >"$W/udp.log" 2>&1 &
SIMPID=$!
for _ in $(seq 50); do "$T" --conn udp:127.0.0.1:$PORT echo up >/dev/null 2>&1 && break; sleep 0.1; done
head -c 786432 /dev/urandom > "$W/big.bin"
"$T" --conn udp:127.0.0.1:$PORT --json image upload "$W/big.bin" 2>/dev/null | \
    awk -F'[:,}]' '{ for (i = 1; i <= NF; i++) { if ($i ~ /uploaded/) b = $(i+1); if ($i ~ /seconds/) s = $(i+1) } }
                   END { printf "  768 KiB in %.3f s: %.1f KiB/s (1024-byte chunks, one request in flight)\n", s, b / 1024 / s }'
kill $SIMPID 2>/dev/null; wait $SIMPID 2>/dev/null
echo
echo "== network core: update with backup, revert, and NCS's plain hand-over =="
"$BUILD/bin/bench_net" keys/root-ecdsa-p256.pem
echo


# Instructions inside one function, counted by callgrind (deterministic).
count() { # function KiB
    valgrind --tool=callgrind --callgrind-out-file="$W/cg.$1" --collect-atstart=no \
        --toggle-collect="$1" "$B" keys/root-ecdsa-p256.pem "$2" > "$W/out.$1" 2>"$W/err.$1"
    awk '/^summary:|^totals:/ {print $2; exit}' "$W/cg.$1"
}

for kib in 512 256; do
echo "== image validation (SHA-256 + ECDSA-P256, $kib KiB, from simulated flash) =="
v=$(count bench_validate $kib)
s=$(count bench_sha256 $kib)
cat "$W/out.bench_validate"
n=$(awk -F= '/^hashed_bytes=/ {print $2}' "$W/out.bench_validate")
awk -v v="$v" -v s="$s" -v n="$n" -v kib="$kib" 'BEGIN {
    printf "validate (read + SHA-256 + key + ECDSA): %d instructions, %.1f per byte\n", v, v / n
    printf "bare SHA-256 of the same bytes (RAM):     %d instructions, %.1f per byte\n", s, s / n
    printf "ratio validate / bare SHA-256:           %.3f\n", v / s
    printf "fixed cost beyond hashing (ECDSA, reads):  %d instructions\n", v - s
    if (kib == 256)
        printf "MCUboot bootutil, same 256 KiB boot validation (tinycrypt, docs/nrf5340-facts.md): 35.2 M = 134 per byte -> twinboot/MCUboot = %.2f\n", v / 35.2e6
}'
done
