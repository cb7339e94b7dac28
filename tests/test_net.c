/* Network core: the cross-core block, the net-core bootloader, the handover
 * strategy, update sets, and power-cut sweeps over both cores' flash. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "harness.h"
#include "twinboot/error.h"
#include "twinboot/journal.h"
#include "twinboot/netcore.h"
#include "twinboot/trailer.h"

#define SLOT 0xa000U   /* app slots: 10 sectors */
#define NSEC 0x9000U   /* net secondary */

/* ---- the block ---------------------------------------------------------- */

static void test_crc32_matches_zlib(void **state)
{
    (void)state;
    static const char v[] = "123456789";
    assert_int_equal(tb_crc32(0, v, 9), 0xcbf43926u);
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(i * 31 + 7);
    }
    assert_int_equal(tb_crc32(0, buf, sizeof(buf)), (uint32_t)crc32(0, buf, sizeof(buf)));
}

static void test_block_roundtrip_and_corruption(void **state)
{
    (void)state;
    static uint8_t ram[512];
    struct tb_shmem m = {ram, sizeof(ram)};
    struct tb_nc_request q = {.cmd = TB_NC_COPY, .seq = 7, .addr = 128, .len = 1234, .offset = 4096};
    struct tb_nc_request q2;
    memset(q.hash, 0xab, 32);
    assert_int_equal(tb_nc_write_request(&m, &q), TB_OK);
    assert_int_equal(tb_nc_read_request(&m, &q2), TB_OK);
    assert_int_equal(q2.cmd, TB_NC_COPY);
    assert_int_equal(q2.seq, 7);
    assert_int_equal(q2.len, 1234);
    assert_int_equal(q2.offset, 4096);
    assert_int_equal(q2.addr, 128);
    assert_memory_equal(q2.hash, q.hash, 32);
    struct tb_nc_response r = {.seq = 7, .status = TB_NC_ST_DONE, .reason = TB_E_IMG_HASH_MISMATCH, .valid = 1,
                               .size = 99, .ver = {1, 2, 3, 4}};
    struct tb_nc_response r2;
    assert_int_equal(tb_nc_write_response(&m, &r), TB_OK);
    assert_int_equal(tb_nc_read_response(&m, &r2), TB_OK);
    assert_int_equal(r2.reason, TB_E_IMG_HASH_MISMATCH);
    assert_int_equal(r2.ver.revision, 3);
    /* any single bit flipped in either half, or a torn half: no block */
    for (uint32_t bit = 0; bit < 64 * 8; bit++) {
        ram[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(tb_nc_read_request(&m, &q2), TB_E_INVAL);
        ram[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ram[64 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(tb_nc_read_response(&m, &r2), TB_E_INVAL);
        ram[64 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    memset(ram + 20, 0x00, 30); /* half of a new request written over an old one */
    assert_int_equal(tb_nc_read_request(&m, &q2), TB_E_INVAL);
    tb_nc_clear(&m);
    assert_int_equal(tb_nc_read_response(&m, &r2), TB_E_INVAL);
}

/* ---- the net-core bootloader on its own --------------------------------- */

static int run_net(struct world *w, uint32_t max)
{
    int st = TB_NB_START;
    for (uint32_t i = 0; i < max; i++) {
        st = tb_netboot_step(&w->net.nb);
        if (st < 0 || st == TB_NB_JUMP || (st == TB_NB_IDLE && i > 0)) {
            break;
        }
    }
    return st;
}

static void window_put(struct world *w, const struct tb_signed *s)
{
    tb_shm_write(&w->net.shm, TB_NC_WINDOW_OFF, s->data, (uint32_t)s->image_len);
}

static void test_netboot_commands(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, TB_STRATEGY_SWAP, SLOT, true);
    struct tb_signed n1 = make_signed(1, 12, NSEC, 1, NULL, 0);
    struct tb_nc_response r;

    /* empty net flash: it never jumps; it asks for an image */
    tb_netboot_reset(&w.net.nb);
    assert_int_equal(tb_netboot_step(&w.net.nb), TB_NB_IDLE);
    assert_int_equal(tb_nc_read_response(&w.net.shm, &r), TB_OK);
    assert_int_equal(r.status, TB_NC_ST_NEED_IMAGE);

    /* COPY with the wrong hash: refused, nothing written */
    window_put(&w, &n1);
    struct tb_nc_request q = {.cmd = TB_NC_COPY, .seq = 5, .addr = TB_NC_WINDOW_OFF, .len = (uint32_t)n1.image_len};
    memset(q.hash, 0x11, 32);
    assert_int_equal(tb_nc_write_request(&w.net.shm, &q), TB_OK);
    tb_simdev_reset_counters(&w.d);
    run_net(&w, 10);
    assert_int_equal(tb_nc_read_response(&w.net.shm, &r), TB_OK);
    assert_int_equal(r.seq, 5);
    assert_int_equal(r.status, TB_NC_ST_FAIL);
    assert_int_equal(r.reason, TB_E_IMG_HASH_MISMATCH);
    assert_int_equal(w.d.fl[TB_SIM_NET].cnt.erases, 0);

    /* a corrupted image in the window: refused by its own hash */
    window_put(&w, &n1);
    tb_shm_write(&w.net.shm, TB_NC_WINDOW_OFF + 0x400, "X", 1);
    q.seq = 6;
    memcpy(q.hash, image_hash(&n1), 32);
    assert_int_equal(tb_nc_write_request(&w.net.shm, &q), TB_OK);
    tb_netboot_reset(&w.net.nb);
    run_net(&w, 10);
    assert_int_equal(tb_nc_read_response(&w.net.shm, &r), TB_OK);
    assert_int_equal(r.status, TB_NC_ST_FAIL);

    /* the right image: installed, verified, DONE; then it jumps */
    window_put(&w, &n1);
    q.seq = 7;
    assert_int_equal(tb_nc_write_request(&w.net.shm, &q), TB_OK);
    tb_netboot_reset(&w.net.nb);
    assert_int_equal(run_net(&w, 1000), TB_NB_IDLE);
    assert_int_equal(tb_nc_read_response(&w.net.shm, &r), TB_OK);
    assert_int_equal(r.status, TB_NC_ST_DONE);
    assert_memory_equal(r.hash, image_hash(&n1), 32);
    /* a stale block (request already answered) is not done again */
    tb_simdev_reset_counters(&w.d);
    tb_netboot_reset(&w.net.nb);
    assert_int_equal(run_net(&w, 1000), TB_NB_JUMP);
    assert_int_equal(w.d.fl[TB_SIM_NET].cnt.erases, 0);
    /* a torn block is no block: it boots its application */
    w.net.ram[10] ^= 0x40;
    tb_netboot_reset(&w.net.nb);
    assert_int_equal(run_net(&w, 10), TB_NB_JUMP);

    /* INFO and BACKUP */
    struct tb_nc_request info = {.cmd = TB_NC_INFO, .seq = 8};
    assert_int_equal(tb_nc_write_request(&w.net.shm, &info), TB_OK);
    tb_netboot_reset(&w.net.nb);
    run_net(&w, 10);
    assert_int_equal(tb_nc_read_response(&w.net.shm, &r), TB_OK);
    assert_int_equal(r.valid, 1);
    assert_int_equal(r.size, n1.image_len);
    assert_int_equal(r.ver.major, 1);
    struct tb_nc_request bk = {.cmd = TB_NC_BACKUP, .seq = 9, .addr = TB_NC_WINDOW_OFF, .offset = 4096, .len = 4096};
    assert_int_equal(tb_nc_write_request(&w.net.shm, &bk), TB_OK);
    tb_netboot_reset(&w.net.nb);
    run_net(&w, 10);
    assert_int_equal(tb_nc_read_response(&w.net.shm, &r), TB_OK);
    assert_int_equal(r.status, TB_NC_ST_DONE);
    uint8_t got[4096];
    tb_shm_read(&w.net.shm, TB_NC_WINDOW_OFF, got, sizeof(got));
    assert_memory_equal(got, n1.data + 4096, 4096);
    /* BACKUP outside the slot, or into the block itself: refused */
    bk.seq = 10;
    bk.offset = 0x7800; /* runs past the 32 KiB slot */
    assert_int_equal(tb_nc_write_request(&w.net.shm, &bk), TB_OK);
    tb_netboot_reset(&w.net.nb);
    run_net(&w, 10);
    assert_int_equal(tb_nc_read_response(&w.net.shm, &r), TB_OK);
    assert_int_equal(r.status, TB_NC_ST_FAIL);
    bk.seq = 11;
    bk.offset = 0;
    bk.addr = 0;
    assert_int_equal(tb_nc_write_request(&w.net.shm, &bk), TB_OK);
    tb_netboot_reset(&w.net.nb);
    run_net(&w, 10);
    assert_int_equal(tb_nc_read_response(&w.net.shm, &r), TB_OK);
    assert_int_equal(r.seq, 11);
    assert_int_equal(r.status, TB_NC_ST_FAIL);
    tb_signed_free(&n1);
    world_free(&w);
}

/* ---- the app-core side, through the engine ------------------------------- */

struct pair {
    struct tb_signed app1, app2, net1, net2;
};

static void pair_make(struct pair *p)
{
    p->app1 = make_signed(1, 30, SLOT, 1, NULL, 0);
    p->app2 = make_signed(2, 28, SLOT, 2, NULL, 0);
    p->net1 = make_signed(1, 12, NSEC, 3, NULL, 0);
    p->net2 = make_signed(2, 14, NSEC, 4, NULL, 0);
}

static void pair_free(struct pair *p)
{
    tb_signed_free(&p->app1);
    tb_signed_free(&p->app2);
    tb_signed_free(&p->net1);
    tb_signed_free(&p->net2);
}

/* A factory-fresh device: app1 and net1, both confirmed. */
static void factory(struct world *w, struct pair *p)
{
    struct tb_boot_record rec;
    put_region(w, &w->lay.img[0].primary, &p->app1);
    put_region(w, &w->lay.img[1].primary, &p->net1);
    assert_int_equal(tb_boot_go(&w->cfg, &rec), TB_OK);
    assert_true(rec.img[1].valid);
}

/* A device with image 0 and a net core, both 1.0.0 and confirmed. */
static void device_with_pair(struct world *w, struct pair *p)
{
    world_init(w, TB_STRATEGY_SWAP, SLOT, true);
    pair_make(p);
    factory(w, p);
}

static void device_free(struct world *w, struct pair *p)
{
    pair_free(p);
    world_free(w);
}

static uint64_t g_cut;

/* An update set: both images uploaded and requested for test. */
static void request_set(struct world *w, const struct tb_signed *app, const struct tb_signed *net)
{
    put_region(w, &w->lay.img[0].secondary, app);
    put_region(w, &w->lay.img[1].secondary, net);
    assert_int_equal(tb_boot_request(&w->cfg, 0, false), TB_OK);
    assert_int_equal(tb_boot_request(&w->cfg, 1, false), TB_OK);
}

/* What runs on both cores: the record's app image, and the net core jumping
 * to an application whose hash is checked on its own flash. */
static void assert_pair(struct world *w, const struct tb_boot_record *rec, const struct tb_signed *app,
                        bool app_conf, const struct tb_signed *net, bool net_conf)
{
    assert_int_equal(rec->result, TB_OK);
    if (memcmp(rec->img[0].to_hash, image_hash(app), 32) != 0) {
        fail_msg("app core runs v%u, expected v%u (cut %llu)", rec->img[0].to.major, app->data[20],
                 (unsigned long long)g_cut);
    }
    assert_int_equal(rec->img[0].confirmed, app_conf);
    assert_true(rec->img[1].valid);
    if (memcmp(rec->img[1].to_hash, image_hash(net), 32) != 0) {
        fail_msg("net core has v%u, expected v%u (cut %llu)", rec->img[1].to.major, net->data[20],
                 (unsigned long long)g_cut);
    }
    assert_int_equal(rec->img[1].confirmed, net_conf);
    /* the net core itself boots that image */
    assert_int_equal(tb_simnet_settle(&w->net, 100000), TB_NB_JUMP);
    struct tb_area a;
    struct tb_image_info info;
    struct tb_keyring none = {NULL, 0};
    assert_int_equal(tb_region_area(&w->dev, &w->lay.img[1].primary, &a), TB_OK);
    assert_int_equal(tb_image_validate(&a, &none, &info), TB_OK);
    assert_memory_equal(info.hash, image_hash(net), 32);
}

static void test_devzone_net_test_and_revert(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    /* the report's case: app core in swap mode, image 1 uploaded with test, reset: both cores boot */
    put_region(&w, &w.lay.img[1].secondary, &p.net2);
    assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_UPGRADE_TEST);
    assert_int_equal(rec.img[0].action, TB_ACT_NONE);
    assert_pair(&w, &rec, &p.app1, true, &p.net2, false);
    /* not confirmed: the net core is rolled back */
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_REVERT);
    assert_pair(&w, &rec, &p.app1, true, &p.net1, true);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_NONE);
    assert_pair(&w, &rec, &p.app1, true, &p.net1, true);
    /* test + confirm: stays */
    assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(tb_boot_confirm(&w.cfg, 1), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_NONE);
    assert_pair(&w, &rec, &p.app1, true, &p.net2, true);
    /* an app-only update after a net update */
    put_region(&w, &w.lay.img[0].secondary, &p.app2);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_TEST);
    assert_int_equal(rec.img[1].action, TB_ACT_NONE);
    assert_pair(&w, &rec, &p.app2, false, &p.net2, true);
    device_free(&w, &p);
}

