/* Compressed images (MCUboot's LZMA2 / LZMA2 + ARM-Thumb): imgtool's vectors
 * rebuild to exactly the plain images, the view reads correctly in any
 * order, and malformed images give a clear error, never a crash. */
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
#include "harness.h"
#include "imgcompress.h"
#include "keyfile.h"
#include "memflash.h"
#include "twinboot/decompress.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

#define V TB_VECTORS_DIR "/"
#define VIEW_SIZE 0xe0000U /* the vectors' --slot-size */
#define SECTOR 4096U

static struct tb_blob load(const char *name) { return load_vector(name); }

/* A keyring of one vector key. */
struct ring1 {
    struct tb_key key;
    uint8_t *der;
    struct tb_keyring kr;
};

static void ring1_load(struct ring1 *r, const char *keyfile)
{
    r->key = vector_key(keyfile, &r->der);
    r->kr = (struct tb_keyring){&r->key, 1};
}

struct opened {
    struct tb_blob b;
    struct tb_flash f;
    struct tb_area src, view;
};

static int open_buf(struct opened *o, uint32_t view_size)
{
    assert_int_equal(tb_memflash_init(&o->f, &o->src, o->b.data, o->b.len), TB_OK);
    return tb_decomp_open(&o->src, view_size, SECTOR, 4, 0xff, &o->view);
}

/* The TLV of a type in a vector, or NULL. */
static uint8_t *find_tlv(const struct tb_blob *b, uint16_t type, uint16_t *len)
{
    uint32_t hs = b->data[8] | (uint32_t)b->data[9] << 8;
    uint32_t is = b->data[12] | (uint32_t)b->data[13] << 8 | (uint32_t)b->data[14] << 16 | (uint32_t)b->data[15] << 24;
    size_t off = hs + is;
    while (off + 4 <= b->len) {
        size_t tot = b->data[off + 2] | (size_t)b->data[off + 3] << 8;
        size_t end = off + tot, p = off + 4;
        while (p + 4 <= end) {
            uint16_t t = (uint16_t)(b->data[p] | b->data[p + 1] << 8);
            uint16_t l = (uint16_t)(b->data[p + 2] | b->data[p + 3] << 8);
            if (t == type) {
                *len = l;
                return b->data + p + 4;
            }
            p += 4U + l;
        }
        off = end;
    }
    return NULL;
}

static void check_vector(const char *name, const char *key, const char *plain)
{
    struct ring1 r;
    struct tb_image_info info;
    struct opened o = {.b = load(name)};
    ring1_load(&r, key);
    /* the image as sent validates (outer hash and signature) but does not boot */
    assert_int_equal(open_buf(&o, VIEW_SIZE), TB_OK);
    assert_int_equal(tb_image_validate(&o.src, &r.kr, &info), TB_OK);
    assert_int_equal(tb_image_bootable(&info.hdr), TB_E_IMG_FLAGS);
    /* the rebuilt image validates: its hash and signature are DECOMP_SHA / DECOMP_SIGNATURE */
    assert_int_equal(tb_image_validate(&o.view, &r.kr, &info), TB_OK);
    assert_int_equal(tb_image_bootable(&info.hdr), TB_OK);
    uint16_t l;
    const uint8_t *sha = find_tlv(&o.b, TB_TLV_DECOMP_SHA, &l);
    assert_non_null(sha);
    assert_int_equal(l, 32);
    assert_memory_equal(info.hash, sha, 32);
    assert_int_equal(info.hdr.flags & TB_IMAGE_F_COMPRESSED, 0);
    assert_int_equal(info.hdr.img_size, 49628);
    assert_int_equal(tb_decomp_image_size(), info.tlv_end);
    struct tb_decomp_stats st;
    tb_decomp_get_stats(&st);
    assert_int_equal(st.starts, 1); /* one decode for a full validation */
    if (plain != NULL) {
        /* byte for byte the plain image imgtool signs from the same payload, erased after it */
        struct tb_blob p = load(plain);
        assert_int_equal(info.tlv_end, p.len);
        uint8_t *got = malloc(VIEW_SIZE);
        assert_non_null(got);
        assert_int_equal(tb_area_read(&o.view, 0, got, VIEW_SIZE), TB_OK);
        assert_memory_equal(got, p.data, p.len);
        for (size_t i = p.len; i < VIEW_SIZE; i++) {
            assert_int_equal(got[i], 0xff);
        }
        /* backwards and odd-sized reads: the stream starts again, same bytes */
        for (uint32_t off = (uint32_t)p.len - 1000U;; off -= 4093U) {
            uint8_t b[777];
            assert_int_equal(tb_area_read(&o.view, off, b, sizeof(b)), TB_OK);
            assert_memory_equal(b, got + off, sizeof(b));
            if (off < 4093U) {
                break;
            }
        }
        tb_decomp_get_stats(&st);
        assert_true(st.starts > 2);
        free(got);
        tb_blob_free(&p);
    }
    free(r.der);
    tb_blob_free(&o.b);
}

