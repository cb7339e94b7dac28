#!/usr/bin/env bash
# End to end over SMP/UDP on loopback: `twinboot sim run` as the device,
# `twinboot` as the client, the app-core and net-core stories, resume after a
# dropped link, and the errors a script must be able to tell apart.
set -u
T="$1"; SRC="$2"; V="$3"; FAKE="$4"
W=$(mktemp -d)
PORT=$((20000 + RANDOM % 30000))
C="--conn udp:127.0.0.1:$PORT"
FAKE_PID=
. "$(dirname "$0")/cli_lib.sh"
cleanup() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
            wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
start() { sim_start "$W/dk" "$@"; }
stop() { sim_stop; }

K="$SRC/keys/root-ed25519.pem"
$T image sign -k "$K" -H 0x200 -S 0xe0000 --align 4 -v 1.0.0 "$V/payload-40k.bin" "$W/v1.bin"
$T image sign -k "$K" -H 0x200 -S 0xe0000 --align 4 -v 2.0.0 "$V/payload-raw-40k.bin" --pad-header "$W/v2.bin"
$T image sign -k "$K" -H 0x200 -S 0x40000 --align 4 -v 1.1.0 "$V/payload-40k.bin" "$W/n1.bin"
$T image sign -k "$K" -H 0x200 -S 0x40000 --align 4 -v 2.1.0 "$V/payload-raw-40k.bin" --pad-header "$W/n2.bin"
$T sim new "$W/dk" >/dev/null
$T sim load "$W/dk" --slot primary "$W/v1.bin" >/dev/null
$T sim load "$W/dk" --image 1 --confirm "$W/n1.bin" >/dev/null

# no device: exit 5, and the message says what to do
expect_rc 5 $T --conn udp:127.0.0.1:$((PORT + 1)) echo hi
grep -q "is it running" "$W/err" && ok || bad "no-device message"
expect_rc 0 $T image list --help

start
expect_rc 0 $T $C echo "hello twinboot"
grep -q "hello twinboot" "$W/out" && ok || bad "echo"
expect_rc 0 $T $C image list
grep -q "flags: confirmed active" "$W/out" && ok || bad "list: $(cat "$W/out")"
[ "$(hash_of 0 0)" != "" ] && ok || bad "json list"

# app core: upload, test, reset -> new app runs; reset without confirm -> reverted
expect_rc 0 $T $C image upload "$W/v2.bin"
grep -q "uploaded" "$W/out" && grep -q "100%" "$W/err" && ok || bad "upload output"
H2=$(hash_of 0 1)
expect_rc 0 $T $C image test "$H2"
grep -q "pending test; reset to apply" "$W/out" && ok || bad "pending message"
expect_rc 0 $T $C reset
sleep 0.5
[ "$(hash_of 0 0)" = "$H2" ] && ok || bad "v2 does not run after reset"
$T $C --json image list | grep -q "\"image\":0,\"slot\":0,\"version\":\"2.0.0\",\"hash\":\"$H2\",\"bootable\":true,\"pending\":false,\"confirmed\":false,\"active\":true" && ok || bad "v2 not a test: $($T $C --json image list)"
expect_rc 0 $T $C reset
sleep 0.5
[ "$(hash_of 0 0)" != "$H2" ] && ok || bad "not reverted"
# test, reset, confirm, reset -> stays
expect_rc 0 $T $C image test "$H2"
expect_rc 0 $T $C reset
sleep 0.5
expect_rc 0 $T $C image confirm
expect_rc 0 $T $C reset
sleep 0.5
$T $C --json image list | grep -q "\"image\":0,\"slot\":0,\"version\":\"2.0.0\",\"hash\":\"$H2\",\"bootable\":true,\"pending\":false,\"confirmed\":true,\"active\":true" && ok || bad "v2 not confirmed"
# as with MCUboot, the previous image shows in slot 1, and testing its hash goes back to it
H1=$($T image verify "$W/v1.bin" | awk '/digest/ {print $3}')
[ "$(hash_of 0 1)" = "$H1" ] && ok || bad "slot 1 does not show the previous image: $($T $C --json image list)"
expect_rc 0 $T $C image test "$H1"
expect_rc 0 $T $C reset
sleep 0.5
$T $C --json image list | grep -q "\"image\":0,\"slot\":0,\"version\":\"1.0.0\",\"hash\":\"$H1\",\"bootable\":true,\"pending\":false,\"confirmed\":false,\"active\":true" && ok || bad "previous image not restored as a test: $($T $C --json image list)"
expect_rc 0 $T $C reset
sleep 0.5
[ "$(hash_of 0 0)" = "$H2" ] && ok || bad "v2 did not come back after the test of v1"

