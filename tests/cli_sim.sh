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

for c in new load status; do expect_rc 0 $T sim $c --help; done
expect_rc 2 $T sim
expect_rc 2 $T sim new
expect_rc 1 $T sim status "$W/nodev"

# a device trusting the development keys
expect_rc 0 $T sim new "$W/dk"
for f in app.bin net.bin qspi.bin trusted-0.pem trusted-1.pem trusted-2.pem; do [ -f "$W/dk/$f" ] && ok || bad "missing $f"; done
[ "$(stat -c %s "$W/dk/qspi.bin")" = 8388608 ] && ok || bad "qspi size"
$T sim status "$W/dk" | grep -c ": empty" | grep -q 3 && ok || bad "blank device not empty"

$T image sign -k "$SRC/keys/root-ed25519.pem" --header-size 0x200 --slot-size 0xe0000 --align 4 -v 1.2.0 "$V/payload-40k.bin" "$W/app.bin"
expect_rc 0 $T sim load "$W/dk" --image 0 --slot secondary "$W/app.bin"
grep -q "qspi flash: 11 erases" "$W/out" && ok || bad "load counters: $(cat "$W/out")"
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

echo "cli_sim: $pass passed, $fail failed"
[ $fail -eq 0 ]
