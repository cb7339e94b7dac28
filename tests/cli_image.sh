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

# ---- imgtool parity (issue 11, section 3) ----
S="--header-size 0x200 --slot-size 0x80000 --align 4"
P="$V/payload-40k.bin"
tlv_hex() { # FILE NAME: the hex value dumpinfo prints for a TLV
    $T image dumpinfo "$1" | awk -v n="$2" '$2 == n {print $NF; exit}'
}
hashed_len() { # FILE: header + payload + protected TLVs
    $T --json image dumpinfo "$1" | tr -d ' \n' | sed -E 's/.*"hdr_size":([0-9]+),"protected_tlv_size":([0-9]+),"img_size":([0-9]+).*/\1 \2 \3/' | awk '{print $1+$2+$3}'
}
for c in getpriv keyinfo; do expect_rc 0 $T image $c --help; done

# -F/--rom-fixed takes an address: header load_addr and ROM_FIXED, as imgtool
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" $S -v 1.0.0 -F 0x10000 "$P" "$W/rf.bin"
$T image dumpinfo "$W/rf.bin" | grep -q "load_addr: *0x00010000" && ok || bad "rom-fixed load_addr"
$T image dumpinfo "$W/rf.bin" | grep -q "flags: *0x00000100 (ROM_FIXED)" && ok || bad "rom-fixed flag"
expect_rc 0 $T image verify -k "$V/key-ed25519.pem" "$W/rf.bin"
expect_rc 2 $T image sign $S -v 1.0.0 -F 0x10000 -L 0x20000000 "$P" "$W/o"
expect_rc 2 $T image sign $S -v 1.0.0 --rom-fixed "$P" "$W/o"

# --sha auto is imgtool's default: the ed25519 vector comes out byte-identical
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" $S -v 1.0.0 --sha auto "$P" "$W/auto.bin"
cmp -s "$W/auto.bin" "$V/signed-ed25519.bin" && ok || bad "--sha auto not imgtool's default"
expect_rc 1 $T image sign -k "$V/key-ecdsa-p256.pem" $S -v 1.0.0 --sha 384 "$P" "$W/o"
grep -q "can not be used with --sha 384" "$W/err" && ok || bad "sha/key message"

# Ed25519 with --sha 512: a SHA512 TLV and a 64-byte KEYHASH, signed over the
# 64-byte digest; openssl checks the signature, getpubhash --sha 512 the key hash
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" $S -v 1.0.0 --sha 512 "$P" "$W/e512.bin"
expect_rc 0 $T image verify -k "$V/key-ed25519.pem" "$W/e512.bin"
expect_rc 1 $T image verify -k "$V/key-ecdsa-p256.pem" "$W/e512.bin"
[ "$(tlv_hex "$W/e512.bin" KEYHASH)" = "$($T image getpubhash -k "$V/key-ed25519.pem" --sha 512 -e raw | od -An -tx1 -v | tr -d ' \n')" ] && ok || bad "sha512 keyhash"
[ "$(tlv_hex "$W/e512.bin" KEYHASH)" = "$(openssl dgst -sha512 -r "$V/pub-ed25519.der" | cut -d' ' -f1)" ] && ok || bad "sha512 keyhash vs openssl"
[ "$(tlv_hex "$W/e512.bin" SHA512)" = "$(head -c "$(hashed_len "$W/e512.bin")" "$W/e512.bin" | openssl dgst -sha512 -r | cut -d' ' -f1)" ] && ok || bad "sha512 digest vs openssl"
hex2bin "$(tlv_hex "$W/e512.bin" SHA512)" > "$W/dig.bin"
hex2bin "$(tlv_hex "$W/e512.bin" ED25519)" > "$W/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$V/pub-ed25519.pem" -rawin -in "$W/dig.bin" -sigfile "$W/sig.bin" >/dev/null 2>&1 \
    && ok || bad "openssl: ed25519 over the sha512 digest"
