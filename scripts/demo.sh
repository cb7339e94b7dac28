#!/usr/bin/env bash
# `make demo`: the main job as far as twinboot goes today, on a simulated
# nRF5340 DK: the DevZone report's story (thread 128430) - app-core update
# with test -> revert and test -> confirm; the network core updated with the
# app core in swap mode, rolled back when not confirmed; both images as one
# set; power cuts in the middle of updates; a tampered image refused. Ends
# with a summary table; exits non-zero if any step does not behave.
set -uo pipefail
T=${1:-build/bin/twinboot}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
DK="$W/dk"
failed=0
rows=()
step() { printf '\n== %s\n' "$*"; }
# check DESCRIPTION WANT-RC PATTERN cmd...: run, show, and judge a step
check() {
    local what=$1 want=$2 pattern=$3; shift 3
    printf '$ %s\n' "${*/#$W/\$W}"
    "$@" > "$W/out" 2>&1; local rc=$?
    sed 's/^/    /' "$W/out"
    if [ $rc -eq "$want" ] && { [ -z "$pattern" ] || grep -q -- "$pattern" "$W/out"; }; then
        rows+=("ok   | $what"); printf '    -> ok: %s\n' "$what"
    else
        rows+=("FAIL | $what"); printf '    -> UNEXPECTED (exit %d, wanted %d%s)\n' $rc "$want" "${pattern:+, output with '$pattern'}"
        failed=1
    fi
}

step "1. a signing key and two versions of an application (imgtool's format)"
check "key made" 0 "" $T image keygen -t ecdsa-p256 -k "$W/key.pem"
{ head -c 512 /dev/zero; head -c 120000 /dev/urandom; } > "$W/zephyr.bin"
check "v1.0.0 signed" 0 "" $T image sign -k "$W/key.pem" --header-size 0x200 --slot-size 0xe0000 --align 4 \
    --version 1.0.0 "$W/zephyr.bin" "$W/app-v1.bin"
check "v2.0.0 signed" 0 "" $T image sign -k "$W/key.pem" --header-size 0x200 --slot-size 0xe0000 --align 4 \
    --version 2.0.0 "$W/zephyr.bin" "$W/app-v2.bin"
check "v2 verifies" 0 "correctly validated" $T image verify -k "$W/key.pem" "$W/app-v2.bin"
{ head -c 512 /dev/zero; head -c 90000 /dev/urandom; } > "$W/ble.bin"
check "net image 1.0.0 signed" 0 "" $T image sign -k "$W/key.pem" --header-size 0x200 --slot-size 0x40000 \
    --align 4 --version 1.0.0 "$W/ble.bin" "$W/net-v1.bin"
check "net image 2.0.0 signed" 0 "" $T image sign -k "$W/key.pem" --header-size 0x200 --slot-size 0x40000 \
    --align 4 --version 2.0.0 "$W/ble.bin" "$W/net-v2.bin"

step "2. a blank nRF5340 DK trusting that key, v1 flashed as by a debugger"
check "device made" 0 "" $T sim new -k "$W/key.pem" "$DK"
check "v1 flashed" 0 "" $T sim load "$DK" --slot primary "$W/app-v1.bin"
check "net v1 installed" 0 "pending a permanent" $T sim load "$DK" --image 1 --confirm "$W/net-v1.bin"
check "both cores boot v1" 0 "net core: boots image 1 version 1.0.0+0, confirmed" $T sim boot "$DK"

step "3. upload v2 and 'image test', reset: v2 runs as a test"
check "v2 pending test" 0 "pending test" $T sim load "$DK" --test "$W/app-v2.bin"
check "v2 runs, not confirmed" 0 "upgrade-test 1.0.0+0 -> 2.0.0+0" $T sim boot "$DK"

step "4. reset without a confirm: the app core reverts to v1"
check "reverted to v1" 0 "revert 2.0.0+0 -> 1.0.0+0" $T sim boot "$DK"
check "no ping-pong" 0 "app core, swap): none" $T sim boot "$DK"

