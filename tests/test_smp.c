/* The SMP server: each command as Zephyr answers it, uploads with resume,
 * and a correct error response for every bad request. Requests are built
 * and responses read with libcbor's own (allocating) API, independent of
 * the server's reader and writer. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <cmocka.h>

#include "cborx.h"
#include "fileio.h"
#include "harness.h"
#include "smp_serial.h"
#include "twinboot/error.h"
#include "twinboot/smp.h"

#define SLOT 0xa000U
#define NSEC 0x9000U

struct fix {
    struct world w;
    struct tb_boot_record rec;
    struct tb_smp_server s;
    struct tb_signed app1, app2, net1;
    uint8_t rsp[2048];
    size_t rsp_len;
    cbor_item_t *body; /* the last response's CBOR */
    struct tb_smp_hdr rh;
};

static uint8_t g_seq;

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    world_init(&f->w, TB_STRATEGY_SWAP, SLOT, true);
    f->app1 = make_signed(1, 30, SLOT, 1, NULL, 0);
    f->app2 = make_signed(2, 20, SLOT, 2, NULL, 0);
    f->net1 = make_signed(1, 12, NSEC, 3, NULL, 0);
    put_region(&f->w, &f->w.lay.img[0].primary, &f->app1);
    put_region(&f->w, &f->w.lay.img[1].primary, &f->net1);
    assert_int_equal(tb_boot_go(&f->w.cfg, &f->rec), TB_OK);
    struct tb_smp_env env = {&f->w.cfg, &f->rec, 1024, 4, "twinboot test device"};
    tb_smp_init(&f->s, &env);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;
    if (f->body) {
        cbor_decref(&f->body);
    }
    tb_signed_free(&f->app1);
    tb_signed_free(&f->app2);
    tb_signed_free(&f->net1);
    world_free(&f->w);
    free(f);
    return 0;
}

/* Send header + CBOR map (built by the caller, or raw bytes). */
static void send_raw(struct fix *f, const uint8_t *msg, size_t len)
{
    if (f->body) {
        cbor_decref(&f->body);
    }
    assert_int_equal(tb_smp_handle(&f->s, msg, len, f->rsp, sizeof(f->rsp), &f->rsp_len), TB_OK);
    assert_true(f->rsp_len >= TB_SMP_HDR_SIZE);
    tb_smp_hdr_decode(f->rsp, &f->rh);
    assert_int_equal(f->rh.len, f->rsp_len - TB_SMP_HDR_SIZE);
    struct cbor_load_result res;
    f->body = cbor_load(f->rsp + TB_SMP_HDR_SIZE, f->rh.len, &res);
    assert_non_null(f->body);
    assert_int_equal(res.error.code, CBOR_ERR_NONE);
    assert_true(cbor_isa_map(f->body));
}

static void send(struct fix *f, int ver, int op, int group, int id, cbor_item_t *map)
{
    uint8_t msg[4096];
    unsigned char *buf = NULL;
    size_t cap = 0, n = map ? cbor_serialize_alloc(map, &buf, &cap) : 0;
    struct tb_smp_hdr h = {(uint8_t)op, (uint8_t)ver, 0, (uint16_t)n, (uint16_t)group, ++g_seq, (uint8_t)id};
    tb_smp_hdr_encode(&h, msg);
    assert_true(n + 8 <= sizeof(msg));
    if (n) {
        memcpy(msg + 8, buf, n);
    }
    free(buf);
    if (map) {
        cbor_decref(&map);
    }
    send_raw(f, msg, n + 8);
    assert_int_equal(f->rh.seq, g_seq);
    assert_int_equal(f->rh.op, op | 1);
    assert_int_equal(f->rh.group, group);
    assert_int_equal(f->rh.id, id);
    assert_int_equal(f->rh.version, ver);
}

static cbor_item_t *get(cbor_item_t *map, const char *key) { return tb_cbor_get(map, key); }

static uint64_t uget(cbor_item_t *map, const char *key)
{
    cbor_item_t *v = get(map, key);
    assert_non_null(v);
    assert_true(cbor_isa_uint(v));
    return cbor_get_int(v);
}

static void add(cbor_item_t *m, const char *k, cbor_item_t *v) { tb_cbor_add(m, k, v); }

static cbor_item_t *map(void) { return cbor_new_indefinite_map(); }

/* v1: {"rc": N}; v2 group error: {"err": {"group": G, "rc": N}} */
static void expect_rc(struct fix *f, uint64_t rc)
{
    assert_int_equal(cbor_map_size(f->body), 1);
    assert_int_equal(uget(f->body, "rc"), rc);
}

static void expect_err(struct fix *f, uint64_t group, uint64_t rc)
{
    cbor_item_t *e = get(f->body, "err");
    assert_non_null(e);
    assert_int_equal(uget(e, "group"), group);
    assert_int_equal(uget(e, "rc"), rc);
}

/* ---- OS group ------------------------------------------------------------- */

