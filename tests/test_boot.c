/* Boot engine tests: MCUboot's decision table, trailer bytes, layout checks,
 * the update semantics, refusals, and power-cut sweeps that cut after every
 * flash operation (torn) and check what boots afterwards.
 *
 * TB_SWEEP_BIG=1 in the environment (ctest label "long") runs the sweeps with
 * a 768 KiB image on the nRF5340 DK layout instead of the small one. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "keyfile.h"
#include "twinboot/boot.h"
#include "twinboot/error.h"
#include "twinboot/image.h"
#include "twinboot/journal.h"
#include "twinboot/sim.h"
#include "twinboot/trailer.h"

#define V TB_VECTORS_DIR "/"

/* ---- decision table ---------------------------------------------------- */

/* MCUboot's boot_swap_tables as data (MCUboot's bootutil_public.c):
 * 0 = ANY. Checked in order, first match wins. */
struct row {
    uint8_t mp, ms, okp, oks, cdp, result;
};
static const struct row mcuboot_rows[] = {
    {0, TB_MAGIC_GOOD, 0, TB_FLAG_STATE_UNSET, 0, TB_SWAP_TEST},
    {0, TB_MAGIC_GOOD, 0, TB_FLAG_STATE_SET, 0, TB_SWAP_PERM},
    {TB_MAGIC_GOOD, 0, TB_FLAG_STATE_UNSET, 0, TB_FLAG_STATE_SET, TB_SWAP_REVERT},
};

static int reference_swap_type(const struct tb_trailer_state *p, const struct tb_trailer_state *s)
{
    for (size_t i = 0; i < sizeof(mcuboot_rows) / sizeof(mcuboot_rows[0]); i++) {
        const struct row *r = &mcuboot_rows[i];
        if ((r->mp == 0 || r->mp == p->magic) && (r->ms == 0 || r->ms == s->magic) &&
            (r->okp == 0 || r->okp == p->image_ok) && (r->oks == 0 || r->oks == s->image_ok) &&
            (r->cdp == 0 || r->cdp == p->copy_done)) {
            return r->result;
        }
    }
    return TB_SWAP_NONE;
}

static void test_decision_table(void **state)
{
    (void)state;
    int n = 0, counts[6] = {0};
    for (uint8_t mp = 1; mp <= 3; mp++)
        for (uint8_t ms = 1; ms <= 3; ms++)
            for (uint8_t okp = 1; okp <= 3; okp++)
                for (uint8_t oks = 1; oks <= 3; oks++)
                    for (uint8_t cdp = 1; cdp <= 3; cdp++)
                        for (uint8_t cds = 1; cds <= 3; cds++) {
                            struct tb_trailer_state p = {mp, okp, cdp, TB_SWAP_NONE, 0};
                            struct tb_trailer_state s = {ms, oks, cds, TB_SWAP_NONE, 0};
                            int want = reference_swap_type(&p, &s);
                            assert_int_equal(tb_swap_type(&p, &s), want);
                            counts[want]++;
                            n++;
                        }
    assert_int_equal(n, 729);
    /* every row is reachable */
    assert_true(counts[TB_SWAP_TEST] > 0 && counts[TB_SWAP_PERM] > 0 && counts[TB_SWAP_REVERT] > 0 &&
                counts[TB_SWAP_NONE] > 0);
}

/* ---- a small device ----------------------------------------------------- */

static uint64_t g_cut;
static uint32_t g_slot = 0xa000; /* small: 10 sectors */
static uint32_t g_img_kib = 30;  /* about 8 sectors */
static bool g_big;

static struct tb_signed make_image(uint8_t major, size_t kib) { return make_signed(major, kib, g_slot, 0, NULL, 0); }

static void put_image(struct world *w, bool secondary, const struct tb_signed *s)
{
    put_region(w, secondary ? &w->lay.img[0].secondary : &w->lay.img[0].primary, s);
}

static void snapshot(struct world *w) { world_snapshot(w); }
static void restore(struct world *w) { world_restore(w, 0); }

static int boot(struct world *w, struct tb_boot_record *rec) { return tb_boot_go(&w->cfg, rec); }

