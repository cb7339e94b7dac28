/* Image format tests: imgtool's vectors as MANIFEST.md says, one crafted
 * image per refusal reason, reads bounded by the slot, and torn flash
 * operations inside an image. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fileio.h"
#include "imgbuild.h"
#include "keyfile.h"
#include "memflash.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"
#include "twinboot/image.h"
#include "twinboot/sim.h"

#define V TB_VECTORS_DIR "/"

/* ---- helpers --------------------------------------------------------- */

static struct tb_blob load(const char *name)
{
    char path[1024], err[256];
    struct tb_blob b;
    snprintf(path, sizeof(path), "%s%s", V, name);
    if (tb_read_file(path, &b, err, sizeof(err)) != 0) {
        fail_msg("%s (are the vectors in %s?)", err, TB_VECTORS_DIR);
    }
    return b;
}

struct ring {
    struct tb_key keys[4];
    uint8_t *der[4];
    size_t n;
};

static void ring_add(struct ring *r, const char *keyfile)
{
    char path[1024], err[256];
    size_t len;
    snprintf(path, sizeof(path), "%s%s", V, keyfile);
    struct tbk_key *k = tbk_load(path, err, sizeof(err));
    assert_non_null(k);
    assert_int_equal(tbk_pub_der(k, &r->der[r->n], &len), 0);
    r->keys[r->n] = (struct tb_key){(uint16_t)tbk_type(k), r->der[r->n], (uint16_t)len};
    r->n++;
    tbk_free(k);
}

static void ring_free(struct ring *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->der[i]);
    }
    r->n = 0;
}

static int validate_buf(const uint8_t *d, size_t len, const struct ring *r, struct tb_image_info *info)
{
    struct tb_flash f;
    struct tb_area a;
    struct tb_keyring kr = {r ? r->keys : NULL, r ? r->n : 0};
    assert_int_equal(tb_memflash_init(&f, &a, d, len), TB_OK);
    return tb_image_validate(&a, &kr, info);
}

static int validate_vector(const char *name, const char *key, struct tb_image_info *info)
{
    struct ring r = {0};
    if (key != NULL) {
        ring_add(&r, key);
    }
    struct tb_blob b = load(name);
    int rc = validate_buf(b.data, b.len, &r, info);
    tb_blob_free(&b);
    ring_free(&r);
    return rc;
}

/* ---- the vectors, as MANIFEST.md says -------------------------------- */

struct vec {
    const char *file;
    const char *key; /* NULL: hash only */
    int rc;
};