static void test_os(void **state)
{
    struct fix *f = *state;
    for (int ver = 0; ver <= 1; ver++) {
        cbor_item_t *m = map();
        add(m, "d", cbor_build_string("hello"));
        send(f, ver, 2, 0, 0, m);
        cbor_item_t *r = get(f->body, "r");
        assert_non_null(r);
        assert_memory_equal(cbor_string_handle(r), "hello", 5);
        assert_int_equal(cbor_map_size(f->body), 1); /* nothing else: strict clients reject extra keys */
    }
    /* the exact bytes of smpclient's echo and of Zephyr's answer (shared
     * reference smp.md, as observed on the wire) */
    static const uint8_t echo_req[] = {0x0a, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x00,
                                       0xa1, 0x61, 0x64, 0x65, 'h', 'e', 'l', 'l', 'o'};
    static const uint8_t echo_rsp[] = {0x0b, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x00,
                                       0xa1, 0x61, 0x72, 0x65, 'h', 'e', 'l', 'l', 'o'};
    send_raw(f, echo_req, sizeof(echo_req));
    assert_int_equal(f->rsp_len, sizeof(echo_rsp));
    assert_memory_equal(f->rsp, echo_rsp, sizeof(echo_rsp));
    send(f, 1, 0, 0, 6, map());
    assert_int_equal(uget(f->body, "buf_size"), 1024);
    assert_int_equal(uget(f->body, "buf_count"), 4);
    send(f, 1, 0, 0, 7, NULL); /* no payload at all reads as {} */
    assert_non_null(get(f->body, "output"));
    send(f, 1, 0, 0, 8, map());
    assert_memory_equal(cbor_string_handle(get(f->body, "bootloader")), "MCUboot", 7);
    cbor_item_t *q = map();
    add(q, "query", cbor_build_string("mode"));
    send(f, 1, 0, 0, 8, q);
    assert_int_equal(uget(f->body, "mode"), 3);
    q = map();
    add(q, "query", cbor_build_string("colour"));
    send(f, 1, 0, 0, 8, q);
    expect_rc(f, TB_MGMT_ENOTSUP);
    /* reset: answered first, done after */
    assert_false(f->s.reset_requested);
    send(f, 1, 2, 0, 5, map());
    assert_int_equal(cbor_map_size(f->body), 0);
    assert_true(f->s.reset_requested);
}

/* ---- image group --------------------------------------------------------- */

/* image list: the entries for (image, slot), as a small table */
struct entry {
    int image, slot;
    char version[16];
    bool bootable, pending, confirmed, active, permanent;
    uint8_t hash[32];
};

static int list(struct fix *f, struct entry *e, int max)
{
    send(f, 1, 0, 1, 0, map());
    cbor_item_t *imgs = get(f->body, "images");
    assert_non_null(imgs);
    int n = (int)cbor_array_size(imgs);
    assert_true(n <= max);
    for (int i = 0; i < n; i++) {
        cbor_item_t *m = cbor_array_get(imgs, (size_t)i);
        memset(&e[i], 0, sizeof(e[i]));
        e[i].image = (int)uget(m, "image");
        e[i].slot = (int)uget(m, "slot");
        cbor_item_t *v = get(m, "version");
        memcpy(e[i].version, cbor_string_handle(v), cbor_string_length(v) < 15 ? cbor_string_length(v) : 15);
        cbor_item_t *h = get(m, "hash");
        assert_true(cbor_isa_bytestring(h) && cbor_bytestring_length(h) == 32);
        memcpy(e[i].hash, cbor_bytestring_handle(h), 32);
        static const char *flags[] = {"bootable", "pending", "confirmed", "active", "permanent"};
        bool *dst[] = {&e[i].bootable, &e[i].pending, &e[i].confirmed, &e[i].active, &e[i].permanent};
        for (int k = 0; k < 5; k++) {
            cbor_item_t *b = get(m, flags[k]);
            if (b != NULL) {
                assert_true(cbor_is_bool(b) && cbor_get_bool(b)); /* false ones are left out */
                *dst[k] = true;
            }
        }
        cbor_decref(&m);
    }
    return n;
}

/* One upload request as `twinboot image upload` sends it: the first one
 * (off 0) names the file by image, length and SHA-256. Returns the offset
 * the device answers, or -1 for an error answer. */
static long upload_chunk(struct fix *f, int image, const uint8_t *d, size_t len, size_t off, size_t chunk)
{
    size_t n = len - off < chunk ? len - off : chunk;
    cbor_item_t *m = map();
    if (off == 0) {
        uint8_t sha[32];
        struct tb_hash_ctx c;
        assert_int_equal(tb_hash_init(&c, TB_HASH_SHA256), TB_OK);
        assert_int_equal(tb_hash_update(&c, d, len), TB_OK);
        assert_int_equal(tb_hash_finish(&c, sha), TB_OK);
        add(m, "image", cbor_build_uint8((uint8_t)image));
        add(m, "len", cbor_build_uint32((uint32_t)len));
        add(m, "sha", cbor_build_bytestring(sha, 32));
    }
    add(m, "off", cbor_build_uint32((uint32_t)off));
    add(m, "data", cbor_build_bytestring(d + off, n));
    send(f, 1, 2, 1, 1, m);
    cbor_item_t *o = get(f->body, "off");
    return o != NULL && cbor_isa_uint(o) ? (long)cbor_get_int(o) : -1;
}

static void upload(struct fix *f, int image, const uint8_t *d, size_t len, size_t chunk, size_t stop_at)
{
    size_t off = 0;
    while (off < len && off < stop_at) {
        long next = upload_chunk(f, image, d, len, off, chunk);
        assert_true(next > (long)off);
        off = (size_t)next;
    }
    if (off == len) {
        assert_true(cbor_get_bool(get(f->body, "match")));
    }
}

