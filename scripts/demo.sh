#!/usr/bin/env bash
# `make demo`: the DevZone report's story (Nordic DevZone thread 128430)
# end to end on the simulated nRF5340 DK, managed over SMP with the twinboot
# client, as mcumgr would manage a board:
#   1. app update: upload, test, reset -> new app runs; reset, no confirm -> reverted
#   2. net-core update: upload image 1, test, reset, confirm -> permanent
#   3. net-core update tested but not confirmed -> the net core is rolled back
#   4. both images as one set: test, reset, confirm; a set not confirmed -> both revert
#   5. a power cut in the middle of a set update -> the device recovers to a valid pair
# Prints what happens, ends with a summary table, exits non-zero if any step
# does not behave.
set -uo pipefail
T=${1:-build/bin/twinboot}
W=$(mktemp -d)
PORT=${TB_DEMO_PORT:-$((21000 + RANDOM % 20000))}
C="--conn udp:127.0.0.1:$PORT"
DK="$W/dk"
SIM_PID=
cleanup() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
rows=()
failed=0

say() { printf '\n== %s\n' "$*"; }
# judge NAME CONDITION-COMMAND...: record a row of the summary
judge() {
    local name=$1; shift
    if "$@"; then rows+=("ok   | $name"); printf '   -> ok: %s\n' "$name"
    else rows+=("FAIL | $name"); printf '   -> UNEXPECTED: %s\n' "$name"; failed=1; fi
}
# run ARGS...: show the command as a user types it (no --conn, short paths and
# hashes), then the client's words that matter: no per-10% progress lines, no
# full image list (the device's own account follows every reset).
run() {
    local shown="$*"
    shown="${shown#--conn udp:127.0.0.1:$PORT }"
    shown="${shown//$W\//}"
    shown=$(sed -E 's/\b([0-9a-f]{12})[0-9a-f]{52}\b/\1…/g' <<<"$shown")
    printf '$ twinboot %s\n' "$shown"
    "$T" "$@" 2>&1 | grep -Ev '^upload: +[0-9]+% |^Images:|^ +(image=|version:|bootable:|flags:|hash:)' |
        sed -e "s|$W/||g" -e 's/^ *//' -e 's/^/    /'
}
start_device() { # another loopback port if this one is taken
    for _try in 1 2 3; do
        "$T" sim run "$DK" --udp 127.0.0.1:$PORT --for 600 "$@" >>"$W/device.log" 2>&1 &
        SIM_PID=$!
        for _ in $(seq 50); do "$T" $C echo up >/dev/null 2>&1 && return 0; sleep 0.1; done
        kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null
        PORT=$((21000 + RANDOM % 20000)); C="--conn udp:127.0.0.1:$PORT"
    done
    echo "the simulated device did not start:"; cat "$W/device.log"; exit 1
}
stop_device() { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=; }
# what runs: "image slot version" lines from the JSON list
slot_version() { "$T" $C --json image list | tr '{' '\n' | grep "\"image\":$1,\"slot\":$2," | sed 's/.*"version":"\([^"]*\)".*/\1/'; }
slot_hash() { "$T" $C --json image list | tr '{' '\n' | grep "\"image\":$1,\"slot\":$2," | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/'; }
slot_flag() { "$T" $C --json image list | tr '{' '\n' | grep "\"image\":$1,\"slot\":$2," | grep -q "\"$3\":true"; }
runs() { [ "$(slot_version 0 0)" = "$1" ] && [ "$(slot_version 1 0)" = "$2" ]; }
# reset, then what the device said since: power, bootloaders, both cores
reset_device() {
    local from=$(( $(wc -l < "$W/device.log") + 1 ))
    run $C reset
    sleep 0.7
    tail -n +"$from" "$W/device.log" | grep -v "reset requested over SMP" | sed 's/^/    device: /'
}
say "0. setup: a signing key, app and net images (imgtool's format), a blank nRF5340 DK"
"$T" image keygen -t ecdsa-p256 -k "$W/key.pem" >/dev/null 2>&1
{ head -c 512 /dev/zero; head -c 120000 /dev/urandom; } > "$W/app.bin"
{ head -c 512 /dev/zero; head -c 90000 /dev/urandom; } > "$W/net.bin"
for v in 1.0.0 2.0.0 3.0.0; do
    "$T" image sign -k "$W/key.pem" --header-size 0x200 --slot-size 0xe0000 --align 4 -v $v "$W/app.bin" "$W/app-$v.bin"
    "$T" image sign -k "$W/key.pem" --header-size 0x200 --slot-size 0x40000 --align 4 -v $v "$W/net.bin" "$W/net-$v.bin"
done
"$T" sim new -k "$W/key.pem" "$DK" | sed 's/^/    /'
"$T" sim load "$DK" --slot primary "$W/app-1.0.0.bin" >/dev/null
"$T" sim load "$DK" --image 1 --confirm "$W/net-1.0.0.bin" >/dev/null
start_device
sed 's/^/    device: /' "$W/device.log"
judge "factory: app 1.0.0 and net 1.0.0 run" runs 1.0.0 1.0.0

say "1. app update: upload, test, reset -> new app runs; reset without confirm -> reverted"
run $C image upload "$W/app-2.0.0.bin"
run $C image test "$(slot_hash 0 1)"
reset_device
judge "app 2.0.0 runs as a test" eval 'runs 2.0.0 1.0.0 && ! slot_flag 0 0 confirmed'
reset_device
judge "not confirmed: the app core reverted to 1.0.0" runs 1.0.0 1.0.0

say "2. net-core update (the report's failing case: app core in swap mode): upload image 1, test, reset, confirm"
run $C image upload -n 1 "$W/net-2.0.0.bin"
N2=$(slot_hash 1 1)
run $C image test "$N2"
reset_device
judge "both cores boot: net 2.0.0 runs as a test" eval 'runs 1.0.0 2.0.0 && ! slot_flag 1 0 confirmed'
run $C image confirm "$N2"
reset_device
judge "confirmed: net 2.0.0 stays" eval 'runs 1.0.0 2.0.0 && slot_flag 1 0 confirmed'

say "3. net-core update tested but not confirmed -> the net core is rolled back"
run $C image upload -n 1 "$W/net-3.0.0.bin"
run $C image test "$(slot_hash 1 1)"
reset_device
judge "net 3.0.0 runs as a test" runs 1.0.0 3.0.0
reset_device
judge "not confirmed: the net core rolled back to 2.0.0" runs 1.0.0 2.0.0

say "4. both images as one set: test, reset, confirm; then a set that is not confirmed"
run $C image upload "$W/app-2.0.0.bin"
run $C image upload -n 1 "$W/net-3.0.0.bin"
run $C image test "$(slot_hash 0 1)"
run $C image test "$(slot_hash 1 1)"
reset_device
judge "the set runs as a test: app 2.0.0, net 3.0.0" runs 2.0.0 3.0.0
run $C image confirm
reset_device
judge "confirmed as a whole (one confirm): both stay" eval 'runs 2.0.0 3.0.0 && slot_flag 0 0 confirmed && slot_flag 1 0 confirmed'
run $C image upload "$W/app-3.0.0.bin"
run $C image upload -n 1 "$W/net-1.0.0.bin"
run $C image test "$(slot_hash 0 1)"
run $C image test "$(slot_hash 1 1)"
reset_device
judge "a second set runs as a test: app 3.0.0, net 1.0.0" runs 3.0.0 1.0.0
reset_device
judge "not confirmed: both images reverted together" runs 2.0.0 3.0.0

say "5. a power cut in the middle of a set update"
stop_device
start_device --cut-after 150
run $C image test "$(slot_hash 0 1)"
run $C image test "$(slot_hash 1 1)"
reset_device
judge "the power was cut in the bootloaders' work" grep -q "cut during flash operation 150" "$W/device.log"
judge "after the cut the device boots a valid pair (the new set, as a test)" runs 3.0.0 1.0.0
reset_device
judge "not confirmed: the old pair is back" runs 2.0.0 3.0.0
stop_device

printf '\n== summary\n'
printf '%s\n' "${rows[@]}"
echo
if [ $failed -eq 0 ]; then
    echo "demo: all ${#rows[@]} checks behaved as expected (device log: the bootloaders' account of every reset)."
else
    echo "demo: some steps did not behave (FAIL above). Device log:"
    cat "$W/device.log"
fi
exit $failed