# --pure: SIG_PURE, and the signature covers the image itself
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" $S -v 1.0.0 --pure "$P" "$W/pure.bin"
[ "$(tlv_hex "$W/pure.bin" SIG_PURE)" = "01" ] && ok || bad "SIG_PURE TLV"
expect_rc 0 $T image verify -k "$V/key-ed25519.pem" "$W/pure.bin"
head -c "$(hashed_len "$W/pure.bin")" "$W/pure.bin" > "$W/msg.bin"
hex2bin "$(tlv_hex "$W/pure.bin" ED25519)" > "$W/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$V/pub-ed25519.pem" -rawin -in "$W/msg.bin" -sigfile "$W/sig.bin" >/dev/null 2>&1 \
    && ok || bad "openssl: pure ed25519 over the image"
expect_rc 1 $T image sign -k "$V/key-ecdsa-p256.pem" $S -v 1.0.0 --pure "$P" "$W/o"
grep -q "unsupported: --pure" "$W/err" && ok || bad "pure with ecdsa message"

# ECDSA-P384: keygen, getpub, sign (SHA-384 by itself), verify; openssl agrees
expect_rc 0 $T image keygen -t ecdsa-p384 -k "$W/p384.pem"
$T image getpub -k "$W/p384.pem" | grep -q "ecdsap384_pub_key\[\]" && ok || bad "p384 getpub name"
$T image getpub -k "$W/p384.pem" -e pem -o "$W/p384pub.pem"
openssl pkey -pubin -in "$W/p384pub.pem" -noout -text 2>/dev/null | grep -q "NIST CURVE: P-384" && ok || bad "p384 getpub pem"
expect_rc 0 $T image sign -k "$W/p384.pem" $S -v 1.0.0 "$P" "$W/p384.bin"
expect_rc 0 $T image verify -k "$W/p384.pem" "$W/p384.bin"
expect_rc 0 $T image verify -k "$W/p384pub.pem" "$W/p384.bin"
expect_rc 1 $T image verify -k "$V/key-ecdsa-p256.pem" "$W/p384.bin"
[ "$(tlv_hex "$W/p384.bin" KEYHASH)" = "$($T image getpubhash -k "$W/p384.pem" -e raw | od -An -tx1 -v | tr -d ' \n')" ] && ok || bad "p384 keyhash (sha384)"
[ "$(tlv_hex "$W/p384.bin" KEYHASH)" = "$(openssl pkey -in "$W/p384.pem" -pubout -outform DER | openssl dgst -sha384 -r | cut -d' ' -f1)" ] && ok || bad "p384 keyhash vs openssl"
hex2bin "$(tlv_hex "$W/p384.bin" SHA384)" > "$W/dig.bin"
hex2bin "$(tlv_hex "$W/p384.bin" ECDSA_SIG)" > "$W/sig.bin"
openssl pkeyutl -verify -pubin -inkey "$W/p384pub.pem" -in "$W/dig.bin" -sigfile "$W/sig.bin" -pkeyopt digest:sha384 >/dev/null 2>&1 \
    && ok || bad "openssl: p384 signature"
# --pad-sig: 72 / 103 bytes, zeros after the DER; verify accepts them as MCUboot does
expect_rc 0 $T image sign -k "$W/p384.pem" $S -v 1.0.0 --pad-sig "$P" "$W/p384pad.bin"
# (imgtool pads to 103; a P-384 DER signature is 102..104 bytes, so 104 stays 104)
$T image dumpinfo "$W/p384pad.bin" | grep -qE "ECDSA_SIG *len 0x6[78]" && ok || bad "p384 pad-sig length"
expect_rc 0 $T image verify -k "$W/p384.pem" "$W/p384pad.bin"
expect_rc 0 $T image sign -k "$V/key-ecdsa-p256.pem" $S -v 1.0.0 --pad-sig "$P" "$W/p256pad.bin"
$T image dumpinfo "$W/p256pad.bin" | grep -q "ECDSA_SIG *len 0x48" && ok || bad "p256 pad-sig length"
expect_rc 0 $T image verify -k "$V/key-ecdsa-p256.pem" "$W/p256pad.bin"