/* The primary boots the image with this hash. */
static void assert_runs(const struct tb_boot_record *rec, const struct tb_signed *img, bool confirmed)
{
    struct tb_image_info info;
    struct tb_flash f;
    (void)f;
    assert_int_equal(rec->result, TB_OK);
    assert_true(rec->img[0].valid);
    /* the image's own digest is the SHA256 TLV: compare with the record */
    struct tb_image_header h;
    tb_image_header_decode(img->data, &h);
    const uint8_t *tlv = img->data + h.hdr_size + h.img_size + h.protect_tlv_size + 4;
    assert_int_equal(tlv[0], TB_TLV_SHA256);
    if (memcmp(rec->img[0].to_hash, tlv + 4, 32) != 0) {
        fail_msg("booted image v%u, expected v%u (cut at op %llu; action %s)", rec->img[0].to.major, h.ver.major,
                 (unsigned long long)g_cut, tb_boot_action_name(rec->img[0].action));
    }
    assert_int_equal(rec->img[0].confirmed, confirmed);
    (void)info;
}

/* ---- semantics ---------------------------------------------------------- */

static void test_upgrade_revert_confirm(void **state)
{
    (void)state;
    struct world w;
    struct tb_boot_record rec;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    struct tb_signed v1 = make_image(1, g_img_kib), v2 = make_image(2, g_img_kib);

    /* a blank device has nothing to boot: a defined end state */
    assert_int_equal(boot(&w, &rec), TB_E_BOOT_NO_IMAGE);
    assert_int_equal(rec.img[0].action, TB_ACT_NO_IMAGE);

    put_image(&w, false, &v1);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_runs(&rec, &v1, true);
    assert_int_equal(rec.img[0].action, TB_ACT_NONE);

    /* test: the new image boots, unconfirmed */
    put_image(&w, true, &v2);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_TEST);
    assert_runs(&rec, &v2, false);
    /* not confirmed before the next reset: the old image comes back, confirmed */
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REVERT);
    assert_runs(&rec, &v1, true);
    /* no ping-pong: the request is gone */
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_NONE);
    assert_runs(&rec, &v1, true);

    /* test again, confirm, and it stays */
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_runs(&rec, &v2, false);
    assert_int_equal(tb_boot_confirm(&w.cfg, 0), TB_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(boot(&w, &rec), TB_OK);
        assert_int_equal(rec.img[0].action, TB_ACT_NONE);
        assert_runs(&rec, &v2, true);
    }

    /* permanent: never reverts */
    put_image(&w, true, &v1);
    assert_int_equal(tb_boot_request(&w.cfg, 0, true), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_PERM);
    assert_runs(&rec, &v1, true);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_runs(&rec, &v1, true);

    tb_signed_free(&v1);
    tb_signed_free(&v2);
    world_free(&w);
}

/* An unconfirmed test image replaced by another test image: the backup keeps
 * the last confirmed one, which comes back when neither is confirmed. */
static void test_retest_keeps_confirmed(void **state)
{
    (void)state;
    struct world w;
    struct tb_boot_record rec;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    struct tb_signed v1 = make_image(1, g_img_kib), v2 = make_image(2, g_img_kib), v3 = make_image(3, 20);
    put_image(&w, false, &v1);
    put_image(&w, true, &v2);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_runs(&rec, &v2, false);
    put_image(&w, true, &v3);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_TEST);
    assert_runs(&rec, &v3, false);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REVERT);
    assert_runs(&rec, &v1, true);
    tb_signed_free(&v1);
    tb_signed_free(&v2);
    tb_signed_free(&v3);
    world_free(&w);
}

static void test_max_test_boots(void **state)
{
    (void)state;
    struct world w;
    struct tb_boot_record rec;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    w.cfg.max_test_boots = 3;
    struct tb_signed v1 = make_image(1, g_img_kib), v2 = make_image(2, g_img_kib);
    put_image(&w, false, &v1);
    put_image(&w, true, &v2);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_runs(&rec, &v2, false);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(boot(&w, &rec), TB_OK);
        assert_int_equal(rec.img[0].action, TB_ACT_TEST_BOOT);
        assert_runs(&rec, &v2, false);
    }
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REVERT);
    assert_runs(&rec, &v1, true);
    tb_signed_free(&v1);
    tb_signed_free(&v2);
    world_free(&w);
}

