#!/usr/bin/env bash
# `twinboot sim`: a device directory keeps its flashes across runs; load and
# status go through the device-side validator with the device's trusted keys.
set -u
T="$1"; SRC="$2"; V="$3"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$W/out" 2>"$W/err"; local rc=$?
    [ "$rc" = "$want" ] && ok || bad "rc $rc (want $want): $* :: $(head -c 300 "$W/err")"; }

for c in new load boot confirm status; do expect_rc 0 $T sim $c --help; done
expect_rc 2 $T sim
expect_rc 2 $T sim new
expect_rc 1 $T sim status "$W/nodev"

# a device trusting the development keys
expect_rc 0 $T sim new "$W/dk"
for f in app.bin net.bin qspi.bin trusted-0.pem trusted-1.pem trusted-2.pem; do [ -f "$W/dk/$f" ] && ok || bad "missing $f"; done
[ "$(stat -c %s "$W/dk/qspi.bin")" = 8388608 ] && ok || bad "qspi size"
[ "$($T sim status "$W/dk" | grep -c ": empty")" = 6 ] && ok || bad "blank device not empty"

$T image sign -k "$SRC/keys/root-ed25519.pem" --header-size 0x200 --slot-size 0xe0000 --align 4 -v 1.2.0 "$V/payload-40k.bin" "$W/app.bin"
expect_rc 0 $T sim load "$W/dk" --image 0 --slot secondary "$W/app.bin"
grep -q "qspi flash: 12 erases" "$W/out" && ok || bad "load counters: $(cat "$W/out")"   # 11 image sectors + trailer
$T sim status "$W/dk" > "$W/st"
grep -q "image 0 secondary qspi 0x000000: valid, version 1.2.0+0" "$W/st" && ok || bad "secondary not valid: $(cat "$W/st")"
# a state that persists: a second run still sees it
$T sim status "$W/dk" | grep -q "valid, version 1.2.0" && ok || bad "not persisted"

# an image signed by a key the device does not trust
expect_rc 0 $T sim load "$W/dk" --slot primary "$V/signed-ecdsa-p256.bin"
$T sim status "$W/dk" | grep -q "image 0 primary .*INVALID (image is signed by an unknown key)" && ok || bad "untrusted key accepted"
# trusting the vector key instead
expect_rc 0 $T sim new -k "$V/key-ecdsa-p256.pem" "$W/dk2"
expect_rc 0 $T sim load "$W/dk2" --slot primary "$V/signed-ecdsa-p256.bin"
$T sim status "$W/dk2" | grep -q "image 0 primary .*valid, version 1.0.0" && ok || bad "trusted key refused"
expect_rc 0 $T sim load "$W/dk2" --slot primary "$V/corrupt-bitflip-payload.bin"
$T sim status "$W/dk2" | grep -q "INVALID (image hash mismatch)" && ok || bad "corrupt accepted"
# image 1's primary is the net core's flash: not writable from the app core
expect_rc 1 $T sim load "$W/dk" --image 1 --slot primary "$W/app.bin"
expect_rc 2 $T sim load "$W/dk" --image 2 "$W/app.bin"
# a file larger than the slot
head -c 2000000 /dev/zero > "$W/big.bin"
expect_rc 1 $T sim load "$W/dk" --image 1 --slot secondary "$W/big.bin"