static void test_list_upload_test_confirm(void **state)
{
    struct fix *f = *state;
    struct entry e[4];
    int n = list(f, e, 4);
    assert_int_equal(n, 2); /* image 0 slot 0 and image 1 slot 0 */
    assert_int_equal(e[0].image, 0);
    assert_int_equal(e[0].slot, 0);
    assert_string_equal(e[0].version, "1.0.0");
    assert_true(e[0].bootable && e[0].confirmed && e[0].active && !e[0].pending);
    assert_memory_equal(e[0].hash, image_hash(&f->app1), 32);
    assert_int_equal(e[1].image, 1);
    assert_true(e[1].confirmed && e[1].active);
    assert_memory_equal(e[1].hash, image_hash(&f->net1), 32);

    upload(f, 0, f->app2.data, f->app2.len, 700, SIZE_MAX);
    n = list(f, e, 4);
    assert_int_equal(n, 3);
    assert_int_equal(e[1].slot, 1);
    assert_string_equal(e[1].version, "2.0.0");
    assert_false(e[1].pending);

    /* test: pending; reset; it runs, not confirmed */
    cbor_item_t *m = map();
    add(m, "hash", cbor_build_bytestring(image_hash(&f->app2), 32));
    add(m, "confirm", cbor_build_bool(false));
    send(f, 1, 2, 1, 0, m);
    assert_non_null(get(f->body, "images")); /* answered with the new state */
    n = list(f, e, 4);
    assert_true(e[1].pending && !e[1].permanent);
    /* "test" of the image that runs is refused */
    m = map();
    add(m, "hash", cbor_build_bytestring(image_hash(&f->app1), 32));
    add(m, "confirm", cbor_build_bool(false));
    send(f, 1, 2, 1, 0, m);
    expect_err(f, 1, TB_IMG_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED);

    assert_int_equal(tb_boot_go(&f->w.cfg, &f->rec), TB_OK);
    n = list(f, e, 4);
    assert_string_equal(e[0].version, "2.0.0");
    assert_true(e[0].active && !e[0].confirmed);
    /* confirm without a hash: the running image */
    m = map();
    add(m, "confirm", cbor_build_bool(true));
    send(f, 1, 2, 1, 0, m);
    n = list(f, e, 4);
    assert_true(e[0].confirmed);
    assert_int_equal(tb_boot_go(&f->w.cfg, &f->rec), TB_OK);
    assert_int_equal(f->rec.img[0].to.major, 2);
    assert_true(f->rec.img[0].confirmed);

    /* slot info */
    send(f, 1, 0, 1, 6, map());
    cbor_item_t *imgs = get(f->body, "images");
    assert_int_equal(cbor_array_size(imgs), 2);
    cbor_item_t *i0 = cbor_array_get(imgs, 0);
    assert_int_equal(uget(i0, "max_image_size"), SLOT - 0x1000);
    cbor_decref(&i0);
    /* erase the secondary; never the running slot */
    send(f, 1, 2, 1, 5, map());
    assert_int_equal(cbor_map_size(f->body), 0);
    m = map();
    add(m, "slot", cbor_build_uint8(0));
    send(f, 1, 2, 1, 5, m);
    expect_err(f, 1, TB_IMG_ERR_INVALID_SLOT);
    m = map();
    add(m, "slot", cbor_build_uint8(0));
    send(f, 0, 2, 1, 5, m);
    expect_rc(f, TB_MGMT_EBADSTATE);
}

static void test_upload_resume_and_gaps(void **state)
{
    struct fix *f = *state;
    const struct tb_signed *img = &f->app2;
    upload(f, 0, img->data, img->len, 512, 2048); /* the connection drops at 2048 */
    /* a new client sends off=0 with the same len and sha: it is told where to go on */
    upload(f, 0, img->data, img->len, 512, 1);
    assert_int_equal(uget(f->body, "off"), 2048);
    /* an offset gap: the data is dropped, the expected offset comes back */
    cbor_item_t *m = map();
    add(m, "off", cbor_build_uint32(4096));
    add(m, "data", cbor_build_bytestring(img->data + 4096, 100));
    send(f, 1, 2, 1, 1, m);
    assert_int_equal(uget(f->body, "off"), 2048);
    /* the rest from 2048 */
    size_t off = 2048;
    while (off < img->len) {
        size_t n = img->len - off < 333 ? img->len - off : 333;
        m = map();
        add(m, "off", cbor_build_uint32((uint32_t)off));
        add(m, "data", cbor_build_bytestring(img->data + off, n));
        send(f, 1, 2, 1, 1, m);
        off = (size_t)uget(f->body, "off");
    }
    assert_true(cbor_get_bool(get(f->body, "match")));
    struct tb_slot_state st;
    assert_int_equal(tb_boot_slot_state(&f->w.cfg, 0, 1, &st), TB_OK);
    assert_true(st.present);
    assert_memory_equal(st.hash, image_hash(img), 32);
}

/* A compressed image fits the secondary but must also rebuild into the
 * primary: its DECOMP_SIZE is checked once the upload is complete. */
static void test_upload_compressed_too_large(void **state)
{
    struct fix *f = *state;
    struct tb_blob b;
    char err[256];
    assert_int_equal(tb_read_file(TB_VECTORS_DIR "/signed-ed25519-lzma2armthumb.bin", &b, err, sizeof(err)), 0);
    struct tb_area pri;
    assert_int_equal(tb_region_area(&f->w.dev, &f->w.lay.img[0].primary, &pri), TB_OK);
    assert_true(b.len < pri.size - 4096U && 50284U > pri.size - 4096U); /* 29 773 bytes sent, 50 284 rebuilt */
    upload(f, 0, b.data, b.len, 700, b.len - 500); /* all but the last chunk */
    size_t last = (size_t)uget(f->body, "off");
    assert_true(last < b.len);
    cbor_item_t *m = map();
    add(m, "off", cbor_build_uint32((uint32_t)last));
    add(m, "data", cbor_build_bytestring(b.data + last, b.len - last));
    send(f, 1, 2, 1, 1, m);
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_TOO_LARGE);
    tb_blob_free(&b);
}

/* ---- what an upload must start with (Zephyr's img_mgmt_upload_inspect) ---- */

/* The first request exactly as smpclient 5.1.0 sends it (keys in the order
 * len, off, sha, data, image, upgrade; smpclient's ImageUploadWrite, see
 * docs/nrf5340-facts.md for the SMP sources). */
