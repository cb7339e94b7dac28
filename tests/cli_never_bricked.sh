#!/usr/bin/env bash
# Never bricked: a bad pending net image is refused and both cores keep
# running (sim boot and sim run over SMP); the device directory is saved all
# or nothing, before an SMP answer, by one owner; keys are checked first.
set -u
T="$1"; SRC="$2"; V="$3"
W=$(mktemp -d)
PORT=$((20000 + RANDOM % 30000))
C="--conn udp:127.0.0.1:$PORT"
. "$(dirname "$0")/cli_lib.sh"
cleanup() { [ -n "$SIM_PID" ] && kill -9 "$SIM_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
pending_req() { # a secondary slot in this status --json carries a request (trailer magic good)
    grep -q '"slot":"secondary",[^}]*"trailer":{"magic":"good"' "$1"; }

K="$SRC/keys/root-ed25519.pem"
OTHER="$V/key-ecdsa-p256-other.pem"
sign() { $T image sign -H 0x200 --align 4 "$@" >/dev/null || bad "sign $*"; }
sign -k "$K" -S 0xe0000 -v 1.0.0 "$V/payload-40k.bin" "$W/a1.bin"
sign -k "$K" -S 0xe0000 -v 2.0.0 "$V/payload-raw-40k.bin" --pad-header "$W/a2.bin"
sign -k "$K" -S 0x40000 -v 1.0.0 "$V/payload-40k.bin" "$W/n1.bin"
sign -k "$K" -S 0x40000 -v 2.0.0 "$V/payload-raw-40k.bin" --pad-header "$W/n2.bin"
# the bad net images
sign -k "$OTHER" -S 0x40000 -v 2.0.0 "$V/payload-40k.bin" "$W/bad-key.bin"
head -c 20000 "$W/n2.bin" > "$W/bad-truncated.bin"
head -c 30000 /dev/urandom > "$W/bad-random.bin"
sign -k "$K" -S 0x40000 -v 2.0.0 --non-bootable "$V/payload-40k.bin" "$W/bad-nonbootable.bin"
for _ in 1 2 3 4 5 6; do cat "$V/payload-40k.bin"; done > "$W/big.raw"   # 240 KiB: more than the 224 KiB net slot
sign -k "$K" -S 0x40000 -v 2.0.0 "$W/big.raw" "$W/bad-toolarge.bin"
sign -k "$K" -S 0x40000 -v 2.0.0 -d "(0, 5.0.0)" "$V/payload-40k.bin" "$W/bad-dependency.bin"
sign -k "$K" -S 0x40000 -v 0.9.0 "$V/payload-40k.bin" "$W/bad-downgrade.bin"

fresh() { # DIR [sim new options]: app 1.0.0 and net 1.0.0, both confirmed and running
    local dir=$1; shift
    rm -rf "$dir"
    $T sim new "$@" "$dir" >/dev/null && $T sim load "$dir" --slot primary "$W/a1.bin" >/dev/null &&
        $T sim load "$dir" --image 1 --confirm "$W/n1.bin" >/dev/null && $T sim boot "$dir" >/dev/null ||
        bad "fresh device $dir"
}

# ---- 1. a bad image 1 is refused; both cores run what they ran ------------
declare -A WHY=([key]="unknown key" [truncated]="hash mismatch" [random]="magic" [nonbootable]="non-bootable"
                [toolarge]="larger than the slot" [dependency]="dependency" [downgrade]="older than")
for kind in key truncated random nonbootable toolarge dependency downgrade; do
    for with_app in 0 1; do
        opts=(); [ $kind = downgrade ] && opts=(--downgrade-prevention)
        fresh "$W/dk" "${opts[@]}"
        expect_rc 0 $T sim load "$W/dk" --image 1 --test "$W/bad-$kind.bin"
        [ $with_app = 1 ] && expect_rc 0 $T sim load "$W/dk" --test "$W/a2.bin"
        expect_rc 0 $T sim boot "$W/dk"
        cp "$W/out" "$W/boot1"
        has "image 1 (net core, handover): refused" "$W/boot1"
        has "${WHY[$kind]}" "$W/boot1"
        has "boots: image 0 version 1.0.0" "$W/boot1"
        has "net core: boots image 1 version 1.0.0" "$W/boot1"
        [ $with_app = 1 ] && has "image 0 (app core, swap): refused" "$W/boot1"
        # the request is gone: the next boot has nothing to do, and says the same pair runs
        expect_rc 0 $T sim boot "$W/dk"
        has "image 1 (net core, handover): none" "$W/out"
        has "net core: boots image 1 version 1.0.0" "$W/out"
        $T sim status "$W/dk" --json > "$W/st"
        pending_req "$W/st" && bad "$kind: a request survived: $(cat "$W/st")" || ok
    done
done

# ---- ... and over SMP: upload -n 1, test, reset: the device keeps serving -----
fresh "$W/dk" --downgrade-prevention
for kind in dependency downgrade; do
    sim_start "$W/dk"
    expect_rc 0 $T $C image upload -n 1 "$W/bad-$kind.bin"
    H=$(hash_of 1 1)
    [ -n "$H" ] && ok || bad "$kind: not listed after upload"
    expect_rc 0 $T $C image test "$H"
    expect_rc 0 $T $C reset
    sleep 0.5
    expect_rc 0 $T $C echo "still here"
    has "image 1 (net core, handover): refused" "$W/run.log"
    has "[net] image 1 version 1.0.0+0 runs" "$W/run.log"
    $T $C --json image list | grep -q '"image":1,"slot":0,"version":"1.0.0"' && ok || bad "$kind: net image over SMP"
    sim_stop
    grep -q "stopped: " "$W/run.log" && bad "$kind: sim run stopped: $(cat "$W/run.log")" || ok
done
# the other kinds are refused earlier over SMP: at the first chunk (not an
# image, too large), or at 'image test' (a slot image the device does not
# trust is not listed); whatever refuses them, the device keeps serving and
# both cores keep their images across the reset
for kind in key truncated random nonbootable toolarge; do
    sim_start "$W/dk"
    $T $C image upload -n 1 "$W/bad-$kind.bin" >"$W/out" 2>&1
    H=$($T image verify "$W/bad-$kind.bin" 2>/dev/null | awk '/digest/ {print $3}')
    [ -n "$H" ] && $T $C image test "$H" >"$W/out" 2>&1
    expect_rc 0 $T $C reset
    sleep 0.5
    expect_rc 0 $T $C echo "still here"
    has "[net] image 1 version 1.0.0+0 runs" "$W/run.log"
    $T $C --json image list | grep -q '"image":1,"slot":0,"version":"1.0.0"' && ok || bad "$kind: net image over SMP"
    sim_stop
    grep -q "stopped: " "$W/run.log" && bad "$kind: sim run stopped: $(cat "$W/run.log")" || ok
done

# ---- 2. one owner, durable answers, all-or-nothing saves, keys first -------
fresh "$W/dk"
sim_start "$W/dk"
expect_rc 1 $T sim confirm "$W/dk"
has "is in use by PID $SIM_PID" "$W/err"
expect_rc 1 $T sim load "$W/dk" --test "$W/a2.bin"
has "is in use by PID" "$W/err"
# acknowledged means on disk: upload + test, then the process dies at once
expect_rc 0 $T $C image upload "$W/a2.bin"
expect_rc 0 $T $C image test "$(hash_of 0 1)"
kill -9 "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
expect_rc 0 $T sim status "$W/dk" --json
has '"image":0,"slot":"secondary","flash":"qspi","offset":0,"size":917504,"state":"valid","version":"2.0.0+0"' "$W/out"
pending_req "$W/out" && ok || bad "the acknowledged test request was lost: $(cat "$W/out")"
sim_start "$W/dk"   # the test boot of 2.0.0 at power-on
$T $C --json image list | grep -q '"image":0,"slot":0,"version":"2.0.0"' && ok || bad "test image not running"
expect_rc 0 $T $C image confirm
kill -9 "$SIM_PID"; wait "$SIM_PID" 2>/dev/null; SIM_PID=
expect_rc 0 $T sim boot "$W/dk"
has "boots: image 0 version 2.0.0+0, confirmed" "$W/out"

# a save that cannot be written changes nothing and says so
fresh "$W/dk"
mkdir "$W/dk/save.log.tmp"
expect_rc 1 $T sim load "$W/dk" --test "$W/a2.bin"
has "save.log.tmp" "$W/err"
has "nothing was saved" "$W/err"
grep -q "^wrote" "$W/out" && bad "a failed save printed success" || ok
rmdir "$W/dk/save.log.tmp"
# a full disk (a file-size limit) fails the save the same way
( ulimit -f 16; $T sim load "$W/dk" --test "$W/a2.bin" ) >"$W/out" 2>"$W/err"
[ $? = 1 ] && ok || bad "save over the size limit did not fail"
has "nothing was saved" "$W/err"
expect_rc 0 $T sim boot "$W/dk"
has "image 0 (app core, swap): none" "$W/out"
has "boots: image 0 version 1.0.0+0, confirmed" "$W/out"

# keys are read before anything is touched; a populated device needs --force
expect_rc 1 $T sim new -k "$W/typo.pem" "$W/dk"
expect_rc 1 $T sim new "$W/dk"
has "already holds a device" "$W/err"
expect_rc 0 $T sim boot "$W/dk"
has "boots: image 0 version 1.0.0+0" "$W/out"
expect_rc 0 $T sim new --force -k "$K" "$W/dk"
has "trusts 1 key" "$W/out"
# a device trusting no key only on purpose, and loudly
expect_rc 0 $T sim new --no-keys "$W/nokeys"
has "WARNING: this device trusts NO key" "$W/out"
expect_rc 0 $T sim status "$W/nokeys"
has "trusts NO key" "$W/err"
rm "$W/dk/trusted-0.pem"
expect_rc 1 $T sim status "$W/dk"
has "is damaged" "$W/err"
cp "$OTHER" "$W/dk/trusted-0.pem"
expect_rc 1 $T sim status "$W/dk"
has "is not a key it was made to trust" "$W/err"

# ---- 3. a cut past the bootloaders' work: the test image runs (one boot) ----
fresh "$W/dk"
sim_start "$W/dk" --cut-after 100000 --seed 7
expect_rc 0 $T $C image upload "$W/a2.bin"
expect_rc 0 $T $C image test "$(hash_of 0 1)"
expect_rc 0 $T $C reset
sleep 0.5
has "no cut: the bootloaders needed fewer than 100000" "$W/run.log"
$T $C --json image list | grep -q '"image":0,"slot":0,"version":"2.0.0"' && ok || bad "test image did not run"
sim_stop
expect_rc 2 $T sim run "$W/dk" --seed x

# ---- 4. messages that name the real problem --------------------------------
expect_rc 2 $T sim load "$W/dk" --test --confirm "$W/a2.bin"
mv "$W/dk/net.bin" "$W/net.bin.away"
expect_rc 1 $T sim status "$W/dk"
has "net.bin is missing" "$W/err"
head -c 1000 "$W/net.bin.away" > "$W/dk/net.bin"
expect_rc 1 $T sim boot "$W/dk"
has "net.bin is 1000 bytes" "$W/err"
fresh "$W/my dk"
expect_rc 0 $T sim load "$W/my dk" --test "$W/a2.bin"
grep -qF "'twinboot sim boot '$W/my dk''" "$W/out" && ok || bad "hint not quoted: $(cat "$W/out")"

echo "cli_never_bricked: $pass passed, $fail failed"
[ $fail -eq 0 ]