# Password-protected keys: keygen -p; the password from the environment or a tty
export TWINBOOT_KEY_PASSWORD=s3cret
expect_rc 0 $T image keygen -t ecdsa-p256 -p -k "$W/enc.pem"
head -1 "$W/enc.pem" | grep -q "BEGIN ENCRYPTED PRIVATE KEY" && ok || bad "encrypted pkcs8"
openssl pkey -in "$W/enc.pem" -passin pass:s3cret -noout 2>/dev/null && ok || bad "openssl reads the encrypted key"
expect_rc 0 $T image sign -k "$W/enc.pem" $S -v 1.0.0 "$P" "$W/enc.bin"
expect_rc 0 $T image verify -k "$W/enc.pem" "$W/enc.bin"
$T image keyinfo "$W/enc.pem" | grep -q "Password-protected: yes" && ok || bad "keyinfo protected"
TWINBOOT_KEY_PASSWORD=wrong expect_rc 1 $T image getpub -k "$W/enc.pem"
unset TWINBOOT_KEY_PASSWORD
expect_rc 1 setsid -w $T image getpub -k "$W/enc.pem"
grep -q "TWINBOOT_KEY_PASSWORD" "$W/err" && ok || bad "password hint"
if command -v script >/dev/null; then  # the prompt, on a pty
    printf 's3cret\n' | script -qec "$T image getpub -k $W/enc.pem -e raw -o $W/enc.der" /dev/null >/dev/null 2>&1
    cmp -s "$W/enc.der" <(openssl pkey -in "$W/enc.pem" -passin pass:s3cret -pubout -outform DER 2>/dev/null) && ok || bad "tty prompt"
fi
# getpriv: the PKCS#8 DER, as openssl writes it; keyinfo
$T image getpriv -k "$V/key-ecdsa-p256.pem" | grep -o "0x[0-9a-f][0-9a-f]" | tr -d '\n' | sed 's/0x//g' > "$W/priv.hex"
[ "$(cat "$W/priv.hex")" = "$(openssl pkcs8 -topk8 -nocrypt -in "$V/key-ecdsa-p256.pem" -outform DER | od -An -tx1 -v | tr -d ' \n')" ] && ok || bad "getpriv pkcs8"
$T image getpriv -k "$V/key-ecdsa-p256.pem" | grep -q "enc_priv_key_len" && ok || bad "getpriv len line"
expect_rc 1 $T image getpriv -k "$V/key-ed25519.pem" -f openssl
expect_rc 1 $T image getpriv -k "$V/pub-ecdsa-p256.pem"
$T image keyinfo "$V/key-rsa-2048.pem" | grep -q "Key size: 2048 bits" && ok || bad "keyinfo size"

# getpub -l c|rust and --name-suffix
diff -q <($T image getpub -k "$V/key-ed25519.pem" -l c) <($T image getpub -k "$V/key-ed25519.pem" -e lang-c) >/dev/null && ok || bad "getpub -l c"
$T image getpub -k "$V/key-ed25519.pem" -l rust | grep -q "static ED25519_PUB_KEY: &\[u8\]" && ok || bad "getpub -l rust"
$T image getpub -k "$V/key-ed25519.pem" --name-suffix _1 | grep -q "ed25519_pub_key_1_len" && ok || bad "getpub --name-suffix"
$T image getpubhash -k "$V/key-ed25519.pem" --name-suffix _1 | grep -q "ed25519_pub_key_hash_1\[\]" && ok || bad "getpubhash --name-suffix"
expect_rc 2 $T image getpub -k "$V/key-ed25519.pem" -l c -e raw