static void test_devzone_net_permanent(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    put_region(&w, &w.lay.img[1].secondary, &p.net2);
    assert_int_equal(tb_boot_request(&w.cfg, 1, true), TB_OK); /* uploaded with confirm */
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_UPGRADE_PERM);
    assert_pair(&w, &rec, &p.app1, true, &p.net2, true);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_pair(&w, &rec, &p.app1, true, &p.net2, true);
    device_free(&w, &p);
}

static void test_set_revert_and_confirm(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    request_set(&w, &p.app2, &p.net2);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_TEST);
    assert_int_equal(rec.img[1].action, TB_ACT_UPGRADE_TEST);
    assert_true(rec.img[0].set && rec.img[1].set);
    assert_pair(&w, &rec, &p.app2, false, &p.net2, false);
    /* no confirm: both revert */
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REVERT);
    assert_int_equal(rec.img[1].action, TB_ACT_REVERT);
    assert_pair(&w, &rec, &p.app1, true, &p.net1, true);
    /* again, and the application confirms (image 0 only): the set is confirmed as a whole */
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_pair(&w, &rec, &p.app2, false, &p.net2, false);
    assert_int_equal(tb_boot_confirm(&w.cfg, 0), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_pair(&w, &rec, &p.app2, true, &p.net2, true);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_pair(&w, &rec, &p.app2, true, &p.net2, true);
    device_free(&w, &p);
}