# ---- the DevZone report's app-core flow, from the shell ----
K="$SRC/keys/root-ed25519.pem"
$T image sign -k "$K" -H 0x200 -S 0xe0000 --align 4 -v 1.0.0 "$V/payload-40k.bin" "$W/v1.bin"
$T image sign -k "$K" -H 0x200 -S 0xe0000 --align 4 -v 2.0.0 "$V/payload-40k.bin" "$W/v2.bin"
expect_rc 0 $T sim new "$W/app"
expect_rc 3 $T sim boot "$W/app"                       # blank: no bootable image, a defined state
grep -q "no bootable image" "$W/out" && ok || bad "no-image message"
expect_rc 1 $T sim confirm "$W/app"                    # nothing runs: nothing to confirm
expect_rc 0 $T sim load "$W/app" --slot primary "$W/v1.bin"
expect_rc 0 $T sim boot "$W/app"
grep -q "boots: image 0 version 1.0.0+0, confirmed" "$W/out" && ok || bad "v1 does not boot"
# load a new app for test, boot -> new app runs
expect_rc 0 $T sim load "$W/app" --test "$W/v2.bin"
grep -q "pending test; reset" "$W/out" && ok || bad "pending message"
expect_rc 0 $T sim boot "$W/app"
grep -q "upgrade-test 1.0.0+0 -> 2.0.0+0" "$W/out" && grep -q "version 2.0.0+0, a test, NOT confirmed" "$W/out" && ok || bad "test upgrade: $(cat "$W/out")"
$T sim status "$W/app" --json > "$W/st.json"
grep -q '"action":"upgrade-test"' "$W/st.json" && grep -q '"confirmed":false' "$W/st.json" && ok || bad "json record"
# boot again without confirm -> old app back
expect_rc 0 $T sim boot "$W/app"
grep -q "revert 2.0.0+0 -> 1.0.0+0" "$W/out" && grep -q "version 1.0.0+0, confirmed" "$W/out" && ok || bad "revert: $(cat "$W/out")"
expect_rc 0 $T sim boot "$W/app"
grep -q "image 0 (app core, swap): none" "$W/out" && ok || bad "ping-pong"
# load, test, boot, confirm, boot -> new app stays
expect_rc 0 $T sim load "$W/app" --test "$W/v2.bin"
expect_rc 0 $T sim boot "$W/app"
expect_rc 0 $T sim confirm "$W/app"
expect_rc 0 $T sim boot "$W/app"
grep -q "version 2.0.0+0, confirmed" "$W/out" && ok || bad "confirmed image did not stay"
# a power cut in the middle of an upgrade, then power on: the upgrade completes
expect_rc 0 $T sim load "$W/app" --test "$W/v1.bin"
expect_rc 4 $T sim boot "$W/app" --cut-after 17 --seed 3
grep -q "power cut during flash operation 17" "$W/out" && ok || bad "cut message"
expect_rc 0 $T sim boot "$W/app"
grep -q "resumed an operation" "$W/out" && grep -q "version 1.0.0+0, a test" "$W/out" && ok || bad "resume: $(cat "$W/out")"
expect_rc 0 $T sim boot "$W/app"
grep -q "version 2.0.0+0, confirmed" "$W/out" && ok || bad "revert after resumed test"
# a refused request: the bad image never goes in, the reason is shown
cp "$W/v1.bin" "$W/bad.bin"; printf '\x55' | dd of="$W/bad.bin" bs=1 seek=2000 conv=notrunc status=none
expect_rc 0 $T sim load "$W/app" --test "$W/bad.bin"
expect_rc 0 $T sim boot "$W/app"
grep -q "refused" "$W/out" && grep -q "reason: image hash mismatch" "$W/out" && grep -q "version 2.0.0+0, confirmed" "$W/out" && ok || bad "refusal: $(cat "$W/out")"
# overwrite strategy: permanent, no revert
expect_rc 0 $T sim new --strategy overwrite "$W/ow"
expect_rc 0 $T sim load "$W/ow" --slot primary "$W/v1.bin"
expect_rc 0 $T sim load "$W/ow" --test "$W/v2.bin"
expect_rc 0 $T sim boot "$W/ow"
grep -q "overwrite 1.0.0+0 -> 2.0.0+0" "$W/out" && ok || bad "overwrite"
expect_rc 0 $T sim boot "$W/ow"
grep -q "version 2.0.0+0, confirmed" "$W/out" && ok || bad "overwrite reverted"
# ---- the DevZone report's failing case: app core in swap mode, image 1 with test, reset ----
$T image sign -k "$K" -H 0x200 -S 0x40000 --align 4 -v 1.0.0 "$V/payload-40k.bin" "$W/n1.bin"
$T image sign -k "$K" -H 0x200 -S 0x40000 --align 4 -v 2.0.0 "$V/payload-raw-40k.bin" --pad-header "$W/n2.bin"
expect_rc 0 $T sim new "$W/dz"
expect_rc 0 $T sim load "$W/dz" --slot primary "$W/v1.bin"
expect_rc 0 $T sim load "$W/dz" --image 1 --confirm "$W/n1.bin"
expect_rc 0 $T sim boot "$W/dz"
grep -q "net core: boots image 1 version 1.0.0+0, confirmed" "$W/out" && ok || bad "net factory: $(cat "$W/out")"
expect_rc 0 $T sim load "$W/dz" --image 1 --test "$W/n2.bin"
expect_rc 0 $T sim boot "$W/dz"
grep -q "boots: image 0 version 1.0.0+0, confirmed" "$W/out" && grep -q "net core: boots image 1 version 2.0.0+0, a test" "$W/out" && ok || bad "devzone test: $(cat "$W/out")"
expect_rc 0 $T sim boot "$W/dz"
grep -q "image 1 (net core, handover): revert 2.0.0+0 -> 1.0.0+0" "$W/out" && grep -q "net core: boots image 1 version 1.0.0+0, confirmed" "$W/out" && ok || bad "net rollback: $(cat "$W/out")"
# with confirm: it stays
expect_rc 0 $T sim load "$W/dz" --image 1 --test "$W/n2.bin"
expect_rc 0 $T sim boot "$W/dz"
expect_rc 0 $T sim confirm "$W/dz" --image 1
expect_rc 0 $T sim boot "$W/dz"
grep -q "net core: boots image 1 version 2.0.0+0, confirmed" "$W/out" && ok || bad "net confirm: $(cat "$W/out")"
# a set, tested and not confirmed: both revert
expect_rc 0 $T sim load "$W/dz" --test "$W/v2.bin"
expect_rc 0 $T sim load "$W/dz" --image 1 --test "$W/n1.bin"
expect_rc 0 $T sim boot "$W/dz"
grep -q "boots: image 0 version 2.0.0+0, a test" "$W/out" && grep -q "net core: boots image 1 version 1.0.0+0, a test" "$W/out" && grep -q "update set" "$W/out" && ok || bad "set: $(cat "$W/out")"
expect_rc 0 $T sim boot "$W/dz"
grep -q "boots: image 0 version 1.0.0+0, confirmed" "$W/out" && grep -q "net core: boots image 1 version 2.0.0+0, confirmed" "$W/out" && ok || bad "set revert: $(cat "$W/out")"
$T sim status "$W/dz" --json | grep -q '"image":1,"slot":"primary","flash":"net"' && ok || bad "status shows the net slot"

