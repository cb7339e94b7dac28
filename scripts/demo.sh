#!/usr/bin/env bash
# `make demo`: the main job as far as twinboot goes today. Make a key, sign
# an application, write it into a simulated nRF5340 DK, check it the way the
# bootloader does, and show that a tampered image is refused.
set -uo pipefail
T=${1:-build/bin/twinboot}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
failed=0
step() { printf '\n== %s\n' "$*"; }
run()  { printf '$ %s\n' "$*"; "$@"; }
expect() { # want-rc description cmd...
    local want=$1 what=$2; shift 2
    printf '$ %s\n' "$*"; "$@"; local rc=$?
    if [ $rc -eq "$want" ]; then printf '   -> %s (exit %d, as expected)\n' "$what" $rc
    else printf '   -> UNEXPECTED: exit %d, wanted %d (%s)\n' $rc "$want" "$what"; failed=1; fi
}

step "1. a signing key (ECDSA P-256, PKCS#8 PEM as imgtool writes)"
expect 0 "key made" $T image keygen -t ecdsa-p256 -k "$W/app-key.pem"
run $T image getpubhash -k "$W/app-key.pem"

step "2. an application binary with 0x200 bytes of header room, signed as version 1.1.0"
{ head -c 512 /dev/zero; head -c 65536 /dev/urandom; } > "$W/zephyr.bin"
expect 0 "image signed" $T image sign -k "$W/app-key.pem" --header-size 0x200 --slot-size 0xe0000 \
    --align 4 --version 1.1.0+7 --security-counter auto "$W/zephyr.bin" "$W/app-v1.1.0.bin"
run $T image dumpinfo "$W/app-v1.1.0.bin"

step "3. a blank simulated nRF5340 DK whose bootloader trusts that key"
expect 0 "device made" $T sim new -k "$W/app-key.pem" "$W/dk"

step "4. the image written into the app core's secondary slot (external QSPI), as an upload would"
expect 0 "image written" $T sim load "$W/dk" --image 0 --slot secondary "$W/app-v1.1.0.bin"

step "5. checked with the bootloader's own validator, on the file and in the device"
expect 0 "valid" $T image verify -k "$W/app-key.pem" "$W/app-v1.1.0.bin"
run $T sim status "$W/dk" | tee "$W/status"
grep -q "image 0 secondary .*valid, version 1.1.0+7" "$W/status" || { echo "   -> UNEXPECTED: slot not valid"; failed=1; }

step "6. a tampered copy (one payload bit flipped) and a stranger's signature are refused"
cp "$W/app-v1.1.0.bin" "$W/tampered.bin"
printf '\x01' | dd of="$W/tampered.bin" bs=1 seek=4096 conv=notrunc status=none
expect 1 "tampered image refused" $T image verify -k "$W/app-key.pem" "$W/tampered.bin"
expect 0 "other key made" $T image keygen -t ecdsa-p256 -k "$W/other-key.pem"
expect 1 "image signed by an untrusted key refused" $T image verify -k "$W/other-key.pem" "$W/app-v1.1.0.bin"
expect 0 "tampered image written to the primary slot" $T sim load "$W/dk" --slot primary "$W/tampered.bin"
run $T sim status "$W/dk" | tee "$W/status"
grep -q "image 0 primary .*INVALID (image hash mismatch)" "$W/status" || { echo "   -> UNEXPECTED: tampered slot accepted"; failed=1; }

echo
if [ $failed -eq 0 ]; then
    echo "demo: every step behaved as expected."
    echo "Next in twinboot: the boot engine (test/confirm/revert) and the network core hand-over."
else
    echo "demo: some steps did not behave (see UNEXPECTED above)"
fi
exit $failed