static const struct vec vectors[] = {
    {"signed-ecdsa-p256.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ed25519.bin", "key-ed25519.pem", TB_OK},
    {"signed-rsa-2048.bin", "key-rsa-2048.pem", TB_OK},
    {"signed-ecdsa-p256-v1.2.3+4.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pad-confirm-align4.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pad-confirm-align8.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pad-confirm-align16.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pad-align4.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pad-test-align4.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pad-confirm-align16-maxalign16.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pad-confirm-overwrite-only.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pad-confirm-align4.hex", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-hdr200-padheader.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-hdr20-padheader.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-seccnt7.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-dep.bin", "key-ecdsa-p256.pem", TB_OK},
    {"unsigned-sha256.bin", NULL, TB_OK},
    {"unsigned-sha384.bin", NULL, TB_OK},
    {"unsigned-pad-confirm.bin", NULL, TB_OK},
    {"signed-ecdsa-p256-pkfull.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ecdsa-p256-pkhash.bin", "key-ecdsa-p256.pem", TB_OK},
    {"signed-ed25519-pkfull.bin", "key-ed25519.pem", TB_OK},
    {"signed-ed25519-pkhash.bin", "key-ed25519.pem", TB_OK},
    {"signed-rsa-2048-pkhash.bin", "key-rsa-2048.pem", TB_OK},
    /* imgtool verify accepts it; booting it is refused separately (test below) */
    {"signed-ecdsa-p256-nonbootable.bin", "key-ecdsa-p256.pem", TB_OK},
    /* little-endian device: a big-endian header has the wrong magic */
    {"signed-ecdsa-p256-bigendian.bin", "key-ecdsa-p256.pem", TB_E_IMG_MAGIC},
    {"corrupt-bitflip-payload.bin", "key-ecdsa-p256.pem", TB_E_IMG_HASH_MISMATCH},
    {"corrupt-bitflip-header-version.bin", "key-ecdsa-p256.pem", TB_E_IMG_HASH_MISMATCH},
    /* the file ends inside the signature TLV: the TLV area leaves the slot */
    {"corrupt-truncated-tlv.bin", "key-ecdsa-p256.pem", TB_E_IMG_TLV_OVERFLOW},
    /* imgtool crashes on these two; we must refuse them cleanly */
    {"corrupt-truncated-payload.bin", "key-ecdsa-p256.pem", TB_E_IMG_TOO_LARGE},
    {"corrupt-tlv-len-too-large.bin", "key-ecdsa-p256.pem", TB_E_IMG_TLV_OVERFLOW},
    {"corrupt-bad-magic.bin", "key-ecdsa-p256.pem", TB_E_IMG_MAGIC},
    {"corrupt-pad-confirm-bitflip.bin", "key-ecdsa-p256.pem", TB_E_IMG_HASH_MISMATCH},
    /* wrong key of the same type; an Ed25519 image checked with an ECDSA key */
    {"signed-ecdsa-p256.bin", "key-ecdsa-p256-other.pem", TB_E_IMG_UNKNOWN_KEY},
    {"signed-ed25519.bin", "key-ecdsa-p256.pem", TB_E_IMG_UNKNOWN_KEY},
    /* an unsigned image where a signature is required */
    {"unsigned-sha256.bin", "key-ecdsa-p256.pem", TB_E_IMG_NO_SIGNATURE},
};

static void test_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        struct tb_image_info info;
        int rc = validate_vector(vectors[i].file, vectors[i].key, &info);
        if (rc != vectors[i].rc) {
            fail_msg("%s with %s: got %d (%s), want %d (%s)", vectors[i].file,
                     vectors[i].key ? vectors[i].key : "no key", rc, tb_strerror(rc), vectors[i].rc,
                     tb_strerror(vectors[i].rc));
        }
        if (rc == TB_OK && vectors[i].key != NULL) {
            assert_int_equal(info.key_index, 0);
        }
    }
}

static void test_vector_fields(void **state)
{
    (void)state;
    struct tb_image_info info;
    assert_int_equal(validate_vector("signed-ecdsa-p256-v1.2.3+4.bin", "key-ecdsa-p256.pem", &info), TB_OK);
    assert_int_equal(info.hdr.ver.major, 1);
    assert_int_equal(info.hdr.ver.minor, 2);
    assert_int_equal(info.hdr.ver.revision, 3);
    assert_int_equal(info.hdr.ver.build, 4);
    assert_int_equal(info.hdr.hdr_size, 0x200);
    assert_int_equal(info.hdr.img_size, 41083);
    assert_int_equal(info.sig_type, TB_TLV_ECDSA_SIG);
    assert_int_equal(info.tlv_end, 41746);

    assert_int_equal(validate_vector("signed-ecdsa-p256-seccnt7.bin", "key-ecdsa-p256.pem", &info), TB_OK);
    assert_true(info.has_sec_cnt);
    assert_int_equal(info.sec_cnt, 7);
    assert_int_equal(info.hdr.protect_tlv_size, 12);

    assert_int_equal(validate_vector("signed-ecdsa-p256-dep.bin", "key-ecdsa-p256.pem", &info), TB_OK);
    assert_int_equal(info.dep_count, 1);
    assert_int_equal(info.deps[0].image_id, 1);
    assert_int_equal(info.deps[0].min_version.major, 1);

    assert_int_equal(validate_vector("signed-ed25519.bin", "key-ed25519.pem", &info), TB_OK);
    assert_int_equal(info.sig_type, TB_TLV_ED25519);
    assert_int_equal(validate_vector("signed-rsa-2048.bin", "key-rsa-2048.pem", &info), TB_OK);
    assert_int_equal(info.sig_type, TB_TLV_RSA2048_PSS);
    assert_int_equal(validate_vector("unsigned-sha384.bin", NULL, &info), TB_OK);
    assert_int_equal(info.hash_type, TB_TLV_SHA384);
    assert_int_equal(info.hash_len, 48);

    assert_int_equal(validate_vector("signed-ecdsa-p256-nonbootable.bin", "key-ecdsa-p256.pem", &info), TB_OK);
    assert_int_equal(tb_image_bootable(&info.hdr), TB_E_IMG_NON_BOOTABLE);
    assert_int_equal(validate_vector("signed-ecdsa-p256.bin", "key-ecdsa-p256.pem", &info), TB_OK);
    assert_int_equal(tb_image_bootable(&info.hdr), TB_OK);
}