# net core: image 1 with test, reset -> both boot; the net image is image 1 slot 0
expect_rc 0 $T $C image upload -n 1 "$W/n2.bin"
N2=$(hash_of 1 1)
expect_rc 0 $T $C image test "$N2"
expect_rc 0 $T $C reset
sleep 0.5
[ "$(hash_of 1 0)" = "$N2" ] && ok || bad "net image not installed"
expect_rc 0 $T $C image confirm "$N2"
grep -q "version: 2.1.0" "$W/out" && ok || bad "net confirm"
expect_rc 0 $T $C reset
sleep 0.5
[ "$(hash_of 1 0)" = "$N2" ] && ok || bad "net image did not stay"

# errors scripts can tell apart
expect_rc 1 $T $C image test 0000000000000000000000000000000000000000000000000000000000000000
grep -q "no image with that hash" "$W/err" && ok || bad "hash-not-found message"
expect_rc 2 $T $C image test 1234
expect_rc 1 $T $C image erase 0
grep -q "never the running one" "$W/err" && ok || bad "erase running message"
# an image (valid header) in a file larger than the slot: refused at the first chunk
{ cat "$W/v1.bin"; head -c 2000000 /dev/zero; } > "$W/big.bin"
expect_rc 1 $T $C image upload "$W/big.bin"
grep -q "larger than the slot" "$W/err" && ok || bad "too-large message"
# random bytes are not an image: refused at offset 0, as Zephyr refuses them
head -c 786432 /dev/urandom > "$W/random.bin"
expect_rc 1 $T $C image upload "$W/random.bin"
grep -q "not an MCUboot image" "$W/err" && ok || bad "random upload: $(cat "$W/err")"
grep -q "upload: .*100%" "$W/err" && bad "random bytes were uploaded" || ok
# imgtool's own images: a good one is taken, a bad magic (also imgtool's big-endian one) is not
expect_rc 0 $T $C image upload "$V/signed-ecdsa-p256-hdr20-padheader.bin"
expect_rc 1 $T $C image upload "$V/corrupt-bad-magic.bin"
grep -q "no image magic" "$W/err" && ok || bad "bad magic: $(cat "$W/err")"
expect_rc 1 $T $C image upload "$V/signed-ecdsa-p256-bigendian.bin"
# a net-core image larger than the net core's slot (229376 B on the DK), though
# it fits the 256 KiB secondary
head -c 235000 /dev/urandom > "$W/net-big.raw"
$T image sign -k "$K" -H 0x200 -S 0x40000 --align 4 -v 9.0.0 --pad-header "$W/net-big.raw" "$W/net-big.bin"
expect_rc 1 $T $C image upload -n 1 "$W/net-big.bin"
grep -q "larger than the slot" "$W/err" && ok || bad "net too-large: $(cat "$W/err")"
# the command line is checked before anything is sent
: > "$W/empty.bin"
expect_rc 1 $T $C image upload "$W/empty.bin"
grep -q "empty" "$W/err" && ok || bad "empty file: $(cat "$W/err")"
expect_rc 2 $T $C image upload "$W/v1.bin" "$W/v2.bin"
expect_rc 2 $T $C image upload -n x "$W/v1.bin"
expect_rc 2 $T $C image upload -n 1
expect_rc 2 $T $C image list extra
expect_rc 2 $T $C reset now
expect_rc 2 $T $C echo "$(head -c 1025 /dev/zero | tr '\0' a)"
expect_rc 0 $T $C echo "$(head -c 1024 /dev/zero | tr '\0' a)"
# versions with a build number, as Zephyr writes them
$T image sign -k "$K" -H 0x200 -S 0xe0000 --align 4 -v 1.2.3+7 "$V/payload-40k.bin" "$W/v123.bin"
expect_rc 0 $T $C image upload "$W/v123.bin"
$T $C --json image list | grep -q '"image":0,"slot":1,"version":"1.2.3.7"' && ok || bad "build number: $($T $C --json image list)"
stop

# an upload survives a device reset: the device stops answering in the
# middle, goes away and comes back; the client waits and resumes where the
# device's flash says it got to
$T image sign -k "$K" -H 0x200 -S 0xe0000 --align 4 -v 3.0.0 --pad-header "$W/random.bin" "$W/v3.bin"
start --drop 300:100000
$T $C image upload "$W/v3.bin" > "$W/up.out" 2> "$W/up.err" &
UP_PID=$!
for _ in $(seq 100); do grep -q "resuming when the device is back" "$W/up.err" && break; sleep 0.1; done
grep -q "resuming when the device is back" "$W/up.err" && ok || bad "upload did not wait: $(cat "$W/up.err")"
stop
sleep 1.5
$T sim run "$W/dk" --udp 127.0.0.1:$PORT --for 300 > "$W/run.log" 2>&1 &
SIM_PID=$!
wait $UP_PID && ok || bad "upload across a reset failed: $(cat "$W/up.err")"
grep -q "resuming at [1-9][0-9]* bytes" "$W/up.err" && ok || bad "not resumed: $(cat "$W/up.err")"
grep -q "resuming at 307200 bytes\|resuming at 30[0-9][0-9][0-9][0-9] bytes" "$W/up.err" && ok || bad "resumed elsewhere: $(grep resuming "$W/up.err")"
[ "$(hash_of 0 1)" = "$($T image verify "$W/v3.bin" | awk '/digest/ {print $3}')" ] && ok || bad "upload across a reset differs"
stop