step "5. test again, the application confirms, reset: v2 stays"
check "v2 pending test" 0 "pending test" $T sim load "$DK" --test "$W/app-v2.bin"
check "v2 runs" 0 "version 2.0.0+0, a test" $T sim boot "$DK"
check "v2 confirmed" 0 "confirmed" $T sim confirm "$DK"
check "v2 stays" 0 "version 2.0.0+0, confirmed" $T sim boot "$DK"

step "6. a power cut in the middle of an update, then power on"
check "v1 pending test" 0 "pending test" $T sim load "$DK" --test "$W/app-v1.bin"
check "power cut at flash operation 300" 4 "power cut during flash operation 300" $T sim boot "$DK" --cut-after 300 --seed 42
check "update resumed and finished" 0 "resumed an operation" $T sim boot "$DK"
check "and reverted when not confirmed" 0 "version 2.0.0+0, confirmed" $T sim boot "$DK"

step "7. the DevZone report's case: app core in swap mode, image 1 uploaded with test, reset"
check "net v2 pending test" 0 "pending test" $T sim load "$DK" --image 1 --test "$W/net-v2.bin"
check "both cores boot (net v2 as a test)" 0 "net core: boots image 1 version 2.0.0+0, a test" $T sim boot "$DK"
check "not confirmed: the net core is rolled back" 0 "revert 2.0.0+0 -> 1.0.0+0" $T sim boot "$DK"
check "net v2 pending test" 0 "pending test" $T sim load "$DK" --image 1 --test "$W/net-v2.bin"
check "net v2 runs" 0 "net core: boots image 1 version 2.0.0+0, a test" $T sim boot "$DK"
check "net v2 confirmed" 0 "confirmed" $T sim confirm "$DK" --image 1
check "net v2 stays" 0 "net core: boots image 1 version 2.0.0+0, confirmed" $T sim boot "$DK"

step "8. both images as one set: test, not confirmed -> both revert; test, confirm -> both stay"
check "app v1 pending" 0 "pending test" $T sim load "$DK" --test "$W/app-v1.bin"
check "net v1 pending" 0 "pending test" $T sim load "$DK" --image 1 --test "$W/net-v1.bin"
check "the set boots as tests" 0 "update set" $T sim boot "$DK"
check "not confirmed: both revert" 0 "net core: boots image 1 version 2.0.0+0, confirmed" $T sim boot "$DK"
check "app v1 pending" 0 "pending test" $T sim load "$DK" --test "$W/app-v1.bin"
check "net v1 pending" 0 "pending test" $T sim load "$DK" --image 1 --test "$W/net-v1.bin"
check "a power cut in the middle of the set" 4 "power cut" $T sim boot "$DK" --cut-after 120 --seed 9
check "power on: the set is finished" 0 "resumed an operation" $T sim boot "$DK"
check "the application confirms (image 0)" 0 "confirmed" $T sim confirm "$DK"
check "the whole set stays" 0 "net core: boots image 1 version 1.0.0+0, confirmed" $T sim boot "$DK"

step "9. a tampered image is refused; the running image keeps booting"
cp "$W/app-v1.bin" "$W/tampered.bin"
printf '\x01' | dd of="$W/tampered.bin" bs=1 seek=4096 conv=notrunc status=none
check "tampered image fails verify" 1 "hash mismatch" $T image verify -k "$W/key.pem" "$W/tampered.bin"
check "tampered image pending" 0 "" $T sim load "$DK" --test "$W/tampered.bin"
check "refused, the set still runs" 0 "reason: image hash mismatch" $T sim boot "$DK"
check "status shows the device" 0 "running: image 0 version 1.0.0+0 (confirmed)" $T sim status "$DK"

printf '\n== summary\n'
printf '%s\n' "${rows[@]}"
echo
if [ $failed -eq 0 ]; then
    echo "demo: all ${#rows[@]} steps behaved as expected."
    echo "Next in twinboot: the same story over SMP (mcumgr, smpmgr), issue 6."
else
    echo "demo: some steps did not behave (FAIL above)"
fi
exit $failed