static void test_overwrite_strategy(void **state)
{
    (void)state;
    struct world w;
    struct tb_boot_record rec;
    world_init(&w, TB_STRATEGY_OVERWRITE, g_slot, false);
    w.lay.img[0].backup.size = 0;
    struct tb_signed v1 = make_image(1, g_img_kib), v2 = make_image(2, g_img_kib / 2);
    put_image(&w, false, &v1);
    put_image(&w, true, &v2);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_OVERWRITE);
    assert_runs(&rec, &v2, true);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_NONE);
    assert_runs(&rec, &v2, true);
    tb_signed_free(&v1);
    tb_signed_free(&v2);
    world_free(&w);
}

/* ---- refusals ----------------------------------------------------------- */

static void refuse_case(struct world *w, const struct tb_signed *cur, const struct tb_signed *bad, int reason)
{
    struct tb_boot_record rec;
    put_image(w, false, cur);
    put_image(w, true, bad);
    assert_int_equal(tb_boot_request(&w->cfg, 0, false), TB_OK);
    assert_int_equal(boot(w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REFUSED);
    assert_int_equal(rec.img[0].reason, reason);
    assert_runs(&rec, cur, true);
    /* the request is cleared: the next boot does nothing */
    assert_int_equal(boot(w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_NONE);
    assert_runs(&rec, cur, true);
}

static void test_refusals(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    struct tb_signed v1 = make_image(1, g_img_kib), v2 = make_image(2, g_img_kib);

    struct tb_signed bad = make_image(2, g_img_kib);
    bad.data[0x300] ^= 1;
    refuse_case(&w, &v1, &bad, TB_E_IMG_HASH_MISMATCH);
    tb_signed_free(&bad);

    bad = make_image(2, g_img_kib);
    bad.data[bad.image_len - 1] ^= 1; /* inside the Ed25519 signature */
    refuse_case(&w, &v1, &bad, TB_E_IMG_BAD_SIGNATURE);
    tb_signed_free(&bad);

    /* too large for the slot less its trailer sector */
    bad = make_image(2, g_slot / 1024 - 2); /* reaches into the trailer sector */
    refuse_case(&w, &v1, &bad, TB_E_IMG_TOO_LARGE);
    tb_signed_free(&bad);

    /* signed by another key */
    struct tb_sign_opts o;
    tb_sign_opts_default(&o);
    o.slot_size = g_slot;
    o.version = (struct tb_image_version){2, 0, 0, 0};
    bad = make_signed_opts(&o, 4, 0, "key-ecdsa-p256-other.pem");
    refuse_case(&w, &v1, &bad, TB_E_IMG_UNKNOWN_KEY);
    tb_signed_free(&bad);

    /* downgrade prevention: older refused, equal allowed */
    w.cfg.downgrade_prevention = true;
    refuse_case(&w, &v2, &v1, TB_E_BOOT_DOWNGRADE);
    {
        struct tb_boot_record rec;
        struct tb_signed v2b = make_image(2, g_img_kib - 1); /* same version, other bytes */
        put_image(&w, false, &v2);
        put_image(&w, true, &v2b);
        assert_int_equal(tb_boot_request(&w.cfg, 0, true), TB_OK);
        assert_int_equal(boot(&w, &rec), TB_OK);
        assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_PERM);
        tb_signed_free(&v2b);
    }
    /* ... judged by the security counter: lower refused, even with a newer version */
    {
        o.has_sec_cnt = true;
        o.version = (struct tb_image_version){1, 0, 0, 0};
        o.sec_cnt = 5;
        struct tb_signed hi = make_signed_opts(&o, 4, 0, NULL);
        o.version = (struct tb_image_version){9, 0, 0, 0};
        o.sec_cnt = 4;
        struct tb_signed lo = make_signed_opts(&o, 4, 1, NULL);
        o.has_sec_cnt = false;
        w.cfg.sec_cnt_downgrade = true;
        refuse_case(&w, &hi, &lo, TB_E_BOOT_SEC_CNT);
        w.cfg.sec_cnt_downgrade = false;
        tb_signed_free(&hi);
        tb_signed_free(&lo);
    }
    w.cfg.downgrade_prevention = false;

    /* flagged non-bootable */
    o.non_bootable = true;
    o.version = (struct tb_image_version){3, 0, 0, 0};
    bad = make_signed_opts(&o, 4, 0, NULL);
    o.non_bootable = false;
    refuse_case(&w, &v1, &bad, TB_E_IMG_NON_BOOTABLE);
    tb_signed_free(&bad);

    /* a dependency on an image this layout does not have */
    struct tb_image_dep dep = {1, {1, 0, 0, 0}};
    bad = make_signed(3, 4, g_slot, 0, &dep, 1);
    refuse_case(&w, &v1, &bad, TB_E_BOOT_DEPENDENCY);
    tb_signed_free(&bad);
    tb_signed_free(&v1);
    tb_signed_free(&v2);
    world_free(&w);
}

static void test_no_bootable_and_recovery(void **state)
{
    (void)state;
    struct world w;
    struct tb_boot_record rec;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    struct tb_signed v1 = make_image(1, g_img_kib), v2 = make_image(2, g_img_kib);
    /* a corrupt primary with nothing behind it */
    struct tb_signed bad = make_image(1, g_img_kib);
    bad.data[0x400] ^= 0x80;
    put_image(&w, false, &bad);
    assert_int_equal(boot(&w, &rec), TB_E_BOOT_NO_IMAGE);
    assert_int_equal(rec.result, TB_E_BOOT_NO_IMAGE);
    assert_int_equal(rec.img[0].action, TB_ACT_NO_IMAGE);
    assert_int_equal(rec.img[0].reason, TB_E_IMG_HASH_MISMATCH);
    /* and it stays there, boot after boot: no loop, no writes */
    tb_simdev_reset_counters(&w.d);
    assert_int_equal(boot(&w, &rec), TB_E_BOOT_NO_IMAGE);
    assert_int_equal(w.d.fl[TB_SIM_APP].cnt.erases + w.d.fl[TB_SIM_QSPI].cnt.erases, 0);

    /* a confirmed v1, a test v2; then v2 gets corrupted in the primary: v1 comes back */
    put_image(&w, false, &v1);
    put_image(&w, true, &v2);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(tb_boot_confirm(&w.cfg, 0), TB_OK);
    struct tb_area pri;
    assert_int_equal(tb_region_area(&w.dev, &w.lay.img[0].primary, &pri), TB_OK);
    assert_int_equal(tb_area_erase(&pri, 0x1000, 0x1000), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_RECOVERED);
    assert_runs(&rec, &v1, true);
    tb_signed_free(&bad);
    tb_signed_free(&v1);
    tb_signed_free(&v2);
    world_free(&w);
}

/* ---- power-cut sweeps --------------------------------------------------- */

/* Cut the power at operation k of the boot that starts from the snapshot
 * (torn, with a seed), reset, boot again (optionally cut once more during
 * that recovery at operation k2), and check the outcome. Returns how many
 * operations the uninterrupted boot takes. */
typedef void (*check_fn)(struct world *w, const struct tb_boot_record *rec, void *arg);

static uint64_t ops_of_clean_boot(struct world *w)
{
    struct tb_boot_record rec;
    restore(w);
    assert_int_equal(boot(w, &rec), TB_OK);
    return w->d.power.ops;
}

static unsigned sweep(struct world *w, check_fn check, void *arg, unsigned double_every)
{
    struct tb_boot_record rec;
    uint64_t total = ops_of_clean_boot(w);
    unsigned runs = 0;
    assert_true(total > 0);
    for (uint64_t k = 1; k <= total; k++) {
        uint64_t seed = k * 7919u + 13u;
        g_cut = k;
        restore(w);
        tb_simdev_arm_cut(&w->d, k, seed);
        int rc = boot(w, &rec);
        if (rc != TB_E_POWER) {
            fail_msg("cut at op %llu (seed %llu): boot returned %d, not a power cut", (unsigned long long)k,
                     (unsigned long long)seed, rc);
        }
        tb_simdev_power_on(&w->d);
        if (double_every && k % double_every == 0) {
            /* a second cut during the recovery, a little way in */
            tb_simdev_arm_cut(&w->d, 1 + (k * 31u) % 40u, seed + 1);
            rc = boot(w, &rec);
            assert_true(rc == TB_E_POWER || rc == TB_OK);
            w->d.power.cut_at = 0;
            runs++;
            if (rc == TB_OK) {
                /* the recovery finished before the second cut: it is the boot to check */
                check(w, &rec, arg);
                continue;
            }
            tb_simdev_power_on(&w->d);
        }
        rc = boot(w, &rec);
        if (rc != TB_OK) {
            fail_msg("after a cut at op %llu (seed %llu) the device does not boot: %d (%s)",
                     (unsigned long long)k, (unsigned long long)seed, rc, tb_strerror(rc));
        }
        check(w, &rec, arg);
        runs++;
    }
    return runs;
}

struct expect {
    const struct tb_signed *first;  /* what must boot after the recovery */
    bool first_confirmed;
    const struct tb_signed *second; /* then, after one more reset without confirm */
    bool second_confirmed;
};

static void check_expect(struct world *w, const struct tb_boot_record *rec, void *arg)
{
    const struct expect *e = arg;
    struct tb_boot_record r2;
    assert_runs(rec, e->first, e->first_confirmed);
    assert_int_equal(boot(w, &r2), TB_OK);
    assert_runs(&r2, e->second, e->second_confirmed);
    /* and nothing more happens after that */
    assert_int_equal(boot(w, &r2), TB_OK);
    assert_int_equal(r2.img[0].action, TB_ACT_NONE);
    assert_runs(&r2, e->second, e->second_confirmed);
}

static void sweep_setup(struct world *w, uint8_t strategy, struct tb_signed *v1, struct tb_signed *v2)
{
    world_init(w, strategy, g_slot, false);
    if (strategy == TB_STRATEGY_OVERWRITE) {
        w->lay.img[0].backup.size = 0;
    }
    *v1 = make_image(1, g_img_kib);
    *v2 = make_image(2, g_img_kib - 3); /* sizes differ: the copy must cover both */
    put_image(w, false, v1);
    put_image(w, true, v2);
}

/* One sweep scenario: which strategy, what the request is, whether the
 * test image already runs (then the swept boot is the revert), and what
 * must boot after the recovery and after one more reset. */
struct scenario {
    const char *name;
    uint8_t strategy;
    bool permanent;
    bool from_test_boot;
    int first, second;      /* 1: v1, 2: v2 */
    bool first_c, second_c; /* confirmed */
};

static void run_sweep(const struct scenario *sc)
{
    struct world w;
    struct tb_signed v[3];
    struct tb_boot_record rec;
    sweep_setup(&w, sc->strategy, &v[1], &v[2]);
    assert_int_equal(tb_boot_request(&w.cfg, 0, sc->permanent), TB_OK);
    if (sc->from_test_boot) {
        assert_int_equal(boot(&w, &rec), TB_OK);
        assert_runs(&rec, &v[2], false);
    }
    snapshot(&w);
    struct expect e = {&v[sc->first], sc->first_c, &v[sc->second], sc->second_c};
    unsigned runs = sweep(&w, check_expect, &e, g_big ? 97 : 5);
    print_message("%s: %u power cuts swept (%llu operations)\n", sc->name, runs,
                  (unsigned long long)ops_of_clean_boot(&w));
    tb_signed_free(&v[1]);
    tb_signed_free(&v[2]);
    world_free(&w);
}

/* the upgrade completes; unconfirmed, it reverts */
static void test_sweep_test_upgrade(void **state)
{
    (void)state;
    run_sweep(&(struct scenario){"test upgrade", TB_STRATEGY_SWAP, false, false, 2, 1, false, true});
}

static void test_sweep_permanent_upgrade(void **state)
{
    (void)state;
    run_sweep(&(struct scenario){"permanent upgrade", TB_STRATEGY_SWAP, true, false, 2, 2, true, true});
}

/* the test image runs, unconfirmed: the swept boot reverts */
static void test_sweep_revert(void **state)
{
    (void)state;
    run_sweep(&(struct scenario){"revert", TB_STRATEGY_SWAP, false, true, 1, 1, true, true});
}

static void test_sweep_overwrite(void **state)
{
    (void)state;
    run_sweep(&(struct scenario){"overwrite", TB_STRATEGY_OVERWRITE, false, false, 2, 2, true, true});
}

/* A cut while the application confirms (one trailer write): the test image
 * either stays confirmed, or reverts at the next reset; never anything else. */
static void test_cut_during_confirm(void **state)
{
    (void)state;
    struct world w;
    struct tb_signed v1, v2;
    struct tb_boot_record rec;
    sweep_setup(&w, TB_STRATEGY_SWAP, &v1, &v2);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    snapshot(&w);
    for (uint64_t seed = 1; seed <= 16; seed++) {
        restore(&w);
        tb_simdev_arm_cut(&w.d, 1, seed);
        assert_int_equal(tb_boot_confirm(&w.cfg, 0), TB_E_POWER);
        tb_simdev_power_on(&w.d);
        assert_int_equal(boot(&w, &rec), TB_OK);
        assert_true(rec.img[0].valid);
        bool is_v2 = rec.img[0].to.major == 2, is_v1 = rec.img[0].to.major == 1;
        assert_true(is_v1 || is_v2);
        assert_int_equal(boot(&w, &rec), TB_OK);
        assert_true(rec.img[0].valid);
    }
    tb_signed_free(&v1);
    tb_signed_free(&v2);
    world_free(&w);
}

/* ---- layout checks -------------------------------------------------------- */

static void test_layout_checks(void **state)
{
    (void)state;
    struct world w;
    struct tb_layout_issue is;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    assert_int_equal(tb_layout_check(&w.lay, &w.dev, &is), TB_OK);
    assert_int_equal(tb_layout_check(&tb_layout_nrf5340_dk, &w.dev, &is), TB_OK);

    struct {
        void (*mutate)(struct tb_layout *);
        const char *region;
    } cases[8];
    (void)cases;
    struct tb_layout l;
#define BAD(stmt, reg)                                                                                       \
    do {                                                                                                     \
        l = w.lay;                                                                                           \
        stmt;                                                                                                \
        assert_int_equal(tb_layout_check(&l, &w.dev, &is), TB_E_INVAL);                                      \
        assert_string_equal(is.region, reg);                                                                 \
        assert_non_null(is.what);                                                                            \
    } while (0)
    BAD(l.img[0].primary.off = 0x10800, "primary");             /* not sector-aligned */
    BAD(l.img[0].secondary.off = 0x7ff000, "secondary");        /* past the end of QSPI */
    BAD(l.img[0].backup.off = 0x4000, "secondary");             /* backup overlaps the secondary */
    BAD(l.img[0].status.size = 0x1000, "status");               /* one sector */
    BAD(l.img[0].backup.size = 0x1000, "backup");               /* smaller than the primary */
    BAD(l.img[0].secondary.size = 0x9000, "secondary");         /* differs from the primary */
    BAD(l.img[0].primary.flash = 7, "primary");                 /* no such flash */
    BAD(l.img[0].primary.size = 0x1000, "primary");             /* no room besides the trailer */
    BAD(l.img[0].secondary.flash = TB_SIM_NET, "secondary");    /* 2 KiB sectors against 4 KiB */
    BAD(l.max_align = 12, "layout");
    BAD(l.image_count = 0, "layout");
    BAD((l.image_count = 2, l.img[1] = l.img[0]), "primary");   /* image 1 on top of image 0 */
#undef BAD
    /* the engine refuses to run on a bad layout, touching nothing */
    w.lay.img[0].status.size = 0;
    struct tb_boot_record rec;
    tb_simdev_power_on(&w.d);
    assert_int_equal(boot(&w, &rec), TB_E_BOOT_LAYOUT);
    assert_int_equal(w.d.power.ops, 0);
    world_free(&w);
}

/* ---- trailer bytes -------------------------------------------------------- */

static void test_trailer_bytes(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    struct tb_area sec, pri;
    assert_int_equal(tb_region_area(&w.dev, &w.lay.img[0].secondary, &sec), TB_OK);
    assert_int_equal(tb_region_area(&w.dev, &w.lay.img[0].primary, &pri), TB_OK);
    uint8_t tail[48], want[48];
    static const uint8_t magic[16] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                      0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};
    /* test request for image 0: magic + swap_info 0x02 at -40 */
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(tb_area_read(&sec, sec.size - 48, tail, 48), TB_OK);
    memset(want, 0xff, sizeof(want));
    want[48 - 40] = 0x02;
    memcpy(want + 32, magic, 16);
    assert_memory_equal(tail, want, 48);
    /* a second request changes nothing */
    assert_int_equal(tb_boot_request(&w.cfg, 0, true), TB_OK);
    assert_int_equal(tb_area_read(&sec, sec.size - 48, tail, 48), TB_OK);
    assert_memory_equal(tail, want, 48);
    /* permanent request: image_ok 0x01 at -24, swap_info 0x03; the same bytes imgtool --confirm writes at -24 */
    assert_int_equal(tb_area_erase(&sec, sec.size - 0x1000, 0x1000), TB_OK);
    assert_int_equal(tb_boot_request(&w.cfg, 0, true), TB_OK);
    assert_int_equal(tb_area_read(&sec, sec.size - 48, tail, 48), TB_OK);
    want[48 - 40] = 0x03;
    want[48 - 24] = 0x01;
    assert_memory_equal(tail, want, 48);
    struct tb_trailer_state st;
    assert_int_equal(tb_trailer_read(&sec, 8, &st), TB_OK);
    assert_int_equal(st.magic, TB_MAGIC_GOOD);
    assert_int_equal(st.image_ok, TB_FLAG_STATE_SET);
    assert_int_equal(st.swap_type, TB_SWAP_PERM);
    /* the vector imgtool padded and confirmed reads as magic good, image_ok set */
    {
        FILE *f = fopen(V "signed-ecdsa-p256-pad-confirm-align4.bin", "rb");
        assert_non_null(f);
        static uint8_t img[0x80000];
        assert_int_equal(fread(img, 1, sizeof(img), f), sizeof(img));
        fclose(f);
        assert_memory_equal(img + sizeof(img) - 48 + 24, want + 24, 24);
    }
    /* a bad magic refuses a request; confirm on a primary without magic writes nothing */
    tb_simdev_power_on(&w.d);
    assert_int_equal(tb_boot_confirm(&w.cfg, 0), TB_OK);
    assert_int_equal(w.d.power.ops, 0);
    uint8_t junk[16];
    memset(junk, 0x12, sizeof(junk));
    assert_int_equal(tb_area_erase(&sec, sec.size - 0x1000, 0x1000), TB_OK);
    assert_int_equal(tb_area_program(&sec, sec.size - 16, junk, 16), TB_OK);
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_E_IMG_MAGIC);
    world_free(&w);
}