# External signing (HSM): the digest out, a signature in; the result is what -k makes
expect_rc 0 $T image sign --fix-sig-pubkey "$V/pub-ed25519.pem" $S -v 1.0.0 --vector-to-sign digest "$P" "$W/vec.dig"
[ "$(stat -c %s "$W/vec.dig")" = 32 ] && ok || bad "digest vector size"
openssl pkeyutl -sign -inkey "$V/key-ed25519.pem" -rawin -in "$W/vec.dig" -out "$W/hsm.sig" 2>/dev/null
base64 -w0 "$W/hsm.sig" > "$W/hsm.b64"
expect_rc 0 $T image sign --fix-sig "$W/hsm.b64" --fix-sig-pubkey "$V/pub-ed25519.pem" $S -v 1.0.0 "$P" "$W/ext.bin"
cmp -s "$W/ext.bin" "$V/signed-ed25519.bin" && ok || bad "fix-sig image differs from imgtool's"
expect_rc 0 $T image sign --fix-sig-pubkey "$V/pub-ecdsa-p256.pem" $S -v 1.0.0 --vector-to-sign payload "$P" "$W/vec.pay"
openssl dgst -sha256 -sign "$V/key-ecdsa-p256.pem" -out "$W/hsm.sig" "$W/vec.pay"
base64 -w0 "$W/hsm.sig" > "$W/hsm.b64"
expect_rc 0 $T image sign --fix-sig "$W/hsm.b64" --fix-sig-pubkey "$V/pub-ecdsa-p256.pem" $S -v 1.0.0 "$P" "$W/ext.bin"
expect_rc 0 $T image verify -k "$V/key-ecdsa-p256.pem" "$W/ext.bin"
expect_rc 1 $T image sign --fix-sig "$W/hsm.b64" --fix-sig-pubkey "$V/pub-ecdsa-p256.pem" $S -v 1.0.1 "$P" "$W/o"
expect_rc 2 $T image sign -k "$V/key-ecdsa-p256.pem" --fix-sig "$W/hsm.b64" --fix-sig-pubkey "$V/pub-ecdsa-p256.pem" $S -v 1.0.0 "$P" "$W/o"
expect_rc 2 $T image sign --fix-sig "$W/hsm.b64" $S -v 1.0.0 "$P" "$W/o"
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" --sig-out "$W/out.b64" $S -v 1.0.0 "$P" "$W/so.bin"
[ "$(base64 -d "$W/out.b64" | od -An -tx1 -v | tr -d ' \n')" = "$(tlv_hex "$W/so.bin" ED25519)" ] && ok || bad "--sig-out"

# --custom-tlv, --boot-record, --vid/--cid: protected TLVs
expect_rc 0 $T image sign -k "$V/key-ed25519.pem" $S -v 1.2.3 --custom-tlv 0xa0 0x0102ff --custom-tlv 0x1234 hello \
    --boot-record CoFM --vid 6ba7b810-9dad-11d1-80b4-00c04fd430c8 --cid acme-board "$P" "$W/ctlv.bin"
expect_rc 0 $T image verify -k "$V/key-ed25519.pem" "$W/ctlv.bin"
$T image dumpinfo "$W/ctlv.bin" > "$W/dump"
grep -q "0xa0 ? *len 0x03  0102ff" "$W/dump" && ok || bad "custom tlv hex"
grep -q "0x1234 ? *len 0x05  68656c6c6f" "$W/dump" && ok || bad "custom tlv string"
[ "$(tlv_hex "$W/ctlv.bin" UUID_VID)" = "6ba7b8109dad11d180b400c04fd430c8" ] && ok || bad "vid uuid"
cid=$(python3 -c "import uuid; print(uuid.uuid5(uuid.UUID('6ba7b810-9dad-11d1-80b4-00c04fd430c8'), 'acme-board').hex)" 2>/dev/null)
[ -z "$cid" ] || { [ "$(tlv_hex "$W/ctlv.bin" UUID_CID)" = "$cid" ] && ok || bad "cid uuid5"; }
# UUIDv5 from names, checked against published values (sdk-nrf's suit_mci: uuid5(NAMESPACE_DNS,
# 'nordicsemi.com') and uuid5(that, 'unspecified_class'))
expect_rc 0 $T image sign $S -v 1.0.0 --vid nordicsemi.com --cid unspecified_class "$P" "$W/uuid.bin"
[ "$(tlv_hex "$W/uuid.bin" UUID_VID)" = "7617daa571fd5a858f94e28d735ce9f4" ] && ok || bad "vid uuid5"
[ "$(tlv_hex "$W/uuid.bin" UUID_CID)" = "cad8523af8295a9aba852ea0b2f577c9" ] && ok || bad "cid uuid5"
br=$(tlv_hex "$W/ctlv.bin" BOOT_RECORD)
case $br in a50164436f464d0465312e322e330558*) ok;; *) bad "boot record cbor: $br";; esac
expect_rc 2 $T image sign $S -v 1.0.0 --custom-tlv 0x50 0x01 "$P" "$W/o"
expect_rc 2 $T image sign $S -v 1.0.0 --custom-tlv 0xa0 0x012 "$P" "$W/o"
expect_rc 2 $T image sign $S -v 1.0.0 --custom-tlv 0xa0 1 --custom-tlv 0xa0 2 "$P" "$W/o"
expect_rc 1 $T image sign $S -v 1.0.0 --boot-record this-is-too-long "$P" "$W/o"

