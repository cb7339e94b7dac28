# Helpers for the bash CLI tests (source it after setting W, a scratch
# directory): count passes and failures, run a command expecting an exit
# code (its output in $W/out and $W/err), look for a text in a file.
pass=0; fail=0
ok()  { pass=$((pass+1)); }
bad() { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { local want=$1; shift; "$@" >"$W/out" 2>"$W/err"; local rc=$?
    [ "$rc" = "$want" ] && ok || bad "rc $rc (want $want): $* :: $(head -c 300 "$W/err")"; }
has() { grep -qF -- "$1" "$2" && ok || bad "no '$1' in $2: $(head -c 600 "$2")"; }