# a compressed image (imgtool's lzma2armthumb vector): installed as the image it rebuilds, then reverted
expect_rc 0 $T sim new -k "$V/key-ed25519.pem" "$W/lz"
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --pad-header --slot-size 0xe0000 --align 4 -v 1.0.0 "$V/payload-raw-40k.bin" "$W/lz1.bin"
expect_rc 0 $T sim load "$W/lz" --slot primary "$W/lz1.bin"
expect_rc 0 $T sim load "$W/lz" --test "$V/signed-ed25519-lzma2armthumb.bin"
expect_rc 0 $T sim boot "$W/lz"
grep -q "boots: image 0 version 1.2.0+0, a test" "$W/out" && ok || bad "compressed test: $(cat "$W/out")"
cmp -s <(tail -c +$((0x10000 + 1)) "$W/lz/app.bin" | head -c 50284) "$V/signed-ed25519-thumb-uncompressed.bin" && ok || bad "primary is not the rebuilt image"
expect_rc 0 $T sim boot "$W/lz"
grep -q "boots: image 0 version 1.0.0+0, confirmed" "$W/out" && ok || bad "compressed revert: $(cat "$W/out")"

expect_rc 2 $T sim new --strategy scratch "$W/x"
expect_rc 2 $T sim boot "$W/app" --cut-after 0

echo "cli_sim: $pass passed, $fail failed"
[ $fail -eq 0 ]
