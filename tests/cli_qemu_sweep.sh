#!/usr/bin/env bash
# Power-cut sweep on QEMU: an app+net update set (app 1->2 and net 1->2, as a
# test) is cut after N guest instructions, N spread evenly over the whole
# run; after each cut, plain boots must end with both cores running a valid
# pair (1+1 or 2+2, never a mix) and, since nothing confirms the set, with
# the confirmed pair 1+1 back: no confirmed image lost.
#   cli_qemu_sweep.sh TWINBOOT SRC FWDIR [POINTS]     (default 50)
set -u
T="$1"; SRC="$2"; FW="$3"; POINTS=${4:-50}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
export TWINBOOT_FW_DIR="$FW"
K="$SRC/keys/root-ecdsa-p256.pem"
for v in 1 2; do
    $T image sign -k "$K" -v $v.0.0 -H 0x200 --pad-header -S 0xe0000 --align 4 "$FW/app-test.bin" "$W/a$v.bin" >/dev/null
    $T image sign -k "$K" -v $v.0.0 -H 0x200 --pad-header -S 0x38000 --align 4 "$FW/net-test.bin" "$W/n$v.bin" >/dev/null
done
$T sim new "$W/t" >/dev/null && $T sim load "$W/t" --slot primary "$W/a1.bin" >/dev/null &&
    $T sim load "$W/t" --image 1 --confirm "$W/n1.bin" >/dev/null &&
    $T sim boot "$W/t" --qemu >/dev/null || { echo "cli_qemu_sweep: factory boot failed"; exit 1; }
$T sim load "$W/t" --test "$W/a2.bin" >/dev/null && $T sim load "$W/t" --image 1 --test "$W/n2.bin" >/dev/null

# the whole run, uncut
rm -rf "$W/d" && cp -r "$W/t" "$W/d"
total=$($T sim boot "$W/d" --qemu --stats | sed -n 's/^\[stats\] run-instructions //p')
[ -n "$total" ] && [ "$total" -gt 1000000 ] || { echo "cli_qemu_sweep: no instruction count"; exit 1; }

# pair OUTFILE -> "A+N" (the versions both cores run), or "A+none"
pair() {
    local a n
    a=$(sed -n 's/^\[app\] app-test: image 0 version \([0-9]*\)\..*/\1/p' "$1")
    n=$(sed -n 's/^\[net\] net-test: image 1 version \([0-9]*\)\..*/\1/p' "$1")
    echo "${a:-none}+${n:-none}"
}

cuts=0
for i in $(seq 1 "$POINTS"); do
    n=$((total * i / (POINTS + 1)))
    rm -rf "$W/d" && cp -r "$W/t" "$W/d"
    $T sim boot "$W/d" --qemu --cut-insns "$n" >"$W/out" 2>&1
    rc=$?
    [ $rc = 4 ] && cuts=$((cuts + 1))
    [ $rc = 4 ] || [ $rc = 0 ] || { bad "cut at $n: rc $rc: $(tail -3 "$W/out")"; continue; }
    # power on again: a valid pair, the new one (a test) or the old one
    $T sim boot "$W/d" --qemu >"$W/out" 2>&1 || { bad "boot after cut at $n: rc $?: $(tail -3 "$W/out")"; continue; }
    p=$(pair "$W/out")
    case $p in 1+1 | 2+2) ok ;; *) bad "cut at $n: cores run $p: $(cat "$W/out")"; continue ;; esac
    # not confirmed: the next reset brings the confirmed pair back
    $T sim boot "$W/d" --qemu >"$W/out" 2>&1 || { bad "second boot after cut at $n failed"; continue; }
    p=$(pair "$W/out")
    if [ "$p" = 1+1 ] && grep -q "boots: image 0 version 1.0.0+0, confirmed" "$W/out" &&
        grep -q "net core: boots image 1 version 1.0.0+0, confirmed" "$W/out"; then ok; else
        bad "cut at $n: after two boots $p: $(cat "$W/out")"
    fi
done
[ $cuts -ge $((POINTS * 9 / 10)) ] && ok || bad "only $cuts of $POINTS runs were cut"
echo "cli_qemu_sweep: $POINTS cut points over $total instructions ($cuts cut), $pass passed, $fail failed"
[ $fail -eq 0 ]