# dumpinfo: signatures in full, flag names, swap size; --json parses
$T image dumpinfo "$V/signed-rsa-2048.bin" | grep -qE "RSA2048_PSS *len 0x100  [0-9a-f]{512}$" && ok || bad "dumpinfo rsa signature bytes"
$T image dumpinfo "$V/signed-ecdsa-p256-nonbootable.bin" | grep -q "(NON_BOOTABLE)" && ok || bad "dumpinfo flag name"
$T image dumpinfo "$V/signed-ecdsa-p256-pad-confirm-align4.bin" | grep -q "image_ok set.*swap_size unknown" && ok || bad "dumpinfo trailer"
$T image dumpinfo "$V/signed-ecdsa-p256-seccnt7.bin" | grep -q "Protected TLV area (offset: 0xa27b): magic 0x6908, area size 0xc" && ok || bad "dumpinfo prot header"
if command -v python3 >/dev/null; then
    $T --json image dumpinfo "$V/signed-ecdsa-p256-pad-confirm-align4.bin" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["header"]["img_size"] == 41083 and d["tlv_area"]["tlv_hdr"]["magic"] == 0x6907
assert [t["type_name"] for t in d["tlv_area"]["tlvs"]] == ["SHA256", "KEYHASH", "ECDSA_SIG"]
assert d["trailer"]["image_ok"] == 1 and d["trailer"]["swap_size"] == 0xffffffff' && ok || bad "dumpinfo --json"
fi

# unsupported features get "unsupported: ...", not a format error
expect_rc 1 $T image keygen -t rsa-3072 -k "$W/r3.pem"
grep -q "unsupported: rsa-3072" "$W/err" && ok || bad "rsa-3072 keygen message"
expect_rc 1 $T image sign -E "$V/pub-ecdsa-p256.pem" $S -v 1.0.0 "$P" "$W/o"
grep -q "unsupported: encrypted" "$W/err" && ok || bad "encrypt message"
expect_rc 1 $T image sign -e big $S -v 1.0.0 "$P" "$W/o"
grep -q "unsupported: -e big" "$W/err" && ok || bad "big endian message"
cp "$V/unsigned-sha256.bin" "$W/enc.bin"; printf '\x04' | dd of="$W/enc.bin" bs=1 seek=16 conv=notrunc 2>/dev/null
expect_rc 1 $T image verify "$W/enc.bin"
grep -q "unsupported: ENCRYPTED_AES128" "$W/err" && ok || bad "encrypted image message"
# an RSA-3072 signature TLV appended to an unsigned image (unprotected TLVs at 0xa27b)
cp "$V/unsigned-sha256.bin" "$W/r3.bin"
printf '\x23\x00\x80\x01' >> "$W/r3.bin"; head -c 384 /dev/zero >> "$W/r3.bin"
printf '\xac\x01' | dd of="$W/r3.bin" bs=1 seek=$((0xa27b + 2)) conv=notrunc 2>/dev/null
expect_rc 0 $T image verify "$W/r3.bin"
expect_rc 1 $T image verify -k "$V/key-rsa-2048.pem" "$W/r3.bin"
grep -q "unsupported: RSA3072_PSS signature" "$W/err" && ok || bad "rsa-3072 image message"

echo "cli_image: $pass passed, $fail failed"
[ $fail -eq 0 ]