static void first_chunk(struct fix *f, int ver, int image, uint32_t len, const uint8_t *d, size_t n)
{
    uint8_t sha[32] = {0};
    cbor_item_t *m = cbor_new_definite_map(6);
    add(m, "len", cbor_build_uint32(len));
    add(m, "off", cbor_build_uint8(0));
    add(m, "sha", cbor_build_bytestring(sha, 32));
    add(m, "data", cbor_build_bytestring(d, n));
    add(m, "image", cbor_build_uint8((uint8_t)image));
    add(m, "upgrade", cbor_build_bool(false));
    send(f, ver, 2, 1, 1, m);
}

static void test_first_chunk_checks(void **state)
{
    struct fix *f = *state;
    uint8_t junk[768], hdr[512];
    uint32_t x = 99;
    for (size_t i = 0; i < sizeof(junk); i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        junk[i] = (uint8_t)x;
    }
    /* random bytes: refused at offset 0, nothing written */
    first_chunk(f, 1, 0, 768 * 1024, junk, sizeof(junk));
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC);
    first_chunk(f, 0, 0, 768 * 1024, junk, sizeof(junk));
    expect_rc(f, TB_MGMT_EINVAL);
    first_chunk(f, 1, 0, sizeof(junk), junk, sizeof(junk));
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC);
    assert_false(f->s.up.active);
    /* less than a header */
    first_chunk(f, 1, 0, (uint32_t)f->app2.len, f->app2.data, 31);
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_HEADER);
    /* a header announcing more than the file holds; one smaller than 32 bytes */
    first_chunk(f, 1, 0, 4096, f->app2.data, 512);
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_HEADER);
    memcpy(hdr, f->app2.data, sizeof(hdr));
    hdr[8] = 16, hdr[9] = 0;
    first_chunk(f, 1, 0, (uint32_t)f->app2.len, hdr, sizeof(hdr));
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_HEADER);
    /* a real image that does not fit the slot */
    first_chunk(f, 1, 0, SLOT, f->app2.data, 512);
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_TOO_LARGE);
    /* a real image, sent the way smpclient sends it, is taken */
    first_chunk(f, 1, 0, (uint32_t)f->app2.len, f->app2.data, 512);
    assert_int_equal(uget(f->body, "off"), 512);
    /* data past the announced length: Zephyr's overrun error */
    cbor_item_t *m = map();
    add(m, "off", cbor_build_uint32(512));
    add(m, "data", cbor_build_bytestring(junk, sizeof(junk)));
    f->s.up.len = 1000;
    send(f, 1, 2, 1, 1, m);
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_DATA_OVERRUN);
}

/* Image 1 goes to the net core's slot through the shared window: an upload
 * larger than either is refused at the first chunk, and slot_info says so,
 * even when the secondary in QSPI is larger. */
static void test_net_upload_limit(void **state)
{
    struct fix *f = *state;
    f->w.lay.img[1].secondary.size = 0xc000; /* larger than the 32 KiB net slot */
    send(f, 1, 0, 1, 6, map());
    cbor_item_t *imgs = get(f->body, "images");
    assert_int_equal(cbor_array_size(imgs), 2);
    cbor_item_t *i1 = cbor_array_get(imgs, 1);
    assert_int_equal(uget(i1, "image"), 1);
    assert_int_equal(uget(i1, "max_image_size"), 0x8000);
    cbor_decref(&i1);
    first_chunk(f, 1, 1, 0x8001, f->net1.data, 512);
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_TOO_LARGE);
    first_chunk(f, 1, 1, 0x8000, f->net1.data, 512);
    assert_int_equal(uget(f->body, "off"), 512);
}

/* Versions as Zephyr's img_mgmt_ver_str writes them: the build number after a dot. */
static void test_version_build_number(void **state)
{
    struct fix *f = *state;
    struct tb_sign_opts o = {.version = {3, 2, 1, 7}, .slot_size = SLOT};
    struct tb_signed v = make_signed_opts(&o, 12, 5, NULL);
    upload(f, 0, v.data, v.len, 900, SIZE_MAX);
    struct entry e[4];
    int n = list(f, e, 4);
    assert_int_equal(n, 3);
    assert_int_equal(e[1].slot, 1);
    assert_string_equal(e[1].version, "3.2.1.7");
    tb_signed_free(&v);
}


/* ---- the previous image in slot 1, as MCUboot users know it ---------------- */

static void state_req(struct fix *f, const uint8_t *hash, bool confirm)
{
    cbor_item_t *m = map();
    add(m, "hash", cbor_build_bytestring(hash, 32));
    add(m, "confirm", cbor_build_bool(confirm));
    send(f, 1, 2, 1, 0, m);
    assert_non_null(get(f->body, "images"));
}

static void assert_boots(struct fix *f, const struct tb_signed *img, bool confirmed)
{
    assert_int_equal(tb_boot_go(&f->w.cfg, &f->rec), TB_OK);
    assert_true(f->rec.img[0].valid);
    assert_memory_equal(f->rec.img[0].to_hash, image_hash(img), 32);
    assert_int_equal(f->rec.img[0].confirmed, confirmed);
}

/* v1 confirmed, then v2 uploaded, tested and confirmed: v1 is in the backup. */
static void upgrade_to_v2(struct fix *f)
{
    upload(f, 0, f->app2.data, f->app2.len, 700, SIZE_MAX);
    state_req(f, image_hash(&f->app2), false);
    assert_boots(f, &f->app2, false);
    cbor_item_t *m = map();
    add(m, "confirm", cbor_build_bool(true));
    send(f, 1, 2, 1, 0, m);
    assert_boots(f, &f->app2, true);
}

