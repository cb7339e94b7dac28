#!/usr/bin/env bash
# The firmware bootloaders on QEMU mps2-an521 (`twinboot sim boot --qemu`):
# the update stories of both cores, run by the real images on two emulated
# Cortex-M33s, on the same device directories as the host model.
#   cli_qemu.sh TWINBOOT SRC FWDIR
set -u
T="$1"; SRC="$2"; FW="$3"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$W/out" 2>"$W/err"; local rc=$?
    [ "$rc" = "$want" ] && ok || bad "rc $rc (want $want): $* :: $(head -c 400 "$W/out") $(head -c 300 "$W/err")"; }
has() { grep -qF -- "$1" "$W/out" && ok || bad "expected '$1' in: $(cat "$W/out")"; }
runs() { # APP_MAJOR confirmed|test NET_MAJOR: what the two test applications said
    has "[app] app-test: image 0 version $1.0.0+0 runs ($2)"; has "[net] net-test: image 1 version $3.0.0+0 runs"; }
export TWINBOOT_FW_DIR="$FW"
K="$SRC/keys/root-ecdsa-p256.pem"
for f in twinboot-app.elf twinboot-net.elf app-test.bin net-test.bin; do
    [ -f "$FW/$f" ] || { echo "cli_qemu: $FW/$f missing: run 'make firmware'"; exit 1; }
done

# signed versions of the test applications
for v in 1 2 3; do
    $T image sign -k "$K" -v $v.0.0 -H 0x200 --pad-header -S 0xe0000 --align 4 "$FW/app-test.bin" "$W/a$v.bin" >/dev/null
    $T image sign -k "$K" -v $v.0.0 -H 0x200 --pad-header -S 0x38000 --align 4 "$FW/net-test.bin" "$W/n$v.bin" >/dev/null
done
# a corrupt one: a payload byte flipped after signing
cp "$W/a2.bin" "$W/bad.bin"
printf '\x55' | dd of="$W/bad.bin" bs=1 seek=$((0x400)) conv=notrunc status=none

expect_rc 0 $T sim boot --help
grep -q -- "--qemu" "$W/out" && ok || bad "--help names --qemu"
expect_rc 2 $T sim boot "$W/none" --cut-insns 5
expect_rc 2 $T sim boot "$W/none" --qemu --cut-after 3
expect_rc 2 $T sim boot "$W/none" --qemu --confirm 7

factory() { # DIR: app 1 and net 1, installed by a first reset
    $T sim new "$1" >/dev/null && $T sim load "$1" --slot primary "$W/a1.bin" >/dev/null &&
        $T sim load "$1" --image 1 --confirm "$W/n1.bin" >/dev/null
}

# ---- factory boot of both cores ----
factory "$W/dk"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "image 1 (net core, handover): upgrade-permanent 0.0.0+0 -> 1.0.0+0"
has "boots: image 0 version 1.0.0+0, confirmed"
runs 1 confirmed 1
has "net core: boots image 1 version 1.0.0+0, confirmed"
# the host model reads what the firmware wrote: flashes and boot record
$T sim status "$W/dk" >"$W/out"
has "image 1 primary   net  0x008000: valid, version 1.0.0+0"
has "running: image 0 version 1.0.0+0 (confirmed)"
# ...and boots it the same way
expect_rc 0 $T sim boot "$W/dk"
has "net core: boots image 1 version 1.0.0+0, confirmed"

# ---- app test -> reset -> revert ----
expect_rc 0 $T sim load "$W/dk" --test "$W/a2.bin"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "image 0 (app core, swap): upgrade-test 1.0.0+0 -> 2.0.0+0"
has "[app] app-test: image 0 version 2.0.0+0 runs (test)"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "image 0 (app core, swap): revert 2.0.0+0 -> 1.0.0+0"
has "[app] app-test: image 0 version 1.0.0+0 runs (confirmed)"

# ---- app test -> the application confirms itself -> the image stays ----
expect_rc 0 $T sim load "$W/dk" --test "$W/a2.bin"
expect_rc 0 $T sim boot "$W/dk" --qemu --confirm 0
has "[app] image 0 confirmed"
$T sim status "$W/dk" >"$W/out"
has "image 0 primary   app  0x010000: valid, version 2.0.0+0"
has "image_ok set"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "image 0 (app core, swap): none"
has "boots: image 0 version 2.0.0+0, confirmed"