# a client that trusts no garbage, against misbehaving devices
fake() { "$FAKE" $PORT "$1" > "$W/fake.log" 2>&1 & FAKE_PID=$!; sleep 0.3; }
unfake() { kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=; }
fake echo   # a plain UDP echo server: our own request is no answer
$T $C image erase > "$W/e1.out" 2>&1 & E1=$!
$T $C reset > "$W/e2.out" 2>&1 & E2=$!
wait $E1; [ $? = 5 ] && ! grep -q "erased" "$W/e1.out" && ok || bad "echo server: erase: $(cat "$W/e1.out")"
wait $E2; [ $? = 5 ] && ! grep -q "bootloaders run" "$W/e2.out" && ok || bad "echo server: reset: $(cat "$W/e2.out")"
unfake
fake types  # fields of the wrong type: a clear error, never an abort
expect_rc 1 $T $C image list
grep -q 'malformed answer from the device ("version" is not a text string)' "$W/err" && ok || bad "types list: $(cat "$W/err")"
expect_rc 1 $T $C echo hi
grep -q '"r" is not a text string' "$W/err" && ok || bad "types echo: $(cat "$W/err")"
expect_rc 1 $T $C image upload "$W/v1.bin"
grep -q '"match" is not a boolean' "$W/err" && ok || bad "types upload: $(cat "$W/err")"
expect_rc 1 $T $C image erase
grep -q '"rc" is not' "$W/err" && ok || bad "types erase: $(cat "$W/err")"
unfake
fake stuck  # a device that never takes the data: the upload stops
expect_rc 1 timeout 20 $T $C image upload "$W/v1.bin"
grep -q "makes no progress" "$W/err" && ok || bad "stuck upload: $(cat "$W/err")"
unfake
fake text   # --json stays JSON whatever the strings hold
expect_rc 0 $T $C --json image list
grep -qF '"version":"1.0.0\"\u0009\\"' "$W/out" && ok || bad "json list: $(cat "$W/out")"
expect_rc 0 $T $C --json echo x
grep -qxF '{"r":"say \"hi\"\u0009there\u0001"}' "$W/out" && ok || bad "json echo: $(cat "$W/out")"
unfake

# the same over the serial line (a pseudo-terminal, SMP console framing)
start --serial
PTY=$(awk '/SMP over serial on/ {print $NF}' "$W/run.log")
[ -n "$PTY" ] && ok || bad "no pty: $(cat "$W/run.log")"
S="--conn serial:$PTY,baud=115200"
expect_rc 0 $T $S echo "over a UART"
grep -q "over a UART" "$W/out" && ok || bad "serial echo"
expect_rc 0 $T $S image upload "$W/v1.bin"
# with nobody on the line between commands, the device files still catch up
sleep 0.8
cmp -s -n "$(stat -c %s "$W/v1.bin")" "$W/v1.bin" "$W/dk/qspi.bin" && ok || bad "serial: the flash files are not current"
expect_rc 0 $T $S --json image list
grep -q '"image":0,"slot":1,"version":"1.0.0"' "$W/out" && ok || bad "serial upload: $(cat "$W/out")"
expect_rc 0 $T $S image test "$(hash_of 0 1)"
expect_rc 0 $T $S reset
sleep 0.5
$T $S --json image list | grep -q '"image":0,"slot":0,"version":"1.0.0"' && ok || bad "serial test+reset"
expect_rc 2 $T --conn serial:$PTY,baud=12345 echo x
stop

# a power cut during the bootloaders' work after an SMP reset: the board comes back
start --cut-after 40
H1=$(hash_of 0 1)   # v1, left in slot 1 by the serial test (which was not confirmed)
expect_rc 0 $T $C image test "$H1"
expect_rc 0 $T $C reset
sleep 1
grep -q "cut during flash operation 40 of the bootloaders" "$W/run.log" && ok || bad "no cut: $(cat "$W/run.log")"
grep -q "resumed an operation" "$W/run.log" && ok || bad "not resumed: $(cat "$W/run.log")"
$T $C --json image list | grep -q "\"image\":0,\"slot\":0,\"version\":\"1.0.0\"" && ok || bad "after the cut"
stop

# a link that drops requests in the middle of an upload: the client resumes by itself
start --drop 20:3
expect_rc 0 $T $C image upload "$W/v1.bin"
grep -q "resuming" "$W/err" && ok || bad "no resume: $(cat "$W/err")"
[ "$(hash_of 0 1)" = "$($T image verify "$W/v1.bin" | awk '/digest/ {print $3}')" ] && ok || bad "resumed upload differs"
stop
grep -q "reset requested over SMP" "$W/run.log" || true

echo "cli_smp: $pass passed, $fail failed"
[ $fail -eq 0 ]