/* The KEYHASH of every vector key equals imgtool's getpubhash. */
static void test_pubhash(void **state)
{
    (void)state;
    static const char *types[] = {"ecdsa-p256", "ed25519", "rsa-2048"};
    for (size_t i = 0; i < 3; i++) {
        char key[64], hashf[64], derf[64];
        struct ring r = {0};
        uint8_t h[32];
        struct tb_hash_ctx c;
        snprintf(key, sizeof(key), "key-%s.pem", types[i]);
        snprintf(hashf, sizeof(hashf), "pubhash-%s.bin", types[i]);
        snprintf(derf, sizeof(derf), "pub-%s.der", types[i]);
        ring_add(&r, key);
        struct tb_blob want = load(hashf), der = load(derf);
        assert_int_equal(der.len, r.keys[0].der_len);
        assert_memory_equal(der.data, r.keys[0].der, der.len);
        assert_int_equal(tb_hash_init(&c, TB_HASH_SHA256), TB_OK);
        assert_int_equal(tb_hash_update(&c, r.keys[0].der, r.keys[0].der_len), TB_OK);
        assert_int_equal(tb_hash_finish(&c, h), TB_OK);
        assert_int_equal(want.len, 32);
        assert_memory_equal(h, want.data, 32);
        tb_blob_free(&want);
        tb_blob_free(&der);
        ring_free(&r);
    }
}

/* ---- signing ----------------------------------------------------------- */

static struct tb_signed sign_payload(const char *key, void (*tweak)(struct tb_sign_opts *))
{
    struct tb_sign_opts o;
    struct tb_signed s;
    char err[256], path[1024];
    struct tbk_key *k = NULL;
    tb_sign_opts_default(&o);
    o.header_size = 0x200;
    o.slot_size = 0x80000;
    o.align = 4;
    o.version = (struct tb_image_version){1, 0, 0, 0};
    if (tweak) {
        tweak(&o);
    }
    if (key) {
        snprintf(path, sizeof(path), "%s%s", V, key);
        k = tbk_load(path, err, sizeof(err));
        assert_non_null(k);
    }
    struct tb_blob in = load("payload-40k.bin");
    if (tb_sign_image(&o, k, in.data, in.len, &s, err, sizeof(err)) != 0) {
        fail_msg("sign: %s", err);
    }
    tb_blob_free(&in);
    tbk_free(k);
    return s;
}

static void test_sign_ed25519_identical(void **state)
{
    (void)state;
    struct tb_signed s = sign_payload("key-ed25519.pem", NULL);
    struct tb_blob want = load("signed-ed25519.bin");
    assert_int_equal(s.len, want.len);
    assert_memory_equal(s.data, want.data, want.len);
    tb_blob_free(&want);
    tb_signed_free(&s);
}

/* Append a TLV to a signed (unpadded) image's unprotected area. */
static void append_tlv(struct tb_signed *s, uint16_t type, const uint8_t *v, uint16_t len)
{
    struct tb_image_header h;
    tb_image_header_decode(s->data, &h);
    size_t info = (size_t)h.hdr_size + h.img_size + h.protect_tlv_size;
    uint8_t *d = realloc(s->data, s->len + 4 + len);
    assert_non_null(d);
    d[s->len] = (uint8_t)type;
    d[s->len + 1] = (uint8_t)(type >> 8);
    d[s->len + 2] = (uint8_t)len;
    d[s->len + 3] = (uint8_t)(len >> 8);
    memcpy(d + s->len + 4, v, len);
    uint16_t tot = (uint16_t)(d[info + 2] | d[info + 3] << 8);
    tot = (uint16_t)(tot + 4 + len);
    d[info + 2] = (uint8_t)tot;
    d[info + 3] = (uint8_t)(tot >> 8);
    s->data = d;
    s->len += 4 + (size_t)len;
}

