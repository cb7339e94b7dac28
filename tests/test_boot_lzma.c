/* Compressed images in the boot engine: a compressed secondary (smaller than
 * its primary) is validated as sent and as rebuilt, decoded into the primary
 * while the old image goes to the backup, and reverts like a plain one; the
 * net core gets the rebuilt image through the shared window. Power-cut
 * sweeps over the compressed install and its revert: a sample of the cuts by
 * default, every cut with TB_SWEEP_BIG=1 (ctest label "long"). */
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
#include "twinboot/decompress.h"
#include "twinboot/error.h"

#define SLOT 0x10000U    /* app primary: 16 sectors */
#define SEC_SLOT 0xa000U /* app secondary: 10 sectors, smaller than the primary */
#define NET_PAYLOAD (20U * 1024U)

static uint64_t g_cut;
static unsigned g_stride = 5; /* every 5th cut by default; 1 with TB_SWEEP_BIG */

/* A compressed image of real Thumb-2 code (the vectors' payload, cut to len)
 * and the plain image it rebuilds. */
struct pair {
    struct tb_signed z, plain;
};

static void make_pair(struct pair *p, uint8_t major, size_t len, enum tb_compression comp)
{
    char err[256];
    struct tb_blob in;
    bool compressed;
    assert_int_equal(tb_read_file(TB_VECTORS_DIR "/payload-thumb-48k.bin", &in, err, sizeof(err)), 0);
    assert_true(len <= in.len);
    struct tbk_key *k = tbk_load(TB_VECTORS_DIR "/key-ed25519.pem", err, sizeof(err));
    assert_non_null(k);
    struct tb_sign_opts o;
    tb_sign_opts_default(&o);
    o.header_size = 0x200;
    o.pad_header = true;
    o.slot_size = SLOT; /* the plain image is signed first and must fit its slot, the primary */
    o.align = 4;
    o.version = (struct tb_image_version){major, 0, 0, 0};
    assert_int_equal(tb_sign_compressed(&o, k, in.data, len, comp, &p->z, &compressed, err, sizeof(err)), 0);
    assert_true(compressed);
    assert_int_equal(tb_sign_image(&o, k, in.data, len, &p->plain, err, sizeof(err)), 0);
    tbk_free(k);
    tb_blob_free(&in);
}

static void free_pair(struct pair *p)
{
    tb_signed_free(&p->z);
    tb_signed_free(&p->plain);
}

struct dev {
    struct world w;
    struct tb_signed v1;
    struct pair v2;
};

static void dev_init(struct dev *d, uint8_t strategy, enum tb_compression comp)
{
    world_init(&d->w, strategy, SLOT, false);
    d->w.lay.img[0].secondary.size = SEC_SLOT;
    if (strategy == TB_STRATEGY_OVERWRITE) {
        d->w.lay.img[0].backup.size = 0;
    }
    d->v1 = make_signed(1, 40, SLOT, 7, NULL, 0);
    make_pair(&d->v2, 2, 49628, comp);
    put_region(&d->w, &d->w.lay.img[0].primary, &d->v1);
    put_region(&d->w, &d->w.lay.img[0].secondary, &d->v2.z);
}

static void dev_free(struct dev *d)
{
    tb_signed_free(&d->v1);
    free_pair(&d->v2);
    world_free(&d->w);
}

/* A region holds exactly the bytes of img. */
static void assert_holds(struct world *w, const struct tb_region *r, const struct tb_signed *img)
{
    struct tb_area a;
    assert_int_equal(tb_region_area(&w->dev, r, &a), TB_OK);
    uint8_t *got = malloc(img->image_len);
    assert_non_null(got);
    assert_int_equal(tb_area_read(&a, 0, got, (uint32_t)img->image_len), TB_OK);
    assert_memory_equal(got, img->data, img->image_len);
    free(got);
}

/* The primary boots img, and (a rebuilt image) holds exactly its bytes. */
static void assert_runs(struct world *w, const struct tb_boot_record *rec, const struct tb_signed *img,
                        bool confirmed)
{
    assert_int_equal(rec->result, TB_OK);
    assert_true(rec->img[0].valid);
    if (memcmp(rec->img[0].to_hash, image_hash(img), 32) != 0) {
        fail_msg("booted v%u, expected v%u (cut at op %llu; action %s)", rec->img[0].to.major, img->data[20],
                 (unsigned long long)g_cut, tb_boot_action_name(rec->img[0].action));
    }
    assert_int_equal(rec->img[0].confirmed, confirmed);
    assert_holds(w, &w->lay.img[0].primary, img);
}

