# Bytes of code and constants (text, rodata, data) per archive member in a
# GNU ld map file: awk -f fw-map.awk IMAGE.map  ->  "bytes archive(member)".
function hex(s,    i, c, v) {
    v = 0; s = tolower(substr(s, 3))
    for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)) - 1; v = v * 16 + c }
    return v
}
/^Linker script and memory map/ { on = 1 }
on && /^ \.(text|rodata|data)/ {
    if (NF >= 4 && $2 ~ /^0x/) { sz = hex($3); f = $4 }
    else { if ((getline) <= 0 || $1 !~ /^0x/) next; sz = hex($2); f = $3 }
    if (sz == 0) next
    sub(/.*\//, "", f); sum[f] += sz
}
END { for (k in sum) print sum[k], k }