static void test_backup_in_slot1(void **state)
{
    struct fix *f = *state;
    struct entry e[4];
    upgrade_to_v2(f);
    /* the secondary holds a copy of what runs: slot 1 shows the backup's v1 */
    int n = list(f, e, 4);
    assert_int_equal(n, 3);
    assert_int_equal(e[1].image, 0);
    assert_int_equal(e[1].slot, 1);
    assert_string_equal(e[1].version, "1.0.0");
    assert_memory_equal(e[1].hash, image_hash(&f->app1), 32);
    assert_true(e[1].bootable && !e[1].pending);
    /* an erased secondary changes nothing to that */
    send(f, 1, 2, 1, 5, map());
    assert_int_equal(cbor_map_size(f->body), 0);
    n = list(f, e, 4);
    assert_int_equal(n, 3);
    assert_memory_equal(e[1].hash, image_hash(&f->app1), 32);
    /* test it: pending; the next reset runs v1 as a test, v2 is now the backup */
    state_req(f, image_hash(&f->app1), false);
    n = list(f, e, 4);
    assert_true(e[1].pending && !e[1].permanent);
    /* pending: no upload or erase takes the request away */
    send(f, 1, 2, 1, 5, map());
    expect_err(f, 1, TB_IMG_ERR_IMAGE_ALREADY_PENDING);
    first_chunk(f, 1, 0, (uint32_t)f->app2.len, f->app2.data, 512);
    expect_err(f, 1, TB_IMG_ERR_IMAGE_ALREADY_PENDING);
    assert_boots(f, &f->app1, false);
    assert_int_equal(f->rec.img[0].action, TB_ACT_UPGRADE_TEST);
    n = list(f, e, 4);
    assert_memory_equal(e[1].hash, image_hash(&f->app2), 32);
    /* not confirmed: v2 comes back */
    assert_boots(f, &f->app2, true);
    assert_int_equal(f->rec.img[0].action, TB_ACT_REVERT);
    /* confirm of its hash: back to v1 for good */
    n = list(f, e, 4);
    assert_memory_equal(e[1].hash, image_hash(&f->app1), 32);
    state_req(f, image_hash(&f->app1), true);
    n = list(f, e, 4);
    assert_true(e[1].pending && e[1].permanent);
    assert_boots(f, &f->app1, true);
    assert_int_equal(f->rec.img[0].action, TB_ACT_UPGRADE_PERM);
    assert_boots(f, &f->app1, true);
    assert_int_equal(f->rec.img[0].action, TB_ACT_NONE);
    /* a new upload shows in slot 1 instead of the backup */
    upload(f, 0, f->app2.data, f->app2.len, 700, 2100);
    upload(f, 0, f->app2.data, f->app2.len, 700, SIZE_MAX);
    n = list(f, e, 4);
    assert_memory_equal(e[1].hash, image_hash(&f->app2), 32);
}

/* Cut the power at every flash operation of the boot that restores the
 * backup as a test: the boot after it runs v1 as a test, the next one goes
 * back to v2, confirmed. */
static void test_sweep_restore_backup(void **state)
{
    struct fix *f = *state;
    upgrade_to_v2(f);
    state_req(f, image_hash(&f->app1), false);
    world_snapshot(&f->w);
    uint64_t ops0 = f->w.d.power.ops;
    assert_boots(f, &f->app1, false);
    uint64_t total = f->w.d.power.ops - ops0;
    assert_true(total > 10);
    for (uint64_t k = 1; k <= total; k++) {
        uint64_t seed = k * 104729u + 7u;
        world_restore(&f->w, seed);
        tb_simdev_arm_cut(&f->w.d, k, seed);
        int rc = tb_boot_go(&f->w.cfg, &f->rec);
        if (rc != TB_E_POWER) {
            fail_msg("cut at op %llu: boot returned %d, not a power cut", (unsigned long long)k, rc);
        }
        world_power_cycle(&f->w, seed);
        rc = tb_boot_go(&f->w.cfg, &f->rec);
        if (rc != TB_OK || memcmp(f->rec.img[0].to_hash, image_hash(&f->app1), 32) != 0 || f->rec.img[0].confirmed) {
            fail_msg("cut at op %llu: after the reset v1 does not run as a test (rc %d)", (unsigned long long)k, rc);
        }
        assert_boots(f, &f->app2, true);
        assert_boots(f, &f->app2, true);
        assert_int_equal(f->rec.img[0].action, TB_ACT_NONE);
    }
}

/* ---- uploads that survive a reset ------------------------------------------ */

/* The device resets: the server starts again with nothing in RAM. */
static void reset_server(struct fix *f)
{
    struct tb_smp_env env = f->s.env;
    if (f->s.up.active) {
        tb_hash_abort(&f->s.up.hash);
    }
    tb_smp_init(&f->s, &env);
}

/* What `twinboot image upload` does: the first request names the file, then
 * follow the offsets the device answers. *first_off: the answer to the first
 * request. true when the device confirmed the whole file; false on an error. */
static bool client_upload(struct fix *f, int image, const struct tb_signed *img, size_t chunk, size_t *first_off,
                          size_t stop_at)
{
    size_t off = 0;
    for (int turn = 0; turn < 10000; turn++) {
        long next = upload_chunk(f, image, img->data, img->len, off, chunk);
        if (next < 0) {
            return false;
        }
        if (turn == 0 && first_off != NULL) {
            *first_off = (size_t)next;
        }
        off = (size_t)next;
        if (off == img->len) {
            cbor_item_t *match = get(f->body, "match");
            return match != NULL && cbor_get_bool(match);
        }
        if (off >= stop_at) {
            return false;
        }
    }
    fail_msg("the upload makes no progress");
    return false;
}