/* ---- the journal ---------------------------------------------------------- */

static void test_journal_torn_entries(void **state)
{
    (void)state;
    struct world w;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    struct tb_area st;
    struct tb_journal j;
    assert_int_equal(tb_region_area(&w.dev, &w.lay.img[0].status, &st), TB_OK);
    assert_int_equal(tb_journal_open(&j, &st), TB_OK);
    assert_int_equal(j.cur, -1);
    struct tb_journal_session s = {.op = TB_OP_UPGRADE, .nsect = 3, .from_size = 100, .to_size = 200};
    assert_int_equal(tb_journal_begin(&j, &s), TB_OK);
    assert_int_equal(tb_journal_mark(&j, 1), TB_OK);
    assert_int_equal(tb_journal_mark(&j, 2), TB_OK);
    /* a torn entry for step 3, for many seeds: it reads as step 3 or as nothing */
    snapshot(&w);
    for (uint64_t seed = 1; seed <= 64; seed++) {
        restore(&w);
        struct tb_journal j2;
        assert_int_equal(tb_journal_open(&j2, &st), TB_OK);
        tb_simdev_arm_cut(&w.d, 1, seed);
        assert_int_equal(tb_journal_mark(&j2, 3), TB_E_POWER);
        tb_simdev_power_on(&w.d);
        assert_int_equal(tb_journal_open(&j2, &st), TB_OK);
        assert_true(j2.last_step == 2 || j2.last_step == 3);
        /* and the log goes on after it */
        assert_int_equal(tb_journal_mark(&j2, 4), TB_OK);
        assert_int_equal(tb_journal_open(&j2, &st), TB_OK);
        assert_int_equal(j2.last_step, 4);
        assert_int_equal(j2.s.to_size, 200);
    }
    /* a torn header: the session never started; the previous one is still there */
    restore(&w);
    assert_int_equal(tb_journal_open(&j, &st), TB_OK);
    assert_int_equal(tb_journal_mark(&j, TB_STEP_DONE), TB_OK);
    snapshot(&w);
    for (uint64_t k = 1; k <= 2; k++) { /* 1: the erase, 2: the header program */
        for (uint64_t seed = 1; seed <= 16; seed++) {
            restore(&w);
            assert_int_equal(tb_journal_open(&j, &st), TB_OK);
            tb_simdev_arm_cut(&w.d, k, seed);
            struct tb_journal_session s2 = {.op = TB_OP_REVERT, .nsect = 3};
            assert_int_equal(tb_journal_begin(&j, &s2), TB_E_POWER);
            tb_simdev_power_on(&w.d);
            assert_int_equal(tb_journal_open(&j, &st), TB_OK);
            assert_true(j.s.op == TB_OP_UPGRADE || (j.s.op == TB_OP_REVERT && j.last_step == 0));
            if (j.s.op == TB_OP_UPGRADE) {
                assert_true(tb_journal_done(&j));
            }
        }
    }
    world_free(&w);
}