static void test_set_all_or_nothing(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    /* app 3 needs net >= 3.0.0; net 2 is offered: neither goes in */
    struct tb_image_dep dep = {1, {3, 0, 0, 0}};
    struct tb_signed app3 = make_signed(3, 20, SLOT, 5, &dep, 1);
    request_set(&w, &app3, &p.net2);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REFUSED);
    assert_int_equal(rec.img[0].reason, TB_E_BOOT_DEPENDENCY);
    assert_int_equal(rec.img[1].action, TB_ACT_REFUSED);
    assert_int_equal(rec.img[1].reason, TB_E_BOOT_SET);
    assert_pair(&w, &rec, &p.app1, true, &p.net1, true);
    /* a bad net image refuses the app image of its set too */
    struct tb_signed badnet = make_signed(2, 14, NSEC, 4, NULL, 0);
    badnet.data[0x500] ^= 1;
    request_set(&w, &p.app2, &badnet);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].reason, TB_E_BOOT_SET);
    assert_int_equal(rec.img[1].reason, TB_E_IMG_HASH_MISMATCH);
    assert_pair(&w, &rec, &p.app1, true, &p.net1, true);
    /* the dependency met by the set: app 3 with net 3 */
    struct tb_signed net3 = make_signed(3, 10, NSEC, 6, NULL, 0);
    request_set(&w, &app3, &net3);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_pair(&w, &rec, &app3, false, &net3, false);
    tb_signed_free(&app3);
    tb_signed_free(&badnet);
    tb_signed_free(&net3);
    device_free(&w, &p);
}