/* The slot holds exactly the file, and the bootloader would take it. */
static void assert_slot_holds(struct fix *f, int image, const struct tb_signed *img)
{
    struct tb_area a;
    uint8_t buf[512];
    assert_int_equal(tb_region_area(&f->w.dev, &f->w.lay.img[image].secondary, &a), TB_OK);
    for (size_t off = 0; off < img->len; off += sizeof(buf)) {
        size_t n = img->len - off < sizeof(buf) ? img->len - off : sizeof(buf);
        assert_int_equal(tb_area_read(&a, (uint32_t)off, buf, (uint32_t)n), TB_OK);
        assert_memory_equal(buf, img->data + off, n);
    }
    struct tb_slot_state st;
    assert_int_equal(tb_boot_slot_state(&f->w.cfg, image, 1, &st), TB_OK);
    assert_true(st.present);
    assert_memory_equal(st.hash, image_hash(img), 32);
}

/* The device resets in the middle of an upload (its RAM is gone): the same
 * file's first request is answered with where it stopped, and at most the
 * chunk in flight is sent again. Another file starts from 0. */
static void test_upload_survives_reset(void **state)
{
    struct fix *f = *state;
    const struct tb_signed *img = &f->app2;
    size_t first = 0;
    assert_false(client_upload(f, 0, img, 700, NULL, 9800)); /* acknowledged up to 9800 */
    reset_server(f); /* the reset: RAM is gone */
    assert_true(client_upload(f, 0, img, 700, &first, SIZE_MAX));
    assert_int_equal(first, 9800);
    assert_slot_holds(f, 0, img);
    /* the whole file is there already: done at once, after a check */
    reset_server(f);
    assert_true(client_upload(f, 0, img, 700, &first, SIZE_MAX));
    assert_int_equal(first, img->len);
    /* a different file starts a new upload */
    reset_server(f);
    assert_false(client_upload(f, 0, &f->app1, 700, &first, 4000));
    assert_int_equal(first, 700);
    reset_server(f);
    assert_true(client_upload(f, 0, &f->app1, 700, &first, SIZE_MAX));
    assert_int_equal(first, 4200);
    assert_slot_holds(f, 0, &f->app1);
    /* bytes after the recorded offset are not trusted: garbage there makes
     * the device go back to the start of that sector */
    reset_server(f);
    assert_false(client_upload(f, 0, img, 700, NULL, 5600));
    reset_server(f);
    struct tb_area a;
    assert_int_equal(tb_region_area(&f->w.dev, &f->w.lay.img[0].secondary, &a), TB_OK);
    static const uint8_t garbage[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(tb_area_program(&a, 6000, garbage, sizeof(garbage)), TB_OK);
    assert_true(client_upload(f, 0, img, 700, &first, SIZE_MAX));
    assert_int_equal(first, 4096);
    assert_slot_holds(f, 0, img);
    /* more chunks than the record has entries (640 of 32 bytes): an offset is
     * recorded every 42 bytes or more, so at most two chunks go again, to the end */
    reset_server(f);
    assert_false(client_upload(f, 0, &f->app1, 32, NULL, img->len - 96));
    reset_server(f);
    assert_false(client_upload(f, 0, img, 32, NULL, img->len - 96));
    reset_server(f);
    assert_true(client_upload(f, 0, img, 32, &first, SIZE_MAX));
    /* acknowledged: the first multiple of 32 at or past len - 96 */
    assert_true(first >= img->len - 96 - 64 && first < img->len - 64);
    assert_slot_holds(f, 0, img);
    /* a record that is full when the device must go back to a sector start:
     * no dead end, the upload starts again from 0 */
    reset_server(f);
    assert_false(client_upload(f, 0, &f->app1, 700, NULL, 2800));
    reset_server(f);
    assert_false(client_upload(f, 0, img, 700, NULL, 5600));
    struct tb_area full;
    struct tb_smp_session ses;
    assert_int_equal(tb_region_area(&f->w.dev, &f->w.lay.img[0].secondary, &full), TB_OK);
    assert_int_equal(tb_smp_session_load(&full, 8, &ses), 1);
    assert_int_equal(ses.off, 5600);
    while (tb_smp_session_mark(&full, &ses, 5600) == TB_OK) {
    }
    assert_int_equal(tb_area_program(&a, 6000, garbage, sizeof(garbage)), TB_OK);
    reset_server(f);
    assert_true(client_upload(f, 0, img, 700, &first, SIZE_MAX));
    assert_int_equal(first, 700);
    assert_slot_holds(f, 0, img);
}

/* Cut the power at every flash operation of an upload; after the reset the
 * client starts again with the same file: it resumes no earlier than the
 * sector of what was acknowledged, and the slot ends up byte-exact. */
static void test_sweep_upload(void **state)
{
    struct fix *f = *state;
    const struct tb_signed *img = &f->app2;
    /* TB_SWEEP_BIG=1 (make long): serial-sized chunks, four times the
     * operations, and a second cut after every other first one */
    const char *big = getenv("TB_SWEEP_BIG");
    const size_t chunk = big != NULL && big[0] == '1' ? 128 : 512;
    const uint64_t twice = chunk == 128 ? 2 : 4;
    world_snapshot(&f->w);
    uint64_t ops0 = f->w.d.power.ops;
    assert_true(client_upload(f, 0, img, chunk, NULL, SIZE_MAX));
    uint64_t total = f->w.d.power.ops - ops0;
    assert_true(total > 40);
    unsigned resumed = 0;
    for (uint64_t k = 1; k <= total; k++) {
        uint64_t seed = k * 7919u + 3u;
        world_restore(&f->w, seed);
        reset_server(f);
        tb_simdev_arm_cut(&f->w.d, k, seed);
        /* acknowledged: what the device answered before the cut */
        size_t acked = 0;
        while (!f->w.d.power.off && acked < img->len) {
            long next = upload_chunk(f, 0, img->data, img->len, acked, chunk);
            acked = next >= 0 ? (size_t)next : acked;
        }
        assert_true(f->w.d.power.off);
        world_power_cycle(&f->w, seed);
        reset_server(f);
        if (k % twice == 0) {
            /* a second cut while the upload resumes, a little way in */
            tb_simdev_arm_cut(&f->w.d, 1 + (k * 31u) % 24u, seed + 1);
            (void)client_upload(f, 0, img, chunk, NULL, SIZE_MAX);
            f->w.d.power.cut_at = 0;
            world_power_cycle(&f->w, seed + 1);
            reset_server(f);
            acked = 0; /* what was acknowledged is no longer known: only the end result counts */
        }
        size_t first = 0;
        if (!client_upload(f, 0, img, chunk, &first, SIZE_MAX)) {
            fail_msg("cut at op %llu: the upload does not complete after the reset", (unsigned long long)k);
        }
        /* first: where it resumed, or one chunk when it started again with the first
         * chunk; never past the chunk in flight at the cut (its bytes may have
         * been programmed and recorded just before it) */
        if (acked != 0 && (first > acked + chunk || first + 4096 < acked)) {
            fail_msg("cut at op %llu: acknowledged %zu, resumed at %zu", (unsigned long long)k, acked, first);
        }
        resumed += first > chunk;
        assert_slot_holds(f, 0, img);
    }
    assert_true(resumed > total / 2);
}

/* ---- bad requests -------------------------------------------------------- */

static void test_bad_requests(void **state)
{
    struct fix *f = *state;
    uint8_t msg[64];
    struct tb_smp_hdr h = {2, 1, 0, 0, 0, 77, 0};

    /* truncated header: an error all the same, with what was there */
    tb_smp_hdr_encode(&h, msg);
    send_raw(f, msg, 5);
    expect_rc(f, TB_MGMT_EINVAL);
    /* length field and payload disagree */
    h.len = 10;
    tb_smp_hdr_encode(&h, msg);
    msg[8] = 0xa0;
    send_raw(f, msg, 9);
    expect_rc(f, TB_MGMT_EINVAL);
    assert_int_equal(f->rh.seq, 77);
    /* not CBOR, not a map, a nested map, trailing bytes, a key not text, text not UTF-8 */
    static const uint8_t bad[][8] = {{0xff}, {0x01}, {0xa1, 0x61, 'd', 0xa0}, {0xa0, 0x00}, {0x5f}, {0xa1, 0x01, 0x02},
                                     {0xa1, 0x61, 'd', 0x63, 'h', 0xa2, 'o'}};
    static const size_t badlen[] = {1, 1, 4, 2, 1, 3, 7};
    for (size_t i = 0; i < 7; i++) {
        h.len = (uint16_t)badlen[i];
        tb_smp_hdr_encode(&h, msg);
        memcpy(msg + 8, bad[i], badlen[i]);
        send_raw(f, msg, 8 + badlen[i]);
        expect_rc(f, TB_MGMT_EINVAL);
    }
    /* wrong field types */
    cbor_item_t *m = map();
    add(m, "d", cbor_build_uint8(5));
    send(f, 1, 2, 0, 0, m);
    expect_rc(f, TB_MGMT_EINVAL);
    m = map();
    add(m, "off", cbor_build_string("0"));
    add(m, "data", cbor_build_bytestring((const uint8_t *)"x", 1));
    send(f, 1, 2, 1, 1, m);
    expect_rc(f, TB_MGMT_EINVAL);
    /* unknown group, unknown command: SMP-layer errors, {"rc": 8} in v1 and v2 */
    send(f, 1, 0, 99, 0, map());
    expect_rc(f, TB_MGMT_ENOTSUP);
    send(f, 0, 0, 1, 42, map());
    expect_rc(f, TB_MGMT_ENOTSUP);
    /* an image larger than the slot; an image number the device does not have */
    m = map();
    add(m, "off", cbor_build_uint8(0));
    add(m, "len", cbor_build_uint32(SLOT));
    add(m, "data", cbor_build_bytestring(f->app2.data, 64));
    send(f, 1, 2, 1, 1, m);
    expect_err(f, 1, TB_IMG_ERR_INVALID_IMAGE_TOO_LARGE);
    m = map();
    add(m, "off", cbor_build_uint8(0));
    add(m, "len", cbor_build_uint32(100));
    add(m, "image", cbor_build_uint8(7));
    add(m, "data", cbor_build_bytestring(f->app2.data, 64));
    send(f, 0, 2, 1, 1, m);
    expect_rc(f, TB_MGMT_EINVAL);
    /* a sha that does not match what arrived */
    uint8_t sha[32] = {1, 2, 3};
    size_t off = 0;
    while (off < f->app2.len) {
        size_t n = f->app2.len - off < 900 ? f->app2.len - off : 900;
        m = map();
        add(m, "off", cbor_build_uint32((uint32_t)off));
        if (off == 0) {
            add(m, "len", cbor_build_uint32((uint32_t)f->app2.len));
            add(m, "sha", cbor_build_bytestring(sha, 32));
        }
        add(m, "data", cbor_build_bytestring(f->app2.data + off, n));
        send(f, 1, 2, 1, 1, m);
        off += n;
    }
    expect_err(f, 1, TB_IMG_ERR_INVALID_HASH);
    /* test of a hash the device does not have */
    m = map();
    add(m, "hash", cbor_build_bytestring(sha, 32));
    add(m, "confirm", cbor_build_bool(false));
    send(f, 1, 2, 1, 0, m);
    expect_err(f, 1, TB_IMG_ERR_HASH_NOT_FOUND);
    /* more than the announced buffer (1024 here), of which the transport kept
     * the start: "message too large" at once, with the request's header */
    uint8_t big[1100];
    memset(big, 0, sizeof(big));
    h = (struct tb_smp_hdr){2, 1, 0, 3000, 1, 91, 1};
    tb_smp_hdr_encode(&h, big);
    send_raw(f, big, 1024);
    expect_rc(f, TB_MGMT_EMSGSIZE);
    assert_int_equal(f->rh.seq, 91);
    assert_int_equal(f->rh.op, 3);
    h.len = sizeof(big) - 8;
    tb_smp_hdr_encode(&h, big);
    send_raw(f, big, sizeof(big));
    expect_rc(f, TB_MGMT_EMSGSIZE);
    /* a response frame is not answered */
    h = (struct tb_smp_hdr){3, 1, 0, 1, 0, 1, 0};
    tb_smp_hdr_encode(&h, msg);
    msg[8] = 0xa0;
    assert_int_equal(tb_smp_handle(&f->s, msg, 9, f->rsp, sizeof(f->rsp), &f->rsp_len), TB_E_INVAL);
}

/* Random and mutated frames: always a well-formed answer or none, never a
 * write outside the slots (the simulator would refuse it), never a crash. */
static void test_random_frames(void **state)
{
    struct fix *f = *state;
    uint32_t x = 12345;
    uint8_t msg[300];
    for (int i = 0; i < 20000; i++) {
        size_t len = 1 + (x % sizeof(msg));
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            msg[k] = (uint8_t)x;
        }
        msg[0] &= 0x0a; /* requests, v1/v2 */
        if (len >= 8) {
            msg[2] = (uint8_t)((len - 8) >> 8);
            msg[3] = (uint8_t)(len - 8);
            msg[4] = 0;
            msg[5] &= 1;
            msg[7] &= 7;
            msg[8 % len] = (uint8_t)(0xa0 | (msg[8 % len] & 0x1f));
        }
        size_t n;
        int rc = tb_smp_handle(&f->s, msg, len, f->rsp, sizeof(f->rsp), &n);
        assert_true(rc == TB_OK || rc == TB_E_INVAL);
        if (rc == TB_OK) {
            struct cbor_load_result res;
            cbor_item_t *it = cbor_load(f->rsp + 8, n - 8, &res);
            assert_non_null(it);
            assert_true(cbor_isa_map(it));
            cbor_decref(&it);
        }
    }
    /* the device still boots what it ran */
    assert_int_equal(tb_boot_go(&f->w.cfg, &f->rec), TB_OK);
    assert_true(f->rec.img[0].valid);
}