static void set_sha512(struct tb_sign_opts *o) { o->sha = 512; }
static void set_pure(struct tb_sign_opts *o) { o->pure = true; }

/* bootutil checks every hash TLV of its type: a second one must match too. */
static void test_second_hash_tlv(void **state)
{
    (void)state;
    struct tb_image_info info;
    struct tb_signed s = sign_payload(NULL, NULL);
    uint8_t h[32];
    memcpy(h, s.data + s.len - 32, 32); /* the SHA256 TLV is the last one */
    append_tlv(&s, TB_TLV_SHA256, h, 32);
    assert_int_equal(validate_buf(s.data, s.len, NULL, &info), TB_OK);
    s.data[s.len - 1] ^= 1;
    assert_int_equal(validate_buf(s.data, s.len, NULL, &info), TB_E_IMG_HASH_MISMATCH);
    s.data[s.len - 1] ^= 1;
    append_tlv(&s, TB_TLV_SHA256, h, 31); /* of the type, but the wrong length */
    assert_int_equal(validate_buf(s.data, s.len, NULL, &info), TB_E_IMG_TLV_LEN);
    tb_signed_free(&s);
}

/* Ed25519 with SHA-512: a 64-byte KEYHASH, the signature over the 64-byte
 * digest; and --pure: the signature over the image, read where it is mapped. */
static void test_ed25519_sha512_and_pure(void **state)
{
    (void)state;
    struct ring r = {0};
    struct tb_image_info info;
    ring_add(&r, "key-ed25519.pem");
    struct tb_signed s = sign_payload("key-ed25519.pem", set_sha512);
    assert_int_equal(validate_buf(s.data, s.len, &r, &info), TB_OK);
    assert_int_equal(info.hash_type, TB_TLV_SHA512);
    assert_int_equal(info.key_index, 0);
    assert_false(info.pure);
    tb_signed_free(&s);

    s = sign_payload("key-ed25519.pem", set_pure);
    assert_int_equal(validate_buf(s.data, s.len, &r, &info), TB_OK);
    assert_true(info.pure);
    assert_int_equal(info.sig_type, TB_TLV_ED25519);
    /* the same bytes on a flash that is not memory-mapped: cannot be checked */
    struct tb_flash f;
    struct tb_area a;
    struct tb_keyring kr = {r.keys, r.n};
    assert_int_equal(tb_memflash_init(&f, &a, s.data, s.len), TB_OK);
    f.mapped = NULL;
    assert_int_equal(tb_image_validate(&a, &kr, &info), TB_E_UNSUPPORTED);
    /* a payload byte changed: the hash TLV catches it first, the signature too */
    s.data[0x300] ^= 1;
    assert_int_equal(validate_buf(s.data, s.len, &r, &info), TB_E_IMG_HASH_MISMATCH);
    tb_signed_free(&s);
    ring_free(&r);

    /* SIG_PURE on an ECDSA image: a pure ECDSA signature is not implemented */
    ring_add(&r, "key-ecdsa-p256.pem");
    s = sign_payload("key-ecdsa-p256.pem", NULL);
    append_tlv(&s, TB_TLV_SIG_PURE, (const uint8_t *)"\x01", 1);
    assert_int_equal(validate_buf(s.data, s.len, &r, &info), TB_E_UNSUPPORTED);
    tb_signed_free(&s);
    ring_free(&r);
}

/* --pad-sig: zeros after the DER (sig, as MCUboot < 1.5 wanted) verify; anything else there does not. */
static void set_pad_sig(struct tb_sign_opts *o) { o->pad_sig = true; }

static void test_padded_ecdsa(void **state)
{
    (void)state;
    struct ring r = {0};
    struct tb_image_info info;
    ring_add(&r, "key-ecdsa-p256.pem");
    struct tb_signed s = sign_payload("key-ecdsa-p256.pem", set_pad_sig);
    assert_int_equal(s.sig_len, 72);
    assert_int_equal(validate_buf(s.data, s.len, &r, &info), TB_OK);
    s.data[s.len - 1] = 0x5a; /* the last pad byte: DER lengths are 70..72, so it is padding or s */
    assert_int_not_equal(validate_buf(s.data, s.len, &r, &info), TB_OK);
    tb_signed_free(&s);
    ring_free(&r);
}