static void test_silent_net_core(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    w.net.silent = true;
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK); /* the app core still boots */
    assert_int_equal(rec.img[0].valid, 1);
    assert_int_equal(rec.img[1].valid, 0);
    assert_int_equal(rec.img[1].reason, TB_E_NC_TIMEOUT);
    assert_false(w.net.running); /* left held in reset: a defined state */
    w.net.silent = false;
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_pair(&w, &rec, &p.app1, true, &p.net1, true);
    device_free(&w, &p);
}

/* A net image destroyed (a copy cut short by a debugger, say): the app core
 * sends it again, from the secondary, or (reuse: the secondary has since
 * received another upload) from the copy the install made in QSPI. */
static void resend_case(bool reuse)
{
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    put_region(&w, &w.lay.img[1].secondary, &p.net2);
    assert_int_equal(tb_boot_request(&w.cfg, 1, true), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    if (reuse) {
        put_region(&w, &w.lay.img[1].secondary, &p.net1); /* uploaded, not requested */
    }
    struct tb_area a;
    assert_int_equal(tb_region_area(&w.dev, &w.lay.img[1].primary, &a), TB_OK);
    assert_int_equal(tb_area_erase(&a, 0x800, 0x800), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_true(rec.img[1].resent);
    assert_pair(&w, &rec, &p.app1, true, &p.net2, true);
    device_free(&w, &p);
}

static void test_resend_broken_net_image(void **state)
{
    resend_case(*(const bool *)*state);
}

static const bool k_reuse = true, k_no_reuse = false;

/* ---- a pending image 1 refused: never a stopped device ---------------------- */

enum bad_net {
    BAD_KEY, BAD_TRUNCATED, BAD_RANDOM, BAD_NON_BOOTABLE, BAD_TOO_LARGE, BAD_DEPENDENCY, BAD_DOWNGRADE, BAD_COUNT
};

/* Put a bad image 1 of kind k in the net secondary and request it for test;
 * the reason the engine must give. The device runs app1 and net1 (1.0.0). */
static int put_bad_net(struct world *w, enum bad_net k)
{
    struct tb_sign_opts o;
    tb_sign_opts_default(&o);
    o.slot_size = NSEC;
    o.version = (struct tb_image_version){2, 0, 0, 0};
    struct tb_signed s = {0};
    int why = TB_OK;
    switch (k) {
    case BAD_KEY: /* signed by a key the device does not trust */
        s = make_signed_opts(&o, 14, 40, "key-ecdsa-p256-other.pem");
        why = TB_E_IMG_UNKNOWN_KEY;
        break;
    case BAD_TRUNCATED: /* an upload cut short: the TLVs are missing */
        s = make_signed_opts(&o, 14, 41, NULL);
        memset(s.data + s.image_len / 2, 0xff, s.len - s.image_len / 2);
        why = TB_E_IMG_TLV_MAGIC;
        break;
    case BAD_RANDOM:
        s = make_signed_opts(&o, 14, 42, NULL);
        for (size_t i = 0; i < s.len; i++) {
            s.data[i] = (uint8_t)(i * 2654435761u >> 13);
        }
        why = TB_E_IMG_MAGIC;
        break;
    case BAD_NON_BOOTABLE:
        o.non_bootable = true;
        s = make_signed_opts(&o, 14, 43, NULL);
        why = TB_E_IMG_NON_BOOTABLE;
        break;
    case BAD_TOO_LARGE: /* fits the 36 KiB secondary, not the 32 KiB net slot */
        s = make_signed_opts(&o, 33, 44, NULL);
        why = TB_E_IMG_TOO_LARGE;
        break;
    case BAD_DEPENDENCY: /* needs app >= 5.0.0 */
        o.deps[0] = (struct tb_image_dep){0, {5, 0, 0, 0}};
        o.ndeps = 1;
        s = make_signed_opts(&o, 14, 45, NULL);
        why = TB_E_BOOT_DEPENDENCY;
        break;
    case BAD_DOWNGRADE: /* 0.9.0 under downgrade prevention */
        o.version = (struct tb_image_version){0, 9, 0, 0};
        s = make_signed_opts(&o, 14, 46, NULL);
        w->cfg.downgrade_prevention = true;
        why = TB_E_BOOT_DOWNGRADE;
        break;
    default:
        fail();
    }
    put_region(w, &w->lay.img[1].secondary, &s);
    assert_int_equal(tb_boot_request(&w->cfg, 1, false), TB_OK);
    tb_signed_free(&s);
    return why;
}

static bool request_pending(struct world *w, int image)
{
    struct tb_trailer_state t;
    struct tb_area a;
    assert_int_equal(tb_region_area(&w->dev, &w->lay.img[image].secondary, &a), TB_OK);
    assert_int_equal(tb_trailer_read(&a, w->lay.max_align, &t), TB_OK);
    return t.magic == TB_MAGIC_GOOD;
}

static void test_bad_net_image_refused(void **state)
{
    (void)state;
    static const char *const names[BAD_COUNT] = {"untrusted key", "truncated",  "random bytes", "non-bootable",
                                                 "too large",     "dependency", "downgrade"};
    for (int k = 0; k < BAD_COUNT; k++) {
        /* alone, with image 0's own request in the same reset (a set), and
         * with image 0 requested in the boot after */
        for (int with_app = 0; with_app < 2; with_app++) {
            struct world w;
            struct pair p;
            struct tb_boot_record rec;
            print_message("bad net image: %s%s\n", names[k], with_app ? ", in a set with app 2" : "");
            device_with_pair(&w, &p);
            int why = put_bad_net(&w, (enum bad_net)k);
            if (with_app) {
                put_region(&w, &w.lay.img[0].secondary, &p.app2);
                assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
            }
            assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
            assert_int_equal(rec.img[1].action, TB_ACT_REFUSED);
            assert_int_equal(rec.img[1].reason, why);
            if (with_app) {
                assert_int_equal(rec.img[0].action, TB_ACT_REFUSED);
                assert_int_equal(rec.img[0].reason, TB_E_BOOT_SET);
                assert_false(request_pending(&w, 0));
            } else {
                assert_int_equal(rec.img[0].action, TB_ACT_NONE);
            }
            assert_false(request_pending(&w, 1));
            assert_pair(&w, &rec, &p.app1, true, &p.net1, true);
            /* every later boot: the same pair, nothing to do */
            assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
            assert_int_equal(rec.img[1].action, TB_ACT_NONE);
            assert_pair(&w, &rec, &p.app1, true, &p.net1, true);
            /* and the device still updates: app 2 alone, then net 2 */
            put_region(&w, &w.lay.img[0].secondary, &p.app2);
            assert_int_equal(tb_boot_request(&w.cfg, 0, true), TB_OK);
            assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
            assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_PERM);
            put_region(&w, &w.lay.img[1].secondary, &p.net2);
            assert_int_equal(tb_boot_request(&w.cfg, 1, true), TB_OK);
            assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
            assert_int_equal(rec.img[1].action, TB_ACT_UPGRADE_PERM);
            assert_pair(&w, &rec, &p.app2, true, &p.net2, true);
            device_free(&w, &p);
        }
    }
}

/* Image 0 requested while a bad image 1 sits in its secondary without a
 * request of its own: image 0 goes in; image 1's leftovers change nothing. */
static void test_bad_net_image_beside_app_update(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    (void)put_bad_net(&w, BAD_KEY);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK); /* refused, request cleared */
    put_region(&w, &w.lay.img[0].secondary, &p.app2);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_TEST);
    assert_int_equal(rec.img[1].action, TB_ACT_NONE);
    assert_pair(&w, &rec, &p.app2, false, &p.net1, true);
    device_free(&w, &p);
}