static void test_install_revert_confirm(void **state)
{
    (void)state;
    struct dev d;
    struct tb_boot_record rec;
    dev_init(&d, TB_STRATEGY_SWAP, TB_COMP_LZMA2_ARMTHUMB);
    assert_true(d.v2.z.len < SEC_SLOT - 0x1000U); /* 50 KiB of image through a 40 KiB slot */
    assert_true(d.v2.plain.len > SEC_SLOT);
    assert_int_equal(tb_boot_go(&d.w.cfg, &rec), TB_OK);
    assert_runs(&d.w, &rec, &d.v1, true);

    /* test: the rebuilt image runs, unconfirmed; one decode to validate, one to install */
    assert_int_equal(tb_boot_request(&d.w.cfg, 0, false), TB_OK);
    assert_int_equal(tb_boot_go(&d.w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_TEST);
    assert_runs(&d.w, &rec, &d.v2.plain, false);
    struct tb_decomp_stats st;
    tb_decomp_get_stats(&st);
    assert_int_equal(st.starts, 1);
    assert_int_equal(st.decoded, 49628);
    /* two signatures: the image as sent (before its stream is decoded) and
     * DECOMP_SIGNATURE over the rebuilt image; the primary is then proved by its hash */
    assert_int_equal(rec.img[0].sig_checks, 2);
    /* not confirmed: the old image comes back from the backup */
    assert_int_equal(tb_boot_go(&d.w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REVERT);
    assert_runs(&d.w, &rec, &d.v1, true);
    /* again, and confirmed: it stays */
    assert_int_equal(tb_boot_request(&d.w.cfg, 0, false), TB_OK);
    assert_int_equal(tb_boot_go(&d.w.cfg, &rec), TB_OK);
    assert_runs(&d.w, &rec, &d.v2.plain, false);
    assert_int_equal(tb_boot_confirm(&d.w.cfg, 0), TB_OK);
    assert_int_equal(tb_boot_go(&d.w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_NONE);
    assert_runs(&d.w, &rec, &d.v2.plain, true);
    dev_free(&d);
}

/* A compressed image whose rebuilt image is bad is refused before the primary is touched. */
static void test_refused_before_writing(void **state)
{
    (void)state;
    struct dev d;
    struct tb_boot_record rec;
    dev_init(&d, TB_STRATEGY_SWAP, TB_COMP_LZMA2);
    /* the stream, not the outer hash, is what is wrong: corrupt it and re-sign the outer image */
    struct tb_image_header h;
    tb_image_header_decode(d.v2.z.data, &h);
    struct tb_sign_opts o;
    tb_sign_opts_default(&o);
    o.header_size = 0x200;
    o.slot_size = SEC_SLOT;
    o.align = 4;
    o.version = h.ver;
    o.comp_flags = h.flags;
    const uint8_t *prot = d.v2.z.data + h.hdr_size + h.img_size;
    o.comp_tlvs = prot + 4;
    o.comp_tlvs_len = h.protect_tlv_size - 4U;
    uint8_t *in = calloc(1, h.hdr_size + h.img_size);
    assert_non_null(in);
    memcpy(in + h.hdr_size, d.v2.z.data + h.hdr_size, h.img_size);
    in[h.hdr_size + 9000] ^= 0x40;
    char err[256];
    struct tbk_key *k = tbk_load(TB_VECTORS_DIR "/key-ed25519.pem", err, sizeof(err));
    struct tb_signed bad;
    assert_int_equal(tb_sign_image(&o, k, in, h.hdr_size + h.img_size, &bad, err, sizeof(err)), 0);
    put_region(&d.w, &d.w.lay.img[0].secondary, &bad);
    uint64_t app_programs = d.w.d.fl[TB_SIM_APP].cnt.prog_ops;
    assert_int_equal(tb_boot_request(&d.w.cfg, 0, false), TB_OK);
    assert_int_equal(tb_boot_go(&d.w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REFUSED);
    assert_true(rec.img[0].reason == TB_E_IMG_DECODE || rec.img[0].reason == TB_E_IMG_HASH_MISMATCH);
    assert_int_equal(d.w.d.fl[TB_SIM_APP].cnt.prog_ops, app_programs);
    assert_runs(&d.w, &rec, &d.v1, true);
    tbk_free(k);
    free(in);
    tb_signed_free(&bad);
    dev_free(&d);
}

struct expect {
    const struct tb_signed *first, *second;
    bool first_c, second_c;
};

static void check_expect(struct world *w, const struct tb_boot_record *rec, void *arg)
{
    const struct expect *e = arg;
    struct tb_boot_record r2;
    assert_runs(w, rec, e->first, e->first_c);
    assert_int_equal(tb_boot_go(&w->cfg, &r2), TB_OK);
    assert_runs(w, &r2, e->second, e->second_c);
    assert_int_equal(tb_boot_go(&w->cfg, &r2), TB_OK);
    assert_int_equal(r2.img[0].action, TB_ACT_NONE);
}

struct scenario {
    const char *name;
    uint8_t strategy;
    bool permanent, from_test_boot;
    int first, second; /* 1: v1, 2: v2 rebuilt */
    bool first_c, second_c;
};

static void run_sweep(const struct scenario *sc)
{
    struct dev d;
    struct tb_boot_record rec;
    dev_init(&d, sc->strategy, TB_COMP_LZMA2_ARMTHUMB);
    const struct tb_signed *v[3] = {NULL, &d.v1, &d.v2.plain};
    assert_int_equal(tb_boot_request(&d.w.cfg, 0, sc->permanent), TB_OK);
    if (sc->from_test_boot) {
        assert_int_equal(tb_boot_go(&d.w.cfg, &rec), TB_OK);
        assert_runs(&d.w, &rec, &d.v2.plain, false);
    }
    world_snapshot(&d.w);
    struct expect e = {v[sc->first], v[sc->second], sc->first_c, sc->second_c};
    unsigned runs = world_sweep(&d.w, check_expect, &e, g_stride, 7, &g_cut);
    print_message("%s: %u power cuts swept (every %u of %llu operations)\n", sc->name, runs, g_stride,
                  (unsigned long long)world_clean_boot_ops(&d.w));
    dev_free(&d);
}

static void test_sweep_install(void **state)
{
    (void)state;
    run_sweep(&(struct scenario){"compressed test install", TB_STRATEGY_SWAP, false, false, 2, 1, false, true});
}

static void test_sweep_revert(void **state)
{
    (void)state;
    run_sweep(&(struct scenario){"revert of a compressed install", TB_STRATEGY_SWAP, false, true, 1, 1, true, true});
}

static void test_sweep_overwrite(void **state)
{
    (void)state;
    run_sweep(&(struct scenario){"compressed overwrite", TB_STRATEGY_OVERWRITE, false, false, 2, 2, true, true});
}

/* ---- the net core ---------------------------------------------------------- */

struct netdev {
    struct world w;
    struct tb_signed app1, net1;
    struct pair net2;
};

static void netdev_init(struct netdev *n)
{
    struct tb_boot_record rec;
    world_init(&n->w, TB_STRATEGY_SWAP, 0xa000, true);
    n->app1 = make_signed(1, 30, 0xa000, 1, NULL, 0);
    n->net1 = make_signed(1, 12, 0x9000, 3, NULL, 0);
    make_pair(&n->net2, 2, NET_PAYLOAD, TB_COMP_LZMA2_ARMTHUMB);
    put_region(&n->w, &n->w.lay.img[0].primary, &n->app1);
    put_region(&n->w, &n->w.lay.img[1].primary, &n->net1);
    assert_int_equal(tb_boot_go(&n->w.cfg, &rec), TB_OK);
    assert_true(rec.img[1].valid);
    put_region(&n->w, &n->w.lay.img[1].secondary, &n->net2.z);
    assert_int_equal(tb_boot_request(&n->w.cfg, 1, false), TB_OK);
}

static void netdev_free(struct netdev *n)
{
    tb_signed_free(&n->app1);
    tb_signed_free(&n->net1);
    free_pair(&n->net2);
    world_free(&n->w);
}

/* The net core runs img: the record says so, and its own flash holds exactly img. */
static void assert_net_runs(struct world *w, const struct tb_boot_record *rec, const struct tb_signed *img,
                            bool confirmed)
{
    assert_int_equal(rec->result, TB_OK);
    assert_true(rec->img[1].valid);
    if (memcmp(rec->img[1].to_hash, image_hash(img), 32) != 0) {
        fail_msg("net core has v%u, expected v%u (cut %llu)", rec->img[1].to.major, img->data[20],
                 (unsigned long long)g_cut);
    }
    assert_int_equal(rec->img[1].confirmed, confirmed);
    assert_int_equal(tb_simnet_settle(&w->net, 100000), TB_NB_JUMP);
    assert_holds(w, &w->lay.img[1].primary, img);
}

static void test_net_compressed(void **state)
{
    (void)state;
    struct netdev n;
    struct tb_boot_record rec;
    netdev_init(&n);
    assert_int_equal(tb_boot_go(&n.w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_UPGRADE_TEST);
    assert_net_runs(&n.w, &rec, &n.net2.plain, false);
    /* not confirmed: rolled back from the backup */
    assert_int_equal(tb_boot_go(&n.w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_REVERT);
    assert_net_runs(&n.w, &rec, &n.net1, true);
    netdev_free(&n);
}

static void check_net(struct world *w, const struct tb_boot_record *rec, void *arg)
{
    struct netdev *n = arg;
    struct tb_boot_record r2;
    assert_net_runs(w, rec, &n->net2.plain, false);
    assert_int_equal(tb_boot_go(&w->cfg, &r2), TB_OK);
    assert_net_runs(w, &r2, &n->net1, true);
}

static void test_sweep_net_compressed(void **state)
{
    (void)state;
    struct netdev n;
    netdev_init(&n);
    world_snapshot(&n.w);
    unsigned runs = world_sweep(&n.w, check_net, &n, g_stride, 7, &g_cut);
    print_message("compressed net install: %u power cuts swept (every %u of %llu operations)\n", runs, g_stride,
                  (unsigned long long)world_clean_boot_ops(&n.w));
    netdev_free(&n);
}

int main(void)
{
    const char *big = getenv("TB_SWEEP_BIG");
    if (big != NULL && strcmp(big, "1") == 0) {
        g_stride = 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_revert_confirm),
        cmocka_unit_test(test_refused_before_writing),
        cmocka_unit_test(test_sweep_install),
        cmocka_unit_test(test_sweep_revert),
        cmocka_unit_test(test_sweep_overwrite),
        cmocka_unit_test(test_net_compressed),
        cmocka_unit_test(test_sweep_net_compressed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