static void set_seccnt7(struct tb_sign_opts *o)
{
    o->has_sec_cnt = true;
    o->sec_cnt = 7;
}

/* ECDSA signatures are randomised: all bytes up to the signature TLV must
 * equal imgtool's, and the image must verify. */
static void test_sign_ecdsa_matches_imgtool(void **state)
{
    (void)state;
    struct tb_signed s = sign_payload("key-ecdsa-p256.pem", set_seccnt7);
    struct tb_blob want = load("signed-ecdsa-p256-seccnt7.bin");
    struct tb_image_info info;
    struct ring r = {0};
    ring_add(&r, "key-ecdsa-p256.pem");
    assert_int_equal(validate_buf(s.data, s.len, &r, &info), TB_OK);
    struct tb_image_info winfo;
    assert_int_equal(validate_buf(want.data, want.len, &r, &winfo), TB_OK);
    assert_memory_equal(info.hash, winfo.hash, 32);
    /* Header, payload and protected TLVs are identical; so are the SHA256
     * and KEYHASH TLVs. Only the unprotected total and the signature TLV
     * depend on the DER signature's length (70..72 bytes). */
    size_t hashed = info.tlv_off + info.hdr.protect_tlv_size;
    assert_memory_equal(s.data, want.data, hashed);
    assert_memory_equal(s.data + hashed + 4, want.data + hashed + 4, (4 + 32) + (4 + 32));
    size_t sig = hashed + 4 + (4 + 32) + (4 + 32);
    assert_int_equal(s.data[sig], TB_TLV_ECDSA_SIG);
    assert_int_equal(s.len, sig + 4 + s.data[sig + 2]);
    ring_free(&r);
    tb_blob_free(&want);
    tb_signed_free(&s);
}

static void set_rsa_full(struct tb_sign_opts *o) { o->pubkey_full = true; }

static void test_sign_roundtrip_all_keys(void **state)
{
    (void)state;
    static const char *keys[] = {"key-ecdsa-p256.pem", "key-rsa-2048.pem", "key-ed25519.pem"};
    for (size_t i = 0; i < 3; i++) {
        for (int full = 0; full < 2; full++) {
            struct tb_signed s = sign_payload(keys[i], full ? set_rsa_full : NULL);
            struct tb_image_info info;
            struct ring r = {0};
            ring_add(&r, "key-ecdsa-p256-other.pem");
            ring_add(&r, keys[i]);
            assert_int_equal(validate_buf(s.data, s.len, &r, &info), TB_OK);
            assert_int_equal(info.key_index, 1);
            ring_free(&r);
            tb_signed_free(&s);
        }
    }
}

/* ---- one crafted image per refusal reason ---------------------------- */

/* A hash-only image built by hand, so each field can be broken on its own. */
struct raw {
    uint8_t d[4096];
    size_t len;
};

static void tlv(struct raw *r, uint16_t type, const void *v, uint16_t len)
{
    r->d[r->len++] = (uint8_t)type;
    r->d[r->len++] = (uint8_t)(type >> 8);
    r->d[r->len++] = (uint8_t)len;
    r->d[r->len++] = (uint8_t)(len >> 8);
    memcpy(r->d + r->len, v, len);
    r->len += len;
}

/* header 0x40, payload 256 B, protected: nprot SEC_CNT-or-DEPENDENCY TLVs,
 * unprotected: SHA256 (correct). */