/* Downgrade prevention judges image 1 by the version the net core runs. */
static void test_net_downgrade_prevention(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    w.cfg.downgrade_prevention = true;
    put_region(&w, &w.lay.img[1].secondary, &p.net2);
    assert_int_equal(tb_boot_request(&w.cfg, 1, true), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_pair(&w, &rec, &p.app1, true, &p.net2, true);
    put_region(&w, &w.lay.img[1].secondary, &p.net1);
    assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_REFUSED);
    assert_int_equal(rec.img[1].reason, TB_E_BOOT_DOWNGRADE);
    assert_pair(&w, &rec, &p.app1, true, &p.net2, true);
    /* an equal version is allowed, as for image 0 */
    w.cfg.sec_cnt_downgrade = true; /* net images are judged by version in this mode too */
    put_region(&w, &w.lay.img[1].secondary, &p.net1);
    assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].reason, TB_E_BOOT_DOWNGRADE);
    put_region(&w, &w.lay.img[1].secondary, &p.net2);
    assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_UPGRADE_TEST);
    device_free(&w, &p);
}

/* ---- the backup made while the net core copies ----------------------------- */

/* Image 1's current session, as the journal in QSPI has it. */
static struct tb_journal_session net_session(struct world *w)
{
    struct tb_area a;
    struct tb_journal j;
    assert_int_equal(tb_region_area(&w->dev, &w->lay.img[1].status, &a), TB_OK);
    assert_int_equal(tb_journal_open(&j, &a), TB_OK);
    assert_true(j.cur >= 0);
    return j.s;
}