/* One signature check per boot for image 0, upgrade boots included (MCUboot
 * checks two on an upgrade): the primary before anything is decided is
 * checked by hash, the new image's signature once, and the primary it
 * becomes by hash against that verified digest. hashed_bytes counts what the
 * crypto backend hashed: images, plus the key (KEYHASH) once per signature. */
static void test_one_signature_check_per_boot(void **state)
{
    (void)state;
    struct world w;
    struct tb_boot_record rec;
    world_init(&w, TB_STRATEGY_SWAP, g_slot, false);
    struct tb_signed v1 = make_image(1, g_img_kib), v2 = make_image(2, g_img_kib);
    put_image(&w, false, &v1);
    put_image(&w, true, &v2);
    const uint32_t h1 = hashed_by_validation(&w, &w.lay.img[0].primary);
    const uint32_t h2 = hashed_by_validation(&w, &w.lay.img[0].secondary);
    const uint32_t key = w.key.der_len;
    /* nothing to do: the primary is hashed, then its signature checked before it boots */
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].sig_checks, 1);
    assert_int_equal(rec.img[0].hashed_bytes, 2 * h1 + key);
    /* upgrade: old primary (hash), secondary (hash + signature), new primary (hash) */
    assert_int_equal(tb_boot_request(&w.cfg, 0, false), TB_OK);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_UPGRADE_TEST);
    assert_int_equal(rec.img[0].sig_checks, 1);
    assert_int_equal(rec.img[0].hashed_bytes, h1 + 2 * h2 + key);
    /* revert: test image (hash), backup (hash + signature), restored primary (hash) */
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_REVERT);
    assert_int_equal(rec.img[0].sig_checks, 1);
    assert_int_equal(rec.img[0].hashed_bytes, h2 + 2 * h1 + key);
    assert_runs(&rec, &v1, true);
    /* a primary that hashes right but is signed by an unknown key is not
     * booted on the strength of its hash: the backup comes back */
    struct tb_signed bad = make_signed_opts(&(struct tb_sign_opts){.version = {3, 0, 0, 0}, .slot_size = g_slot},
                                            g_img_kib, 5, "key-ecdsa-p256.pem");
    put_image(&w, false, &bad);
    assert_int_equal(boot(&w, &rec), TB_OK);
    assert_int_equal(rec.img[0].action, TB_ACT_RECOVERED);
    assert_int_equal(rec.img[0].reason, TB_E_IMG_UNKNOWN_KEY);
    assert_memory_not_equal(rec.img[0].to_hash, image_hash(&bad), 32);
    tb_signed_free(&bad);
    tb_signed_free(&v1);
    tb_signed_free(&v2);
    world_free(&w);
}

int main(void)
{
    const char *big = getenv("TB_SWEEP_BIG");
    if (big != NULL && big[0] == '1') {
        g_big = true;
        g_slot = 0xe0000; /* the DK's 896 KiB slots */
        g_img_kib = 768;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_trailer_bytes),
        cmocka_unit_test(test_layout_checks),
        cmocka_unit_test(test_journal_torn_entries),
        cmocka_unit_test(test_upgrade_revert_confirm),
        cmocka_unit_test(test_one_signature_check_per_boot),
        cmocka_unit_test(test_retest_keeps_confirmed),
        cmocka_unit_test(test_max_test_boots),
        cmocka_unit_test(test_overwrite_strategy),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_no_bootable_and_recovery),
        cmocka_unit_test(test_cut_during_confirm),
        cmocka_unit_test(test_sweep_test_upgrade),
        cmocka_unit_test(test_sweep_permanent_upgrade),
        cmocka_unit_test(test_sweep_revert),
        cmocka_unit_test(test_sweep_overwrite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