static void test_ed25519_lzma2armthumb(void **state)
{
    (void)state;
    check_vector("signed-ed25519-lzma2armthumb.bin", "key-ed25519.pem", "signed-ed25519-thumb-uncompressed.bin");
}

static void test_ed25519_lzma2(void **state)
{
    (void)state;
    check_vector("signed-ed25519-lzma2.bin", "key-ed25519.pem", "signed-ed25519-thumb-uncompressed.bin");
}

static void test_ecdsa(void **state)
{
    (void)state;
    /* ECDSA signatures are not deterministic: the rebuilt image validates, its bytes are its own */
    check_vector("signed-ecdsa-p256-lzma2.bin", "key-ecdsa-p256.pem", NULL);
    check_vector("signed-ecdsa-p256-lzma2armthumb.bin", "key-ecdsa-p256.pem", NULL);
}

static void test_fits(void **state)
{
    (void)state;
    struct opened o = {.b = load("signed-ed25519-lzma2armthumb.bin")};
    assert_int_equal(tb_memflash_init(&o.f, &o.src, o.b.data, o.b.len), TB_OK);
    /* what counts is the rebuilt size (50 284), not the 29 773 bytes sent */
    assert_int_equal(tb_decomp_fits(&o.src, 50284), TB_OK);
    assert_int_equal(tb_decomp_fits(&o.src, 50283), TB_E_IMG_TOO_LARGE);
    assert_int_equal(open_buf(&o, 48 * 1024), TB_E_IMG_TOO_LARGE);
    tb_blob_free(&o.b);
    struct opened p = {.b = load("signed-ed25519-thumb-uncompressed.bin")};
    assert_int_equal(tb_memflash_init(&p.f, &p.src, p.b.data, p.b.len), TB_OK);
    assert_int_equal(tb_decomp_fits(&p.src, 50284), TB_OK);
    assert_int_equal(tb_decomp_fits(&p.src, 50000), TB_E_IMG_TOO_LARGE);
    tb_blob_free(&p.b);
}

/* Patch a copy of a vector; open and validate its view: the error, if any. */
static int patched(void (*patch)(struct tb_blob *b), int *open_rc)
{
    struct ring1 r;
    struct tb_image_info info;
    struct opened o = {.b = load("signed-ed25519-lzma2armthumb.bin")};
    ring1_load(&r, "key-ed25519.pem");
    patch(&o.b);
    *open_rc = open_buf(&o, VIEW_SIZE);
    int rc = *open_rc == TB_OK ? tb_image_validate(&o.view, &r.kr, &info) : *open_rc;
    free(r.der);
    tb_blob_free(&o.b);
    return rc;
}