/* Zephyr's console framing: the bytes of the example in Zephyr's smp_transport.rst. */
static void test_serial_framing(void **state)
{
    (void)state;
    static const uint8_t params[] = {0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0xa0};
    static const char want[] = "\x06\x09" "AAsIAAABAAAABqBzEw==" "\n";
    uint8_t out[8192], msg[4096];
    size_t n = tb_serial_encode(params, sizeof(params), out, sizeof(out));
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(out, want, n);
    assert_int_equal(tb_crc16_xmodem((const uint8_t *)"123456789", 9), 0x31c3);
    /* a long message: several lines of at most 127 bytes, each a whole number of quartets */
    uint8_t big[1500];
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)(i * 13);
    }
    n = tb_serial_encode(big, sizeof(big), out, sizeof(out));
    size_t lines = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '\n') {
            assert_true(i + 1 - start <= TB_SERIAL_LINE_MAX);
            assert_int_equal((i - start - 2) % 4, 0);
            assert_true(out[start] == (lines == 0 ? 0x06 : 0x04));
            lines++;
            start = i + 1;
        }
    }
    assert_true(lines > 10);
    /* back, fed in odd pieces with console chatter in between */
    struct tb_serial_rx rx;
    memset(&rx, 0, sizeof(rx));
    static const char noise[] = "uart:~$ booting...\n";
    size_t used, got = tb_serial_feed(&rx, (const uint8_t *)noise, sizeof(noise) - 1, &used, msg, sizeof(msg));
    assert_int_equal(got, 0);
    size_t off = 0;
    got = 0;
    while (off < n && got == 0) {
        size_t piece = n - off < 37 ? n - off : 37;
        got = tb_serial_feed(&rx, out + off, piece, &used, msg, sizeof(msg));
        off += used;
    }
    assert_int_equal(got, sizeof(big));
    assert_memory_equal(msg, big, sizeof(big));
    /* a message larger than the receiver's buffer comes up cut, header intact */
    memset(&rx, 0, sizeof(rx));
    struct tb_smp_hdr bh = {2, 1, 0, sizeof(big) - 8, 1, 42, 1}, got_h;
    tb_smp_hdr_encode(&bh, big);
    n = tb_serial_encode(big, sizeof(big), out, sizeof(out));
    got = tb_serial_feed(&rx, out, n, &used, msg, 512);
    assert_true(got >= 8 && got <= 512);
    tb_smp_hdr_decode(msg, &got_h);
    assert_int_equal(got_h.seq, 42);
    assert_int_equal(got_h.len, sizeof(big) - 8);
    /* ... and the lines after it are not taken for a new frame */
    got = tb_serial_feed(&rx, out + used, n - used, &used, msg, 512);
    assert_int_equal(got, 0);
    /* a flipped bit: the frame is dropped */
    n = tb_serial_encode(params, sizeof(params), out, sizeof(out));
    out[5] = out[5] == 'A' ? 'B' : 'A';
    assert_int_equal(tb_serial_feed(&rx, out, n, &used, msg, sizeof(msg)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_os, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_upload_test_confirm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_compressed_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_resume_and_gaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_chunk_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_net_upload_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_build_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_in_slot1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_restore_backup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_survives_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_upload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_frames, setup, teardown),
        cmocka_unit_test(test_serial_framing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
