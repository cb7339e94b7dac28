# Worst-case stack of a firmware image from GCC's -fcallgraph-info=su files.
#   awk -f fw-stack.awk -v root=tb_m33_reset -v irq=tb_m33_systick SYMS_FILE *.ci
# SYMS_FILE: the names the linked image defines (nm), one per line; only
# those functions count. The result is the deepest static call chain from
# root, plus the deepest chain from irq (an interrupt on the same stack,
# with its 8-word exception frame). An indirect call is taken to reach the
# deepest linked function nobody calls directly (the callbacks: flash,
# console, net-core control; not the exception handlers), once per call
# site on the chain. Dynamic
# frames (alloca, VLAs) are reported; recursion is cut and reported.
# Prints: "<bytes> <chain>".
FNR == NR { linked[$1] = 1; next }
/^node:/ {
    t = $0; sub(/.*title: "/, "", t); sub(/".*/, "", t)
    name = t; sub(/.*:/, "", name)
    if (match($0, /\\n[0-9]+ bytes \([a-z,]+\)/)) {
        s = substr($0, RSTART + 2, RLENGTH - 2)
        split(s, w, " ")
        frame[t] = w[1] + 0
        if (s ~ /dynamic/ && s !~ /bounded/) dyn[t] = 1
        fname[t] = name
        if (name in linked) { defined[t] = 1; byname[name] = t }
    }
    next
}
/^edge:/ {
    s = $0; sub(/.*sourcename: "/, "", s); sub(/".*/, "", s)
    d = $0; sub(/.*targetname: "/, "", d); sub(/".*/, "", d)
    ne[s]++; edge[s, ne[s]] = d
    if (d != "__indirect_call") called[d] = 1
    next
}
function key(n) { return (n in frame) ? n : ((n in byname) ? byname[n] : "") }
function depth(n,    k, i, best, c, v, t) {
    k = key(n)
    if (k == "") return 0               # library code without call-graph info (libgcc, newlib mem*)
    if (k in memo) return memo[k]
    if (k in active) { recursion = recursion " " fname[k]; return 0 }
    active[k] = 1
    best = 0; bestc = ""
    for (i = 1; i <= ne[k]; i++) {
        t = edge[k, i]
        v = (t == "__indirect_call") ? indirect() : depth(t)
        if (v > best) { best = v; via[k] = (t == "__indirect_call") ? "(indirect) " icb : t }
    }
    delete active[k]
    if (k in dyn) dynamic = dynamic " " fname[k]
    memo[k] = frame[k] + best
    return memo[k]
}
function indirect(    t, v) {
    if (ind_done) return ind
    ind_done = 1; ind = 0
    for (t in defined)
        if (!(fname[t] in called) && !(t in called) && fname[t] !~ /^tb_m33_/) {
            v = depth(t)
            if (v > ind) { ind = v; icb = fname[t] }
        }
    return ind
}
function chain(n,    k, s) {
    s = ""
    for (k = key(n); k != "" && s !~ /\.\.\.$/; k = key(via[k])) {
        s = s (s == "" ? "" : " > ") fname[k]
        if (length(s) > 400) s = s " ..."
        if (!(k in via)) break
    }
    return s
}
END {
    total = depth(root)
    if (irq != "" && key(irq) != "") total += depth(irq) + 32
    printf "%d %s%s%s\n", total, chain(root), recursion != "" ? " [recursion cut:" recursion "]" : "",
        dynamic != "" ? " [dynamic frames:" dynamic "]" : ""
}