# ---- net update with backup -> not confirmed -> rollback ----
# QSPI erased as by 'nrfjprog --qspieraseall': no journal and no copy of the
# net image is left on the app core's side, so the backup can only be read
# back from the net core through shared RAM
head -c 8388608 /dev/zero | tr '\0' '\377' >"$W/dk/qspi.bin"
expect_rc 0 $T sim load "$W/dk" --image 1 --test "$W/n2.bin"
expect_rc 0 $T sim boot "$W/dk" --qemu
grep -q "image 1 (net core, handover): upgrade-test .* -> 2.0.0+0" "$W/out" && ok || bad "net test: $(cat "$W/out")"
has "[net] net-test: image 1 version 2.0.0+0 runs"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "image 1 (net core, handover): revert 2.0.0+0 -> 1.0.0+0"
has "[net] net-test: image 1 version 1.0.0+0 runs"
has "net core: boots image 1 version 1.0.0+0, confirmed"
# confirmed by the application (in the app core's journal): it stays
expect_rc 0 $T sim load "$W/dk" --image 1 --test "$W/n2.bin"
expect_rc 0 $T sim boot "$W/dk" --qemu --confirm 1
has "[app] image 1 confirmed"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "net core: boots image 1 version 2.0.0+0, confirmed"

# ---- an app+net set: all or nothing ----
expect_rc 0 $T sim load "$W/dk" --test "$W/a3.bin"
expect_rc 0 $T sim load "$W/dk" --image 1 --test "$W/n3.bin"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "as one half of an update set with the other image"
runs 3 test 3
expect_rc 0 $T sim boot "$W/dk" --qemu
runs 2 confirmed 2
# one half bad: neither is installed
expect_rc 0 $T sim load "$W/dk" --test "$W/bad.bin"
expect_rc 0 $T sim load "$W/dk" --image 1 --test "$W/n3.bin"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "image 0 (app core, swap): refused"
has "image 1 (net core, handover): refused"
runs 2 confirmed 2

# ---- a bad image is refused without a reset loop ----
expect_rc 0 $T sim load "$W/dk" --test "$W/bad.bin"
expect_rc 0 $T sim boot "$W/dk" --qemu
has "reason: image hash mismatch"
expect_rc 0 $T sim boot "$W/dk" --qemu   # the request was cleared: a plain boot
has "image 0 (app core, swap): none"
has "boots: image 0 version 2.0.0+0, confirmed"
# nothing bootable at all: the bootloader stops (exit 3), it does not reset
$T sim new "$W/empty" >/dev/null
expect_rc 3 $T sim boot "$W/empty" --qemu
has "no bootable image"

# ---- an application that crashes ends the run as a failure, it does not hang ----
# vector table: SP, then every vector at a UDF instruction (Thumb 0xde00)
{ printf '\x00\x00\x01\x38'; for _ in $(seq 15); do printf '\x41\x02\x01\x10'; done
  for _ in $(seq 8); do printf '\x00\xde'; done; } >"$W/crash.raw"
$T image sign -k "$K" -v 9.0.0 -H 0x200 --pad-header -S 0xe0000 --align 4 "$W/crash.raw" "$W/crash.bin" >/dev/null
factory "$W/crash"
expect_rc 0 $T sim load "$W/crash" --slot primary "$W/crash.bin"
expect_rc 1 $T sim boot "$W/crash" --qemu
has "boots: image 0 version 9.0.0+0, confirmed"

# a device the firmware was not built for is refused, not misread
$T sim new --strategy overwrite "$W/ow" >/dev/null
expect_rc 1 $T sim boot "$W/ow" --qemu
grep -q "not configured as the firmware is built" "$W/err" && ok || bad "overwrite device accepted: $(cat "$W/err")"

# ---- a power cut: the flash files stay as the cut left them ----
factory "$W/cut"
expect_rc 4 $T sim boot "$W/cut" --qemu --cut-insns 20000000
has "power cut after 20000000 instructions"
expect_rc 0 $T sim boot "$W/cut" --qemu
has "net core: boots image 1 version 1.0.0+0, confirmed"

# ---- the same account as the host model ----
factory "$W/h"
cp -r "$W/h" "$W/q"
$T sim boot "$W/h" | grep -E '^(image|  |boots|net core)' | grep -v -e 'flash:' -e 'modelled flash' >"$W/host.txt"
$T sim boot "$W/q" --qemu | grep -E '^(image|  |boots|net core)' >"$W/qemu.txt"
cmp -s "$W/host.txt" "$W/qemu.txt" && ok || bad "accounts differ: $(diff "$W/host.txt" "$W/qemu.txt")"
cmp -s "$W/h/bootrec.bin" "$W/q/bootrec.bin" && ok || bad "boot records differ"

echo "cli_qemu: $pass passed, $fail failed"
[ $fail -eq 0 ]