static void build_raw(struct raw *r, int ndeps, bool sec_cnt)
{
    memset(r, 0, sizeof(*r));
    struct tb_image_header h = {.magic = TB_IMAGE_MAGIC, .hdr_size = 0x40, .img_size = 256,
                                .ver = {2, 1, 0, 0}};
    r->len = 0x40;
    for (int i = 0; i < 256; i++) {
        r->d[r->len++] = (uint8_t)(i * 7);
    }
    size_t prot_start = r->len;
    if (ndeps > 0 || sec_cnt) {
        r->len += 4;
        if (sec_cnt) {
            uint8_t v[4] = {9, 0, 0, 0};
            tlv(r, TB_TLV_SEC_CNT, v, 4);
        }
        for (int i = 0; i < ndeps; i++) {
            uint8_t v[12] = {1, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0};
            tlv(r, TB_TLV_DEPENDENCY, v, 12);
        }
        uint16_t ps = (uint16_t)(r->len - prot_start);
        r->d[prot_start] = 0x08;
        r->d[prot_start + 1] = 0x69;
        r->d[prot_start + 2] = (uint8_t)ps;
        r->d[prot_start + 3] = (uint8_t)(ps >> 8);
        h.protect_tlv_size = ps;
    }
    tb_image_header_encode(&h, r->d);
    uint8_t dig[32];
    struct tb_hash_ctx c;
    assert_int_equal(tb_hash_init(&c, TB_HASH_SHA256), TB_OK);
    assert_int_equal(tb_hash_update(&c, r->d, r->len), TB_OK);
    assert_int_equal(tb_hash_finish(&c, dig), TB_OK);
    r->d[r->len++] = 0x07;
    r->d[r->len++] = 0x69;
    r->d[r->len++] = 4 + 36;
    r->d[r->len++] = 0;
    tlv(r, TB_TLV_SHA256, dig, 32);
}

static int check_raw(struct raw *r, size_t slot_len)
{
    struct tb_image_info info;
    return validate_buf(r->d, slot_len ? slot_len : r->len, NULL, &info);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void test_refusals(void **state)
{
    (void)state;
    struct raw r;
    const size_t tlv_off = 0x40 + 256;

    build_raw(&r, 0, false);
    assert_int_equal(check_raw(&r, 0), TB_OK);

    build_raw(&r, 0, false);
    put32(r.d, TB_IMAGE_MAGIC_V1);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_MAGIC);

    build_raw(&r, 0, false);
    put16(r.d + 8, 16);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_HDR_SIZE);
    build_raw(&r, 0, false);
    put16(r.d + 8, 0xfff0);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_HDR_SIZE);

    build_raw(&r, 0, false);
    put32(r.d + 12, 0xfffffff0u); /* would wrap a 32-bit sum */
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_TOO_LARGE);

    build_raw(&r, 0, false);
    put32(r.d + 16, TB_IMAGE_F_ENCRYPTED_AES128);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_FLAGS);

    build_raw(&r, 0, false);
    r.d[tlv_off] = 0x00;
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_TLV_MAGIC);

    /* protected area present but header says none / wrong size */
    build_raw(&r, 1, false);
    put16(r.d + 10, 0);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_PROT_SIZE);
    build_raw(&r, 1, false);
    put16(r.d + tlv_off + 2, 99);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_PROT_SIZE);
    build_raw(&r, 1, false);
    put16(r.d + 10, 2);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_PROT_SIZE);

    /* unprotected total runs past the slot */
    build_raw(&r, 0, false);
    put16(r.d + tlv_off + 2, 4000);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_TLV_OVERFLOW);
    build_raw(&r, 0, false);
    assert_int_equal(check_raw(&r, r.len - 1), TB_E_IMG_TLV_OVERFLOW);

    /* a TLV longer than its section; a total smaller than the info header */
    build_raw(&r, 0, false);
    put16(r.d + tlv_off + 4 + 2, 33);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_TLV_LEN);
    build_raw(&r, 0, false);
    put16(r.d + tlv_off + 2, 2);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_TLV_LEN);
    build_raw(&r, 1, false); /* dependency with a wrong length, inside the protected section */
    put16(r.d + tlv_off + 4 + 2, 8);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_TLV_LEN);

    /* SEC_CNT outside the protected area */
    build_raw(&r, 0, false);
    put16(r.d + tlv_off + 4, TB_TLV_SEC_CNT);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_TLV_UNPROTECTED);

    build_raw(&r, 0, false);
    put16(r.d + tlv_off + 4, 0x99);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_NO_HASH);

    build_raw(&r, 0, false);
    r.d[0x40 + 10] ^= 1;
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_HASH_MISMATCH);

    build_raw(&r, TB_IMAGE_MAX_DEPS, true);
    assert_int_equal(check_raw(&r, 0), TB_OK);
    build_raw(&r, TB_IMAGE_MAX_DEPS + 1, false);
    assert_int_equal(check_raw(&r, 0), TB_E_IMG_TOO_MANY_DEPS);

    memset(r.d, 0xff, sizeof(r.d));
    assert_int_equal(check_raw(&r, 1024), TB_E_IMG_EMPTY);
}

