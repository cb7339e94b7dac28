#!/usr/bin/env bash
# `twinboot image` against imgtool's vectors and habits: exit codes, byte
# identity, key formats, and an independent signature check with openssl.
set -u
T="$1"; V="$2"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
pass=0; fail=0
ok()   { pass=$((pass+1)); }
bad()  { fail=$((fail+1)); echo "FAIL: $*"; }
expect_rc() { # want cmd...
    local want=$1; shift
    "$@" >"$W/out" 2>"$W/err"; local rc=$?
    if [ "$rc" = "$want" ]; then ok; else bad "rc $rc (want $want): $* :: $(head -c 300 "$W/err")"; fi
}
keyof() { case $1 in *ed25519*) echo ed25519;; *rsa*) echo rsa-2048;; *) echo ecdsa-p256;; esac; }

# --help everywhere, exit 0
for c in "" "image" "sim"; do expect_rc 0 $T $c --help; done
for c in keygen getpub getpubhash sign verify dumpinfo; do expect_rc 0 $T image $c --help; done
# usage errors are 2
expect_rc 2 $T
expect_rc 2 $T image frobnicate
expect_rc 2 $T image sign
expect_rc 2 $T image verify
expect_rc 2 $T image keygen -t dsa -k "$W/x.pem"
expect_rc 2 $T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x80000 -v 1.x "$V/payload-40k.bin" "$W/o"

# every vector as MANIFEST.md says (verify exit code)
for f in "$V"/signed-*.bin "$V"/signed-*.hex; do
    b=$(basename "$f"); want=0
    case $b in *bigendian*) want=1;; esac
    expect_rc $want $T image verify -k "$V/key-$(keyof "$b").pem" "$f"
done
for f in "$V"/unsigned-*.bin; do expect_rc 0 $T image verify "$f"; done
for f in "$V"/corrupt-*.bin; do expect_rc 1 $T image verify -k "$V/key-ecdsa-p256.pem" "$f"; done
expect_rc 1 $T image verify -k "$V/key-ecdsa-p256-other.pem" "$V/signed-ecdsa-p256.bin"
expect_rc 1 $T image verify -k "$V/key-ecdsa-p256.pem" "$V/signed-ed25519.bin"
# the messages name the reason
$T image verify -k "$V/key-ecdsa-p256.pem" "$V/corrupt-bitflip-payload.bin" 2>&1 | grep -q "hash mismatch" && ok || bad "hash message"
$T image verify -k "$V/key-ecdsa-p256.pem" "$V/corrupt-bad-magic.bin" 2>&1 | grep -q "bad image magic" && ok || bad "magic message"
$T image verify -k "$V/key-ecdsa-p256-other.pem" "$V/signed-ecdsa-p256.bin" 2>&1 | grep -q "unknown key" && ok || bad "key message"
$T image verify "$V/signed-ecdsa-p256-nonbootable.bin" | grep -q "non-bootable" && ok || bad "nonbootable note"
$T image dumpinfo "$V/signed-ecdsa-p256-bigendian.bin" 2>&1 | grep -q "big-endian" && ok || bad "bigendian hint"