/* net2 goes in permanently through the engine (so its copy is made), then net1 is requested as a test. */
static void net2_installed_then_net1_requested(struct world *w, struct pair *p)
{
    struct tb_boot_record rec;
    put_region(w, &w->lay.img[1].secondary, &p->net2);
    assert_int_equal(tb_boot_request(&w->cfg, 1, true), TB_OK);
    assert_int_equal(tb_boot_go(&w->cfg, &rec), TB_OK);
    assert_pair(w, &rec, &p->app1, true, &p->net2, true);
    put_region(w, &w->lay.img[1].secondary, &p->net1);
    assert_int_equal(tb_boot_request(&w->cfg, 1, false), TB_OK);
}

enum backup_path { FROM_COPY, BY_BACKUP, COPY_DAMAGED };

static void update_and_revert(struct world *w, struct pair *p, enum backup_path path)
{
    struct tb_boot_record rec;
    const bool expect_copy = path == FROM_COPY;
    const uint32_t hnew = hashed_by_validation(w, &w->lay.img[1].secondary), key = w->key.der_len;
    const uint32_t hold = hashed_by_validation(w, &w->lay.img[1].primary);
    assert_int_equal(tb_boot_go(&w->cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_UPGRADE_TEST);
    assert_pair(w, &rec, &p->app1, true, &p->net1, false);
    /* one signature check per image: the new net image's; the backup is checked by hash against INFO's */
    assert_int_equal(rec.img[1].sig_checks, 1);
    /* the new image, and the backup's once (a damaged copy is hashed, found wrong, and the backup made anew) */
    assert_int_equal(rec.img[1].hashed_bytes, hnew + hold + key + (path == COPY_DAMAGED ? hold : 0));
    assert_int_equal(rec.img[0].sig_checks, 1);
    struct tb_journal_session s = net_session(w);
    assert_true(s.flags & TB_JF_BACKUP);
    assert_memory_equal(s.from_hash, image_hash(&p->net2), 32);
    /* with the copy: no BACKUP chunk at all; without: one per sector of net2 */
    assert_int_equal(s.nsect, expect_copy ? 0 : (p->net2.image_len + 0xfffu) / 0x1000u);
    assert_int_equal(tb_boot_go(&w->cfg, &rec), TB_OK);
    assert_int_equal(rec.img[1].action, TB_ACT_REVERT);
    assert_pair(w, &rec, &p->app1, true, &p->net2, true);
    /* the backup goes to the net core: its signature is checked, once */
    assert_int_equal(rec.img[1].sig_checks, 1);
    assert_int_equal(rec.img[0].sig_checks, 1);
}

/* An update set: one signature check for each image, in the boot that installs both. */
static void test_set_one_signature_check_per_image(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    const uint32_t ha1 = hashed_by_validation(&w, &w.lay.img[0].primary), key = w.key.der_len;
    request_set(&w, &p.app2, &p.net2);
    const uint32_t ha2 = hashed_by_validation(&w, &w.lay.img[0].secondary);
    const uint32_t hn2 = hashed_by_validation(&w, &w.lay.img[1].secondary);
    const uint32_t hn1 = hashed_by_validation(&w, &w.lay.img[1].primary);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    assert_pair(&w, &rec, &p.app2, false, &p.net2, false);
    assert_int_equal(rec.img[0].sig_checks, 1);
    assert_int_equal(rec.img[1].sig_checks, 1);
    assert_int_equal(rec.img[0].hashed_bytes, ha1 + 2 * ha2 + key);
    assert_int_equal(rec.img[1].hashed_bytes, hn2 + hn1 + key); /* secondary, and the backup made by BACKUP */
    device_free(&w, &p);
}

/* net2 installed by the engine, net1 requested as a test: the update's
 * backup comes from the copy, from BACKUP chunks in a layout whose backup
 * region holds one image, or from BACKUP chunks after the copy was damaged. */
static void backup_case(enum backup_path path)
{
    struct world w;
    struct pair p;
    device_with_pair(&w, &p);
    if (path == BY_BACKUP) {
        w.lay.img[1].backup.size = NSEC;
    }
    net2_installed_then_net1_requested(&w, &p);
    if (path == COPY_DAMAGED) {
        /* the copy is in one of the halves: damage a payload byte of both */
        const struct tb_region *b = &w.lay.img[1].backup;
        struct tb_simflash *q = &w.d.fl[TB_SIM_QSPI];
        q->mem[b->off + 0x400] ^= 0x01;
        q->mem[b->off + b->size / 2 + 0x400] ^= 0x01;
    }
    update_and_revert(&w, &p, path);
    if (path == FROM_COPY) {
        /* after the revert, the half it restored from is the copy of what runs */
        put_region(&w, &w.lay.img[1].secondary, &p.net1);
        assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
        update_and_revert(&w, &p, FROM_COPY);
    }
    device_free(&w, &p);
}

/* cmocka's state names the case: the copy used; damaged, so BACKUP chunks;
 * a single backup region, so BACKUP chunks as before the copy existed */
static void test_net_backup(void **state)
{
    backup_case(*(const enum backup_path *)*state);
}

static const enum backup_path k_from_copy = FROM_COPY, k_damaged = COPY_DAMAGED, k_single = BY_BACKUP;

/* ---- sweeps ---------------------------------------------------------------- */

struct expect {
    const struct tb_signed *a1, *n1; /* after the recovery */
    bool a1c, n1c;
    const struct tb_signed *a2, *n2; /* after one more reset, no confirm */
    bool a2c, n2c;
};

static unsigned sweep(struct world *w, const struct expect *e, unsigned double_every)
{
    struct tb_boot_record rec;
    world_restore(w, 1);
    assert_int_equal(tb_boot_go(&w->cfg, &rec), TB_OK);
    uint64_t total = w->d.power.ops;
    unsigned runs = 0;
    for (uint64_t k = 1; k <= total; k++) {
        uint64_t seed = k * 7919u + 17u;
        g_cut = k;
        world_restore(w, seed);
        tb_simdev_arm_cut(&w->d, k, seed);
        int rc = tb_boot_go(&w->cfg, &rec);
        if (rc != TB_E_POWER) {
            fail_msg("cut at op %llu: boot returned %d", (unsigned long long)k, rc);
        }
        world_power_cycle(w, seed + 1);
        if (double_every && k % double_every == 0) {
            tb_simdev_arm_cut(&w->d, 1 + (k * 37u) % 60u, seed + 2);
            rc = tb_boot_go(&w->cfg, &rec);
            assert_true(rc == TB_E_POWER || rc == TB_OK);
            w->d.power.cut_at = 0;
            if (rc == TB_E_POWER) {
                world_power_cycle(w, seed + 3);
                rc = tb_boot_go(&w->cfg, &rec);
            }
            runs++;
        } else {
            rc = tb_boot_go(&w->cfg, &rec);
        }
        if (rc != TB_OK) {
            fail_msg("after a cut at op %llu the device does not boot: %s", (unsigned long long)k, tb_strerror(rc));
        }
        assert_pair(w, &rec, e->a1, e->a1c, e->n1, e->n1c);
        world_power_cycle(w, seed + 4);
        assert_int_equal(tb_boot_go(&w->cfg, &rec), TB_OK);
        assert_pair(w, &rec, e->a2, e->a2c, e->n2, e->n2c);
        runs++;
    }
    return runs;
}

/* Sweep the update requested in w, then (rv) the revert from the test it leaves. */
static void sweep_update_and_revert(struct world *w, const struct expect *up, const struct expect *rv,
                                    const char *up_name, const char *rv_name)
{
    struct tb_boot_record rec;
    world_snapshot(w);
    print_message("%s: %u power cuts swept\n", up_name, sweep(w, up, 7));
    if (rv != NULL) {
        world_restore(w, 1);
        assert_int_equal(tb_boot_go(&w->cfg, &rec), TB_OK);
        world_snapshot(w);
        print_message("%s: %u power cuts swept\n", rv_name, sweep(w, rv, 7));
    }
}

static void test_sweep_net_update_and_revert(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    device_with_pair(&w, &p);
    put_region(&w, &w.lay.img[1].secondary, &p.net2);
    assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
    struct expect up = {&p.app1, &p.net2, true, false, &p.app1, &p.net1, true, true};
    struct expect rv = {&p.app1, &p.net1, true, true, &p.app1, &p.net1, true, true};
    sweep_update_and_revert(&w, &up, &rv, "net test update", "net revert");
    device_free(&w, &p);
}

/* The update whose backup is the copy made at the last install, and its revert;
 * the single-region layout's update (BACKUP round trips, no copy). */
static void test_sweep_net_update_from_copy(void **state)
{
    (void)state;
    for (int single = 0; single < 2; single++) {
        struct world w;
        struct pair p;
        device_with_pair(&w, &p);
        if (single) {
            w.lay.img[1].backup.size = NSEC;
        }
        net2_installed_then_net1_requested(&w, &p);
        struct expect up = {&p.app1, &p.net1, true, false, &p.app1, &p.net2, true, true};
        struct expect rv = {&p.app1, &p.net2, true, true, &p.app1, &p.net2, true, true};
        sweep_update_and_revert(&w, &up, single ? NULL : &rv,
                                single ? "net test update, single backup region" : "net test update, backup from the copy",
                                "net revert to the copy's image");
        device_free(&w, &p);
    }
}

static void test_sweep_set_update_revert_confirm(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    request_set(&w, &p.app2, &p.net2);
    world_snapshot(&w);
    struct expect up = {&p.app2, &p.net2, false, false, &p.app1, &p.net1, true, true};
    unsigned n = sweep(&w, &up, 7);
    print_message("set test update: %u power cuts swept\n", n);
    /* set revert */
    world_restore(&w, 1);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    world_snapshot(&w);
    struct expect rv = {&p.app1, &p.net1, true, true, &p.app1, &p.net1, true, true};
    n = sweep(&w, &rv, 7);
    print_message("set revert: %u power cuts swept\n", n);
    /* set confirm: the application confirmed image 0; the boot that syncs image 1 is cut */
    world_restore(&w, 1);
    assert_int_equal(tb_boot_confirm(&w.cfg, 0), TB_OK);
    world_snapshot(&w);
    struct expect cf = {&p.app2, &p.net2, true, true, &p.app2, &p.net2, true, true};
    n = sweep(&w, &cf, 7);
    print_message("set confirm: %u power cuts swept\n", n);
    device_free(&w, &p);
}

/* Power cut at every flash operation of a refused image 1 (alone and in a set). */
static void test_sweep_net_refusal(void **state)
{
    (void)state;
    unsigned n = 0;
    for (int k = 0; k < BAD_COUNT; k++) {
        for (int with_app = 0; with_app < 2; with_app++) {
            struct world w;
            struct pair p;
            device_with_pair(&w, &p);
            (void)put_bad_net(&w, (enum bad_net)k);
            if (with_app) {
                put_region(&w, &w.lay.img[0].secondary, &p.app2);
                assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
            }
            world_snapshot(&w);
            struct expect e = {&p.app1, &p.net1, true, true, &p.app1, &p.net1, true, true};
            n += sweep(&w, &e, 3);
            device_free(&w, &p);
        }
    }
    print_message("net refusals (7 kinds, alone and in a set): %u power cuts swept\n", n);
}

/* The application confirms image 1 and the power goes during that write. */
static void test_cut_during_net_confirm(void **state)
{
    (void)state;
    struct world w;
    struct pair p;
    struct tb_boot_record rec;
    device_with_pair(&w, &p);
    put_region(&w, &w.lay.img[1].secondary, &p.net2);
    assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
    assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
    world_snapshot(&w);
    for (uint64_t seed = 1; seed <= 16; seed++) {
        world_restore(&w, seed);
        tb_simdev_arm_cut(&w.d, 1, seed);
        assert_int_equal(tb_boot_confirm(&w.cfg, 1), TB_E_POWER);
        world_power_cycle(&w, seed);
        assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
        bool kept = memcmp(rec.img[1].to_hash, image_hash(&p.net2), 32) == 0;
        assert_pair(&w, &rec, &p.app1, true, kept ? &p.net2 : &p.net1, true);
    }
    device_free(&w, &p);
}

/* The time model (sim.h): the net core runs on its own clock, so the copy
 * the app core writes to QSPI while the net core installs costs no time,
 * and the app core never sees an answer before the net core has finished
 * the work. */
static void test_net_time_model(void **state)
{
    (void)state;
    uint64_t elapsed[2], qspi[2], net2_len = 0;
    for (int single = 0; single < 2; single++) {
        struct world w;
        struct pair p;
        struct tb_boot_record rec;
        device_with_pair(&w, &p);
        if (single) {
            w.lay.img[1].backup.size = NSEC;
        }
        put_region(&w, &w.lay.img[1].secondary, &p.net2);
        assert_int_equal(tb_boot_request(&w.cfg, 1, false), TB_OK);
        tb_simdev_reset_counters(&w.d);
        assert_int_equal(tb_boot_go(&w.cfg, &rec), TB_OK);
        assert_int_equal(rec.img[1].action, TB_ACT_UPGRADE_TEST);
        assert_true(w.d.power.now_ns >= w.d.fl[TB_SIM_NET].busy_until_ns);
        elapsed[single] = tb_simdev_elapsed_ns(&w.d);
        qspi[single] = w.d.fl[TB_SIM_QSPI].cnt.bytes_programmed;
        net2_len = p.net2.image_len;
        device_free(&w, &p);
    }
    print_message("net update: %.3f s with the copy made during COPY, %.3f s without\n", elapsed[0] / 1e9,
                  elapsed[1] / 1e9);
    /* the double region wrote the new image a second time, in the same time (within 1 %) */
    assert_true(qspi[0] >= qspi[1] + net2_len);
    assert_true(elapsed[0] * 100 <= elapsed[1] * 101);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_matches_zlib),
        cmocka_unit_test(test_block_roundtrip_and_corruption),
        cmocka_unit_test(test_netboot_commands),
        cmocka_unit_test(test_devzone_net_test_and_revert),
        cmocka_unit_test(test_devzone_net_permanent),
        cmocka_unit_test(test_set_revert_and_confirm),
        cmocka_unit_test(test_set_all_or_nothing),
        cmocka_unit_test(test_silent_net_core),
        {"test_resend_broken_net_image", test_resend_broken_net_image, NULL, NULL, (void *)&k_no_reuse},
        {"test_resend_from_copy", test_resend_broken_net_image, NULL, NULL, (void *)&k_reuse},
        cmocka_unit_test(test_cut_during_net_confirm),
        cmocka_unit_test(test_bad_net_image_refused),
        cmocka_unit_test(test_bad_net_image_beside_app_update),
        cmocka_unit_test(test_net_downgrade_prevention),
        cmocka_unit_test(test_sweep_net_refusal),
        {"test_net_backup_from_copy", test_net_backup, NULL, NULL, (void *)&k_from_copy},
        cmocka_unit_test(test_set_one_signature_check_per_image),
        cmocka_unit_test(test_net_time_model),
        {"test_net_backup_copy_damaged", test_net_backup, NULL, NULL, (void *)&k_damaged},
        {"test_net_single_backup_region", test_net_backup, NULL, NULL, (void *)&k_single},
        cmocka_unit_test(test_sweep_net_update_and_revert),
        cmocka_unit_test(test_sweep_net_update_from_copy),
        cmocka_unit_test(test_sweep_set_update_revert_confirm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