static void test_signature_refusals(void **state)
{
    (void)state;
    struct tb_image_info info;
    struct ring r = {0};
    ring_add(&r, "key-ecdsa-p256.pem");
    struct tb_blob b = load("signed-ecdsa-p256.bin");
    b.data[b.len - 5] ^= 0x40; /* inside the DER signature's s value */
    assert_int_equal(validate_buf(b.data, b.len, &r, &info), TB_E_IMG_BAD_SIGNATURE);
    tb_blob_free(&b);

    b = load("signed-ed25519.bin");
    ring_free(&r);
    ring_add(&r, "key-ed25519.pem");
    b.data[b.len - 1] ^= 0x01;
    assert_int_equal(validate_buf(b.data, b.len, &r, &info), TB_E_IMG_BAD_SIGNATURE);
    tb_blob_free(&b);

    b = load("signed-rsa-2048.bin");
    ring_free(&r);
    ring_add(&r, "key-rsa-2048.pem");
    b.data[b.len - 100] ^= 0x01;
    assert_int_equal(validate_buf(b.data, b.len, &r, &info), TB_E_IMG_BAD_SIGNATURE);
    tb_blob_free(&b);
    ring_free(&r);

    /* a trusted key whose DER is garbage, but whose hash the image names */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    uint8_t h[32];
    struct tb_hash_ctx c;
    assert_int_equal(tb_hash_init(&c, TB_HASH_SHA256), TB_OK);
    assert_int_equal(tb_hash_update(&c, junk, sizeof(junk)), TB_OK);
    assert_int_equal(tb_hash_finish(&c, h), TB_OK);
    b = load("signed-ecdsa-p256.bin");
    struct tb_image_header hdr;
    tb_image_header_decode(b.data, &hdr);
    /* unprotected TLVs: info(4) SHA256(36) KEYHASH(4+32): patch the key hash */
    memcpy(b.data + hdr.hdr_size + hdr.img_size + 4 + 36 + 4, h, 32);
    r.keys[0] = (struct tb_key){TB_KEY_ECDSA_P256, junk, sizeof(junk)};
    r.n = 1;
    struct tb_keyring kr = {r.keys, 1};
    struct tb_flash f;
    struct tb_area a;
    assert_int_equal(tb_memflash_init(&f, &a, b.data, b.len), TB_OK);
    assert_int_equal(tb_image_validate(&a, &kr, &info), TB_E_IMG_KEY);
    tb_blob_free(&b);
}

/* ---- no read ever leaves the slot ------------------------------------ */

struct guard {
    const uint8_t *d;
    uint32_t lo, hi; /* the slot */
    int violations;
};

static int guard_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    struct guard *g = f->ctx;
    if (off < g->lo || off + len > g->hi) {
        g->violations++;
    }
    memcpy(buf, g->d + off, len);
    return TB_OK;
}

static void test_reads_stay_in_slot(void **state)
{
    (void)state;
    /* Put the image at the end of a slot inside a bigger flash, with a TLV
     * total that points past the slot end; every read must stay inside. */
    static uint8_t mem[16384];
    struct raw r;
    build_raw(&r, 2, true);
    memset(mem, 0xa5, sizeof(mem));
    struct guard g = {mem, 4096, 4096 + (uint32_t)r.len, 0};
    memcpy(mem + 4096, r.d, r.len);
    struct tb_flash f = {.name = "guard", .size = sizeof(mem), .sector_size = 4096, .write_size = 4,
                         .erased_val = 0xff, .read = guard_read, .ctx = &g};
    struct tb_area a = {&f, 4096, (uint32_t)r.len};
    struct tb_keyring none = {NULL, 0};
    struct tb_image_info info;
    assert_int_equal(tb_image_validate(&a, &none, &info), TB_OK);
    for (size_t cut = 1; cut < r.len; cut++) {
        a.size = (uint32_t)(r.len - cut);
        g.hi = 4096 + a.size;
        assert_int_not_equal(tb_image_validate(&a, &none, &info), TB_OK);
    }
    /* and with every single-byte corruption of header and TLVs */
    a.size = (uint32_t)r.len;
    g.hi = 4096 + a.size;
    for (size_t i = 0; i < r.len; i++) {
        if (i >= 32 && i < 0x40 + 256) {
            continue; /* payload bytes only change the hash */
        }
        uint8_t old = mem[4096 + i];
        mem[4096 + i] = (uint8_t)(old ^ 0xff);
        (void)tb_image_validate(&a, &none, &info);
        mem[4096 + i] = old;
    }
    assert_int_equal(g.violations, 0);
}