# Ed25519 is deterministic: byte-identical to imgtool
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x80000 --align 4 -v 1.0.0 "$V/payload-40k.bin" "$W/ed.bin"
cmp -s "$W/ed.bin" "$V/signed-ed25519.bin" && ok || bad "ed25519 not byte-identical"
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x80000 --align 4 -v 1.0.0 --public-key-format full "$V/payload-40k.bin" "$W/edf.bin"
cmp -s "$W/edf.bin" "$V/signed-ed25519-pkfull.bin" && ok || bad "ed25519 pkfull not byte-identical"
# unsigned images and padded trailers are byte-identical too
expect_rc 0 $T image sign --header-size 0x200 --slot-size 0x80000 --align 4 -v 1.0.0 --sha 384 "$V/payload-40k.bin" "$W/u384.bin"
cmp -s "$W/u384.bin" "$V/unsigned-sha384.bin" && ok || bad "sha384 unsigned differs"
expect_rc 0 $T image sign --header-size 0x200 --slot-size 0x80000 --align 4 --pad --confirm -v 1.0.0 "$V/payload-40k.bin" "$W/upc.bin"
cmp -s "$W/upc.bin" "$V/unsigned-pad-confirm.bin" && ok || bad "pad-confirm unsigned differs"
for a in align4 align8 align16 align16-maxalign16; do
    al=${a#align}; al=${al%%-*}; extra=""; case $a in *maxalign16) extra="--max-align 16";; esac
    $T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x80000 --align $al $extra --pad --confirm -v 1.0.1 "$V/payload-40k.bin" "$W/p.bin" && \
    cmp -s <(tail -c 8192 "$W/p.bin") <(tail -c 8192 "$V/signed-ecdsa-p256-pad-confirm-$a.bin") && ok || bad "trailer $a"
done
$T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x80000 --align 4 --overwrite-only --pad --confirm -v 1.0.1 "$V/payload-40k.bin" "$W/p.bin" && \
    cmp -s <(tail -c 8192 "$W/p.bin") <(tail -c 8192 "$V/signed-ecdsa-p256-pad-confirm-overwrite-only.bin") && ok || bad "trailer overwrite-only"
$T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x80000 --align 4 --test -v 1.0.1 "$V/payload-40k.bin" "$W/p.bin" && \
    cmp -s <(tail -c 8192 "$W/p.bin") <(tail -c 8192 "$V/signed-ecdsa-p256-pad-test-align4.bin") && ok || bad "trailer test"
# Intel HEX: same records as imgtool's except the (random) ECDSA signature
expect_rc 0 $T image sign -k "$V/key-ecdsa-p256.pem" --header-size 0x200 --slot-size 0x80000 --align 4 --pad --confirm -v 1.0.1 -x 0x10000 "$V/payload-40k.bin" "$W/h.hex"
expect_rc 0 $T image verify -k "$V/key-ecdsa-p256.pem" "$W/h.hex"
cmp -s <(head -n 2600 "$W/h.hex") <(head -n 2600 "$V/signed-ecdsa-p256-pad-confirm-align4.hex") && ok || bad "hex body differs"
cmp -s <(tail -n 4 "$W/h.hex") <(tail -n 4 "$V/signed-ecdsa-p256-pad-confirm-align4.hex") && ok || bad "hex trailer differs"
# too big for the slot, and no header room: refused with a message
expect_rc 1 $T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x8000 -v 1.0.0 "$V/payload-40k.bin" "$W/o"
expect_rc 1 $T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x80000 -v 1.0.0 "$V/payload-raw-40k.bin" "$W/o"
grep -q "pad-header" "$W/err" && ok || bad "header room hint"

# keys: getpub / getpubhash match imgtool's outputs
for t in ecdsa-p256 ed25519 rsa-2048; do
    $T image getpub -k "$V/key-$t.pem" -e raw -o "$W/p.der" && cmp -s "$W/p.der" "$V/pub-$t.der" && ok || bad "getpub raw $t"
    $T image getpub -k "$V/key-$t.pem" -e pem | cmp -s - "$V/pub-$t.pem" && ok || bad "getpub pem $t"
    $T image getpubhash -k "$V/key-$t.pem" -e raw | cmp -s - "$V/pubhash-$t.bin" && ok || bad "getpubhash $t"
    # the C array carries the same bytes and names as imgtool's
    diff -q <($T image getpub -k "$V/key-$t.pem" | grep -v Autogenerated) <(grep -v Autogenerated "$V/pub-$t.c") >/dev/null && ok || bad "getpub lang-c $t"
    # public keys work for verify, not for sign
    $T image getpub -k "$V/key-$t.pem" -e pem -o "$W/pub.pem"
    expect_rc 0 $T image verify -k "$W/pub.pem" "$V/signed-$t.bin"
    expect_rc 1 $T image sign -k "$W/pub.pem" --header-size 0x200 --slot-size 0x80000 -v 1.0.0 "$V/payload-40k.bin" "$W/o"
done

# fresh keys of each type: sign, verify, refuse a wrong key; keygen never overwrites
for t in ecdsa-p256 ed25519 rsa-2048; do
    expect_rc 0 $T image keygen -t $t -k "$W/k-$t.pem"
    head -1 "$W/k-$t.pem" | grep -q "BEGIN PRIVATE KEY" && ok || bad "pkcs8 $t"
    expect_rc 1 $T image keygen -t $t -k "$W/k-$t.pem"
    expect_rc 0 $T image sign -k "$W/k-$t.pem" --header-size 0x200 --slot-size 0x80000 --align 4 -v 2.3.4+5 \
        --security-counter auto --dependencies "(1,1.2.0), (0, 0.9)" "$V/payload-40k.bin" "$W/s-$t.bin"
    expect_rc 0 $T image verify -k "$W/k-$t.pem" "$W/s-$t.bin"
    expect_rc 1 $T image verify -k "$V/key-$t.pem" "$W/s-$t.bin"
    $T image dumpinfo "$W/s-$t.bin" > "$W/dump"
    grep -q "SEC_CNT .* 33751044" "$W/dump" && ok || bad "seccnt auto $t"   # 2<<24 | 3<<16 | 4
    grep -q "image 1 >= 1.2.0+0" "$W/dump" && ok || bad "dependency $t"
done

# independent check: openssl verifies twinboot's ECDSA and RSA-PSS signatures over the digest
hex2bin() { local h=$1 o=""; while [ -n "$h" ]; do o="$o\\x${h:0:2}"; h=${h:2}; done; printf "$o"; }
for t in ecdsa-p256 rsa-2048; do
    f="$W/s-$t.bin"; size=$(stat -c %s "$f")
    digest=$($T image dumpinfo "$f" | awk '/SHA256/ {print $NF}')
    hex2bin "$digest" > "$W/dig.bin"
    if [ $t = rsa-2048 ]; then n=256; else
        for n in 72 71 70; do
            b=$(od -An -tx1 -j $((size - n - 4)) -N 4 "$f" | tr -d ' ')
            [ "$b" = "2200$(printf %02x $n)00" ] && break
        done
    fi
    tail -c $n "$f" > "$W/sig.bin"
    $T image getpub -k "$W/k-$t.pem" -e pem -o "$W/pub.pem"
    opts="-pkeyopt digest:sha256"
    [ $t = rsa-2048 ] && opts="$opts -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 -pkeyopt rsa_mgf1_md:sha256"
    openssl pkeyutl -verify -pubin -inkey "$W/pub.pem" -in "$W/dig.bin" -sigfile "$W/sig.bin" $opts >/dev/null 2>&1 \
        && ok || bad "openssl does not accept the $t signature"
done

# Compressed images (MANIFEST.md "Compressed images"): sign as imgtool, byte for byte
# (Ed25519); verify checks the image as sent and the image it rebuilds.
CO="--header-size 0x200 --pad-header --slot-size 0xe0000 --align 4 -v 1.2.0"
for m in lzma2 lzma2armthumb; do
    expect_rc 0 $T image sign -k "$V/key-ed25519.pem" $CO --compression $m "$V/payload-thumb-48k.bin" "$W/c-$m.bin"
    cmp -s "$W/c-$m.bin" "$V/signed-ed25519-$m.bin" && ok || bad "--compression $m differs from imgtool's"
    grep -q "compressed image size" "$W/out" && ok || bad "sign --compression $m does not report the sizes"
    for k in ed25519 ecdsa-p256; do
        $T image verify -k "$V/key-$k.pem" "$V/signed-$k-$m.bin" >"$W/v" 2>&1 && grep -q "^Compressed ($m): rebuilds a [0-9]*-byte image, correctly validated" "$W/v" \
            && ok || bad "verify of signed-$k-$m.bin: $(cat "$W/v")"
    done
    $T image dumpinfo "$V/signed-ed25519-$m.bin" | grep -q "DECOMP_SIZE  len   4  dcc10000" && ok || bad "dumpinfo DECOMP_SIZE"
done
# the rebuilt image's signature is checked too: a flipped DECOMP_SIGNATURE byte fails verify
cp "$V/signed-ed25519-lzma2armthumb.bin" "$W/badinner.bin"
printf '\x00' | dd of="$W/badinner.bin" bs=1 seek=$((0x200 + 29001 + 4 + 8 + 4 + 32 + 4)) conv=notrunc status=none
expect_rc 1 $T image verify -k "$V/key-ed25519.pem" "$W/badinner.bin"
# imgtool's fallback: random data does not compress; --compression needs --pad-header; bad names are usage errors
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" $CO --compression lzma2 "$V/payload-raw-40k.bin" "$W/fb.bin"
grep -q "written uncompressed" "$W/out" && ok || bad "fallback not reported"
$T image dumpinfo "$W/fb.bin" | grep -q "flags            0x00000000" && ok || bad "fallback image is flagged compressed"
expect_rc 1 $T image sign -k "$V/key-ed25519.pem" --header-size 0x200 --slot-size 0x80000 --align 4 -v 1.0.0 --compression lzma2 "$V/payload-40k.bin" "$W/np.bin"
expect_rc 2 $T image sign -k "$V/key-ed25519.pem" $CO --compression zstd "$V/payload-thumb-48k.bin" "$W/z.bin"

echo "cli_image: $pass passed, $fail failed"
[ $fail -eq 0 ]