static void put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void decomp_size_plus(struct tb_blob *b)
{
    uint16_t l;
    uint8_t *v = find_tlv(b, TB_TLV_DECOMP_SIZE, &l);
    put32le(v, 49628U + 4096U);
}
static void decomp_size_minus(struct tb_blob *b)
{
    uint16_t l;
    put32le(find_tlv(b, TB_TLV_DECOMP_SIZE, &l), 49628U - 1U);
}
static void stream_byte(struct tb_blob *b) { b->data[0x200 + 5000] ^= 0x5a; }
static void stream_garbage(struct tb_blob *b)
{
    for (int i = 0; i < 64; i++) {
        b->data[0x200 + 2 + 3000 + i] = (uint8_t)(i * 37);
    }
}
static void dict_too_big(struct tb_blob *b) { b->data[0x200] = 0x0c; /* 256 KiB */ }
static void dict_invalid(struct tb_blob *b) { b->data[0x200] = 41; }
static void props_invalid(struct tb_blob *b) { b->data[0x201] = 225; }
static void no_decomp_sha(struct tb_blob *b)
{
    uint16_t l;
    uint8_t *v = find_tlv(b, TB_TLV_DECOMP_SHA, &l);
    v[-4] = 0x7e; /* the TLV becomes an unknown one */
}
static void decomp_sha_len(struct tb_blob *b)
{
    uint16_t l;
    uint8_t *v = find_tlv(b, TB_TLV_DECOMP_SIZE, &l);
    v[-4] = TB_TLV_DECOMP_SHA; /* a second, 4-byte DECOMP_SHA */
}
static void lzma1(struct tb_blob *b) { b->data[17] |= 0x02; }
static void inner_sig(struct tb_blob *b)
{
    uint16_t l;
    find_tlv(b, TB_TLV_DECOMP_SIGNATURE, &l)[3] ^= 1;
}

static void test_refusals(void **state)
{
    (void)state;
    int orc;
    int rc = patched(decomp_size_plus, &orc);
    assert_int_equal(orc, TB_OK);
    assert_int_equal(rc, TB_E_IMG_DECODE); /* the stream ends first */
    rc = patched(decomp_size_minus, &orc);
    assert_int_equal(rc, TB_E_IMG_DECODE); /* the stream goes on past DECOMP_SIZE */
    rc = patched(stream_byte, &orc);
    assert_true(rc == TB_E_IMG_DECODE || rc == TB_E_IMG_HASH_MISMATCH);
    rc = patched(stream_garbage, &orc);
    assert_true(rc == TB_E_IMG_DECODE || rc == TB_E_IMG_HASH_MISMATCH);
    assert_int_equal(patched(dict_too_big, &orc), TB_E_UNSUPPORTED);
    assert_int_equal(patched(dict_invalid, &orc), TB_E_IMG_DECOMP);
    assert_int_equal(patched(props_invalid, &orc), TB_E_IMG_DECOMP);
    assert_int_equal(patched(no_decomp_sha, &orc), TB_E_IMG_DECOMP);
    assert_int_equal(patched(decomp_sha_len, &orc), TB_E_IMG_DECOMP);
    assert_int_equal(patched(lzma1, &orc), TB_E_UNSUPPORTED);
    assert_int_equal(patched(inner_sig, &orc), TB_E_IMG_BAD_SIGNATURE);
}

/* Every truncation of the stream region fails cleanly. */
static void test_truncated_streams(void **state)
{
    (void)state;
    struct tb_blob b = load("signed-ed25519-lzma2armthumb.bin");
    struct tb_image_info info;
    struct tb_keyring none = {NULL, 0};
    for (uint32_t cut = 0; cut < 29001U; cut += 997U) {
        /* zero the stream from cut on: LZMA2 control byte 0 is the end marker */
        uint8_t *c = malloc(b.len);
        assert_non_null(c);
        memcpy(c, b.data, b.len);
        memset(c + 0x200 + 2 + cut, 0, 29001U - 2U - cut);
        struct tb_flash f;
        struct tb_area src, view;
        assert_int_equal(tb_memflash_init(&f, &src, c, b.len), TB_OK);
        assert_int_equal(tb_decomp_open(&src, VIEW_SIZE, SECTOR, 4, 0xff, &view), TB_OK);
        int rc = tb_image_validate(&view, &none, &info);
        assert_true(rc == TB_E_IMG_DECODE || rc == TB_E_IMG_HASH_MISMATCH);
        free(c);
    }
    tb_blob_free(&b);
}

