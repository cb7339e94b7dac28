# Helpers for the bash CLI tests (source it after setting W, a scratch
# directory): count passes and failures, run a command expecting an exit
# code (its output in $W/out and $W/err), look for a text in a file.
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$W/out" 2>"$W/err"; local rc=$?
    [ "$rc" = "$want" ] && ok || bad "rc $rc (want $want): $* :: $(head -c 300 "$W/err")"; }
has() { grep -qF -- "$1" "$2" && ok || bad "no '$1' in $2: $(head -c 600 "$2")"; }

# A simulated device serving SMP on loopback (set T, PORT and C first):
# `twinboot sim run DIR [options]`, its log in $W/run.log, started again on
# another port if this one is taken; sim_stop ends it.
SIM_PID=
sim_start() {
    local dir=$1; shift
    for _try in 1 2 3; do
        $T sim run "$dir" --udp 127.0.0.1:$PORT --for 300 "$@" > "$W/run.log" 2>&1 &
        SIM_PID=$!
        for _ in $(seq 50); do $T $C echo up >/dev/null 2>&1 && return 0; sleep 0.1; done
        kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null
        PORT=$((20000 + RANDOM % 30000)); C="--conn udp:127.0.0.1:$PORT"
    done
    bad "device did not come up: $(cat "$W/run.log")"
}
sim_stop() { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=; }
hash_of() { # image slot -> its hash, from the device's JSON image list
    $T $C --json image list | tr '{' '\n' | grep "\"image\":$1,\"slot\":$2," | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/'
}