/* ---- torn operations inside an image --------------------------------- */

static void write_image(struct tb_simdev *d, const uint8_t *img, size_t len, int *rc_out)
{
    struct tb_area a = {&d->fl[TB_SIM_APP].flash, 0x10000, 0x80000};
    size_t padded = (len + 3) & ~(size_t)3;
    uint8_t *buf = malloc(padded);
    assert_non_null(buf);
    memset(buf, 0xff, padded);
    memcpy(buf, img, len);
    int rc = tb_area_erase(&a, 0, (uint32_t)((padded + 4095) & ~(size_t)4095));
    /* program in 4 KiB chunks, as an upload would: several operations to cut */
    for (size_t off = 0; rc == TB_OK && off < padded; off += 4096) {
        size_t n = padded - off < 4096 ? padded - off : 4096;
        rc = tb_area_program(&a, (uint32_t)off, buf + off, (uint32_t)n);
    }
    free(buf);
    *rc_out = rc;
}

static void test_torn_program_and_erase(void **state)
{
    (void)state;
    struct ring r = {0};
    ring_add(&r, "key-ed25519.pem");
    struct tb_keyring kr = {r.keys, r.n};
    struct tb_blob img = load("signed-ed25519.bin");
    struct tb_simdev d;
    struct tb_image_info info;
    struct tb_area slot = {NULL, 0x10000, 0x80000};
    assert_int_equal(tb_simdev_init(&d), TB_OK);
    slot.flash = &d.fl[TB_SIM_APP].flash;

    /* erase 11 sectors + program 11 chunks = 22 operations; cut in each program */
    int rc;
    unsigned refused = 0;
    for (uint64_t cut = 12; cut <= 22; cut++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            tb_simdev_power_on(&d);
            tb_simdev_arm_cut(&d, cut, seed);
            write_image(&d, img.data, img.len, &rc);
            assert_int_equal(rc, TB_E_POWER);
            tb_simdev_power_on(&d);
            rc = tb_image_validate(&slot, &kr, &info);
            assert_int_not_equal(rc, TB_OK);
            refused++;
        }
    }
    assert_int_equal(refused, 33);

    /* a complete write validates; then a torn erase of any sector inside it */
    tb_simdev_power_on(&d);
    write_image(&d, img.data, img.len, &rc);
    assert_int_equal(rc, TB_OK);
    assert_int_equal(tb_image_validate(&slot, &kr, &info), TB_OK);
    for (uint32_t s = 0; s < 11; s++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            tb_simdev_power_on(&d);
            write_image(&d, img.data, img.len, &rc);
            assert_int_equal(rc, TB_OK);
            tb_simdev_arm_cut(&d, 1, seed);
            assert_int_equal(tb_area_erase(&slot, s * 4096, 4096), TB_E_POWER);
            tb_simdev_power_on(&d);
            assert_int_not_equal(tb_image_validate(&slot, &kr, &info), TB_OK);
        }
    }
    tb_simdev_free(&d);
    tb_blob_free(&img);
    ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_vector_fields),
        cmocka_unit_test(test_pubhash),
        cmocka_unit_test(test_sign_ed25519_identical),
        cmocka_unit_test(test_sign_ecdsa_matches_imgtool),
        cmocka_unit_test(test_sign_roundtrip_all_keys),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_second_hash_tlv),
        cmocka_unit_test(test_ed25519_sha512_and_pure),
        cmocka_unit_test(test_padded_ecdsa),
        cmocka_unit_test(test_signature_refusals),
        cmocka_unit_test(test_reads_stay_in_slot),
        cmocka_unit_test(test_torn_program_and_erase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