/* The vectors' sign options: --header-size 0x200 --pad-header --slot-size 0xe0000 --align 4. */
static void vector_opts(struct tb_sign_opts *o)
{
    tb_sign_opts_default(o);
    o->header_size = 0x200;
    o->pad_header = true;
    o->slot_size = VIEW_SIZE;
    o->align = 4;
}

/* twinboot image sign --compression: byte for byte imgtool's (Ed25519 is deterministic). */
static void sign_like_vector(const char *key, enum tb_compression comp, const char *want, bool *compressed)
{
    char path[1024], err[256];
    struct tb_sign_opts o;
    struct tb_signed out;
    struct tb_blob in = load("payload-thumb-48k.bin");
    vector_opts(&o);
    o.version = (struct tb_image_version){1, 2, 0, 0};
    snprintf(path, sizeof(path), "%s%s", V, key);
    struct tbk_key *k = tbk_load(path, err, sizeof(err));
    assert_non_null(k);
    assert_int_equal(tb_sign_compressed(&o, k, in.data, in.len, comp, &out, compressed, err, sizeof(err)), 0);
    if (want != NULL) {
        struct tb_blob w = load(want);
        assert_int_equal(out.len, w.len);
        assert_memory_equal(out.data, w.data, w.len);
        tb_blob_free(&w);
    } else {
        /* ECDSA: not the same bytes, but the same stream and a valid image */
        struct tb_flash f;
        struct tb_area src, view;
        struct tb_image_info info;
        struct ring1 r;
        ring1_load(&r, key);
        assert_int_equal(tb_memflash_init(&f, &src, out.data, out.len), TB_OK);
        assert_int_equal(tb_image_validate(&src, &r.kr, &info), TB_OK);
        assert_int_equal(tb_decomp_open(&src, VIEW_SIZE, SECTOR, 4, 0xff, &view), TB_OK);
        assert_int_equal(tb_image_validate(&view, &r.kr, &info), TB_OK);
        free(r.der);
    }
    tbk_free(k);
    tb_signed_free(&out);
    tb_blob_free(&in);
}

static void test_sign_identical(void **state)
{
    (void)state;
    bool c;
    sign_like_vector("key-ed25519.pem", TB_COMP_LZMA2_ARMTHUMB, "signed-ed25519-lzma2armthumb.bin", &c);
    assert_true(c);
    sign_like_vector("key-ed25519.pem", TB_COMP_LZMA2, "signed-ed25519-lzma2.bin", &c);
    assert_true(c);
    sign_like_vector("key-ed25519.pem", TB_COMP_NONE, "signed-ed25519-thumb-uncompressed.bin", &c);
    assert_false(c);
    sign_like_vector("key-ecdsa-p256.pem", TB_COMP_LZMA2_ARMTHUMB, NULL, &c);
    assert_true(c);
}

/* imgtool's fallback: random bytes do not compress, the plain image is kept. */
static void test_sign_fallback(void **state)
{
    (void)state;
    char path[1024], err[256];
    struct tb_sign_opts o;
    struct tb_signed out;
    bool c = true;
    struct tb_blob in = load("payload-raw-40k.bin");
    vector_opts(&o);
    snprintf(path, sizeof(path), "%s%s", V, "key-ed25519.pem");
    struct tbk_key *k = tbk_load(path, err, sizeof(err));
    assert_int_equal(tb_sign_compressed(&o, k, in.data, in.len, TB_COMP_LZMA2, &out, &c, err, sizeof(err)), 0);
    assert_false(c);
    struct tb_image_header h;
    tb_image_header_decode(out.data, &h);
    assert_int_equal(h.flags, 0);
    assert_int_equal(h.img_size, in.len);
    tb_signed_free(&out);
    /* without --pad-header there is no room for the stream: refused, as imgtool */
    o.pad_header = false;
    assert_int_equal(tb_sign_compressed(&o, k, in.data, in.len, TB_COMP_LZMA2, &out, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--pad-header"));
    tbk_free(k);
    tb_blob_free(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ed25519_lzma2armthumb),
        cmocka_unit_test(test_ed25519_lzma2),
        cmocka_unit_test(test_ecdsa),
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_truncated_streams),
        cmocka_unit_test(test_sign_identical),
        cmocka_unit_test(test_sign_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
