/* Tests of the simulated NOR flash and the simulated nRF5340 DK (sim/). */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sys/stat.h>

#include "twinboot/error.h"
#include "twinboot/sim.h"

/* A small flash with the NVMC geometry and timing, on its own power. */
#define SMALL_SIZE (64u * 1024u)
#define SMALL_SECTOR 4096u
#define SMALL_WS 4u

struct small {
    struct tb_sim_power pw;
    struct tb_simflash sf;
};

static const struct tb_sim_timing nvmc_timing = {
    .erase_ns = 87500000u, .prog_ns = 41000u, .prog_unit = 4u, .read_ns_per_kib = 0u};

static int small_setup(void **state)
{
    struct small *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -1;
    if (tb_simflash_init(&s->sf, "small", SMALL_SIZE, SMALL_SECTOR, SMALL_WS, &nvmc_timing,
                         &s->pw) != TB_OK) {
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int small_teardown(void **state)
{
    struct small *s = *state;
    tb_simflash_free(&s->sf);
    free(s);
    return 0;
}

static int dev_setup(void **state)
{
    struct tb_simdev *d = malloc(sizeof(*d));
    if (d == NULL)
        return -1;
    if (tb_simdev_init(d) != TB_OK) {
        free(d);
        return -1;
    }
    *state = d;
    return 0;
}

static int dev_teardown(void **state)
{
    struct tb_simdev *d = *state;
    tb_simdev_free(d);
    free(d);
    return 0;
}

/* A pattern with plenty of 0 and 1 bits and no all-0xff write block. */
static void fill_pattern(uint8_t *p, size_t len, unsigned salt)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)((i * 131u + salt * 29u + 7u) ^ (i >> 3));
    for (size_t i = 0; i < len; i += 4)
        p[i] &= 0x7f;
}

static bool all_ff(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != 0xff)
            return false;
    return true;
}

/* ---- geometry and init ---- */

static void test_init_validates_geometry(void **state)
{
    (void)state;
    struct tb_sim_power pw = {0};
    struct tb_simflash sf;
    struct tb_sim_timing bad_unit = nvmc_timing;
    bad_unit.prog_unit = 0;

    assert_int_equal(tb_simflash_init(&sf, "x", 0, 4096, 4, &nvmc_timing, &pw), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, "x", 8192, 0, 4, &nvmc_timing, &pw), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, "x", 8192, 4096, 0, &nvmc_timing, &pw), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, "x", 10000, 4096, 4, &nvmc_timing, &pw), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, "x", 8192, 4096, 3, &nvmc_timing, &pw), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, "x", 8192, 2, 4, &nvmc_timing, &pw), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, "x", 8192, 4096, 4, NULL, &pw), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, "x", 8192, 4096, 4, &nvmc_timing, NULL), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, NULL, 8192, 4096, 4, &nvmc_timing, &pw), TB_E_INVAL);
    assert_int_equal(tb_simflash_init(&sf, "x", 8192, 4096, 4, &bad_unit, &pw), TB_E_INVAL);
    tb_simflash_free(&sf); /* safe after a failed init */

    assert_int_equal(tb_simflash_init(&sf, "x", 8192, 4096, 4, &nvmc_timing, &pw), TB_OK);
    assert_int_equal(sf.flash.size, 8192);
    assert_int_equal(sf.flash.sector_size, 4096);
    assert_int_equal(sf.flash.write_size, 4);
    assert_int_equal(sf.flash.erased_val, 0xff);
    assert_true(all_ff(sf.mem, 8192));
    tb_simflash_free(&sf);
}

static void test_nrf5340_table(void **state)
{
    (void)state;
    const struct tb_sim_part *p = tb_sim_nrf5340_parts;
    assert_string_equal(p[TB_SIM_APP].file, "app.bin");
    assert_int_equal(p[TB_SIM_APP].size, 1048576);
    assert_int_equal(p[TB_SIM_APP].sector_size, 4096);
    assert_int_equal(p[TB_SIM_APP].write_size, 4);
    assert_string_equal(p[TB_SIM_NET].file, "net.bin");
    assert_int_equal(p[TB_SIM_NET].size, 262144);
    assert_int_equal(p[TB_SIM_NET].sector_size, 2048);
    assert_int_equal(p[TB_SIM_NET].write_size, 4);
    assert_string_equal(p[TB_SIM_QSPI].file, "qspi.bin");
    assert_int_equal(p[TB_SIM_QSPI].size, 8388608);
    assert_int_equal(p[TB_SIM_QSPI].sector_size, 4096);
    assert_int_equal(p[TB_SIM_QSPI].write_size, 4);
    assert_int_equal(p[TB_SIM_QSPI].timing.prog_unit, 256);
    assert_int_equal(p[TB_SIM_QSPI].timing.read_ns_per_kib, 256000);
    /* only the external chip erases on its own */
    assert_false(p[TB_SIM_APP].timing.async_erase);
    assert_false(p[TB_SIM_NET].timing.async_erase);
    assert_true(p[TB_SIM_QSPI].timing.async_erase);
    assert_false(p[TB_SIM_APP].timing.async_program);
    assert_false(p[TB_SIM_NET].timing.async_program);
    assert_true(p[TB_SIM_QSPI].timing.async_program);
}

/* ---- NOR semantics ---- */

static void test_erase_sets_ff(void **state)
{
    struct small *s = *state;
    const struct tb_flash *f = &s->sf.flash;
    uint8_t data[SMALL_SECTOR], back[SMALL_SECTOR];

    fill_pattern(data, sizeof(data), 1);
    assert_int_equal(f->program(f, SMALL_SECTOR, data, sizeof(data)), TB_OK);
    assert_int_equal(f->program(f, 2 * SMALL_SECTOR, data, sizeof(data)), TB_OK);
    assert_int_equal(f->read(f, SMALL_SECTOR, back, sizeof(back)), TB_OK);
    assert_memory_equal(back, data, sizeof(data));

    assert_int_equal(f->erase(f, SMALL_SECTOR), TB_OK);
    assert_int_equal(f->read(f, SMALL_SECTOR, back, sizeof(back)), TB_OK);
    assert_true(all_ff(back, sizeof(back)));
    /* only that sector */
    assert_int_equal(f->read(f, 2 * SMALL_SECTOR, back, sizeof(back)), TB_OK);
    assert_memory_equal(back, data, sizeof(data));
    /* its written flags are cleared: programming again works */
    assert_int_equal(f->program(f, SMALL_SECTOR, data, sizeof(data)), TB_OK);
    assert_int_equal(f->program(f, 2 * SMALL_SECTOR, data, 4), TB_E_REPROGRAM);
}

static void test_program_only_clears_bits(void **state)
{
    struct small *s = *state;
    const struct tb_flash *f = &s->sf.flash;
    const uint8_t old[4] = {0x3c, 0xa5, 0x00, 0xff};
    const uint8_t data[4] = {0xf0, 0x5a, 0xff, 0x81};
    uint8_t back[4];

    /* an unflagged block holding non-erased bits (as after a power-up with
     * garbage): set it up directly to observe the AND */
    memcpy(s->sf.mem + 64, old, 4);
    assert_int_equal(f->program(f, 64, data, 4), TB_OK);
    assert_int_equal(f->read(f, 64, back, 4), TB_OK);
    assert_int_equal(back[0], 0x30);
    assert_int_equal(back[1], 0x00);
    assert_int_equal(back[2], 0x00);
    assert_int_equal(back[3], 0x81);
    assert_int_equal(s->sf.written[64 / SMALL_WS], 1);
}

static void test_alignment_and_range(void **state)
{
    struct small *s = *state;
    const struct tb_flash *f = &s->sf.flash;
    uint8_t buf[16] = {0};

    assert_int_equal(f->program(f, 2, buf, 4), TB_E_ALIGN);
    assert_int_equal(f->program(f, 0, buf, 3), TB_E_ALIGN);
    assert_int_equal(f->program(f, 4, buf, 6), TB_E_ALIGN);
    assert_int_equal(f->erase(f, 100), TB_E_ALIGN);
    assert_int_equal(f->erase(f, SMALL_SECTOR / 2), TB_E_ALIGN);

    assert_int_equal(f->read(f, SMALL_SIZE - 1, buf, 2), TB_E_RANGE);
    assert_int_equal(f->read(f, SMALL_SIZE + 1, buf, 0), TB_E_RANGE);
    assert_int_equal(f->read(f, 0xffffffffu, buf, 2), TB_E_RANGE); /* off + len overflows */
    assert_int_equal(f->program(f, SMALL_SIZE, buf, 4), TB_E_RANGE);
    assert_int_equal(f->program(f, SMALL_SIZE - 4, buf, 8), TB_E_RANGE);
    assert_int_equal(f->program(f, 0xfffffffcu, buf, 8), TB_E_RANGE);
    assert_int_equal(f->erase(f, SMALL_SIZE), TB_E_RANGE);
    assert_int_equal(f->erase(f, 0xfffff000u), TB_E_RANGE);

    /* edges are fine; a zero-length program is accepted */
    assert_int_equal(f->read(f, SMALL_SIZE - 2, buf, 2), TB_OK);
    assert_int_equal(f->read(f, SMALL_SIZE, buf, 0), TB_OK);
    assert_int_equal(f->program(f, SMALL_SIZE - 4, buf, 4), TB_OK);
    assert_int_equal(f->program(f, 8, buf, 0), TB_OK);
    assert_int_equal(f->program(f, 8, NULL, 0), TB_OK);
    assert_int_equal(f->erase(f, SMALL_SIZE - SMALL_SECTOR), TB_OK);

    /* refused calls are not operations: only the program and the erase count */
    assert_int_equal(s->pw.ops, 2);
    assert_int_equal(s->sf.cnt.prog_ops, 1);
    assert_int_equal(s->sf.cnt.erases, 1);
}

static void test_reprogram_refused_and_changes_nothing(void **state)
{
    struct small *s = *state;
    const struct tb_flash *f = &s->sf.flash;
    uint8_t a[8], b[8], before[SMALL_SECTOR], after[SMALL_SECTOR];

    fill_pattern(a, sizeof(a), 2);
    fill_pattern(b, sizeof(b), 3);
    assert_int_equal(f->program(f, 8, a, 8), TB_OK); /* blocks 8 and 12 */
    uint64_t ops = s->pw.ops;
    struct tb_sim_counters cnt = s->sf.cnt;
    assert_int_equal(f->read(f, 0, before, sizeof(before)), TB_OK);

    /* each range mixes a fresh block and a written one, in either order:
     * refused as a whole, the fresh block is left untouched */
    assert_int_equal(f->program(f, 4, b, 8), TB_E_REPROGRAM);  /* 4 fresh, 8 written */
    assert_int_equal(f->program(f, 12, b, 8), TB_E_REPROGRAM); /* 12 written, 16 fresh */
    assert_int_equal(f->program(f, 8, b, 4), TB_E_REPROGRAM);
    assert_int_equal(f->read(f, 0, after, sizeof(after)), TB_OK);
    assert_memory_equal(before, after, sizeof(before));
    assert_int_equal(s->sf.written[4 / SMALL_WS], 0);
    assert_int_equal(s->sf.written[16 / SMALL_WS], 0);
    assert_int_equal(s->pw.ops, ops);
    assert_int_equal(s->sf.cnt.prog_ops, cnt.prog_ops);
    assert_int_equal(s->sf.cnt.busy_ns, cnt.busy_ns);

    /* data into the fresh block and 0xff over the written one: accepted */
    uint8_t c[8] = {0x12, 0x34, 0x56, 0x78, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(f->program(f, 4, c, 8), TB_OK);
    assert_int_equal(f->read(f, 0, after, 20), TB_OK);
    assert_true(all_ff(after, 4));
    assert_memory_equal(after + 4, c, 4);
    assert_memory_equal(after + 8, a, 8);
    assert_true(all_ff(after + 16, 4));
}

static void test_ff_writes_allowed(void **state)
{
    struct small *s = *state;
    const struct tb_flash *f = &s->sf.flash;
    uint8_t ff[64], data[64], back[64];

    memset(ff, 0xff, sizeof(ff));
    fill_pattern(data, sizeof(data), 4);
    /* 0xff on an erased range: no flag set, a real program still works */
    assert_int_equal(f->program(f, 128, ff, sizeof(ff)), TB_OK);
    assert_int_equal(s->sf.written[128 / SMALL_WS], 0);
    assert_int_equal(f->program(f, 128, data, sizeof(data)), TB_OK);
    /* 0xff over written data: allowed, changes nothing */
    assert_int_equal(f->program(f, 128, ff, sizeof(ff)), TB_OK);
    assert_int_equal(f->read(f, 128, back, sizeof(back)), TB_OK);
    assert_memory_equal(back, data, sizeof(data));
    /* it is still a program operation on the bus */
    assert_int_equal(s->sf.cnt.prog_ops, 3);
}

/* ---- power cuts ---- */

static void test_power_cut_program(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *f = &d->fl[TB_SIM_APP].flash;
    static uint8_t a[4096], b[4096], back[4096];
    uint8_t tmp[16];

    fill_pattern(a, sizeof(a), 5);
    fill_pattern(b, sizeof(b), 6);
    tb_simdev_arm_cut(d, 3, 0x1234);

    assert_int_equal(f->erase(f, 0), TB_OK);            /* op 1 */
    assert_int_equal(f->program(f, 0, a, 4096), TB_OK); /* op 2 */
    assert_int_equal(f->program(f, 4096, b, 4096), TB_E_POWER); /* op 3: torn */
    assert_true(d->power.off);
    assert_int_equal(d->power.ops, 3);

    /* everything after fails and does nothing, reads and other flashes too */
    const struct tb_flash *q = &d->fl[TB_SIM_QSPI].flash;
    assert_int_equal(f->program(f, 8192, a, 16), TB_E_POWER);
    assert_int_equal(f->erase(f, 0), TB_E_POWER);
    assert_int_equal(f->read(f, 0, tmp, 16), TB_E_POWER);
    assert_int_equal(q->read(q, 0, tmp, 16), TB_E_POWER);
    assert_int_equal(q->program(q, 0, a, 16), TB_E_POWER);
    assert_int_equal(d->power.ops, 3);
    assert_int_equal(d->fl[TB_SIM_APP].cnt.read_ops, 0);
    assert_int_equal(d->fl[TB_SIM_APP].cnt.prog_ops, 2); /* the torn one counts */
    assert_int_equal(d->fl[TB_SIM_APP].cnt.busy_ns, 87500000u + 2u * 1024u * 41000u);
    assert_true(all_ff(d->fl[TB_SIM_APP].mem + 8192, 16));
    assert_true(all_ff(d->fl[TB_SIM_QSPI].mem, 16));

    tb_simdev_power_on(d);
    assert_false(d->power.off);
    assert_int_equal(d->power.ops, 0);
    assert_int_equal(d->power.cut_at, 0);

    /* ops before the cut were done exactly */
    assert_int_equal(f->read(f, 0, back, 4096), TB_OK);
    assert_memory_equal(back, a, 4096);

    /* the torn op: new & old <= result <= old, and neither pure old nor new */
    assert_int_equal(f->read(f, 4096, back, 4096), TB_OK);
    bool differs_new = false, differs_old = false;
    for (size_t i = 0; i < 4096; i++) {
        uint8_t old = 0xff, want = (uint8_t)(old & b[i]);
        assert_int_equal(back[i] & ~old & 0xff, 0);
        assert_int_equal(want & ~back[i] & 0xff, 0);
        if (back[i] != want)
            differs_new = true;
        if (back[i] != old)
            differs_old = true;
    }
    assert_true(differs_new);
    assert_true(differs_old);
    /* its blocks must be erased before they are programmed again */
    assert_int_equal(f->program(f, 4096, b, 4096), TB_E_REPROGRAM);
    assert_int_equal(f->erase(f, 4096), TB_OK);
    assert_int_equal(f->program(f, 4096, b, 4096), TB_OK);
}

/* Torn program of data over a non-erased old pattern, on a fresh flash. */
static void torn_program(uint64_t seed, uint8_t *out, size_t len)
{
    struct tb_sim_power pw = {.cut_at = 1, .seed = seed};
    struct tb_simflash sf;
    uint8_t *data = malloc(len);
    assert_non_null(data);
    assert_int_equal(tb_simflash_init(&sf, "t", SMALL_SIZE, SMALL_SECTOR, SMALL_WS, &nvmc_timing,
                                      &pw),
                     TB_OK);
    fill_pattern(sf.mem, len, 7); /* old content, unflagged */
    fill_pattern(data, len, 8);
    assert_int_equal(sf.flash.program(&sf.flash, 0, data, (uint32_t)len), TB_E_POWER);
    assert_true(pw.off);
    memcpy(out, sf.mem, len);
    tb_simflash_free(&sf);
    free(data);
}

static void test_torn_program_reproducible(void **state)
{
    (void)state;
    enum { N = 2048 };
    static uint8_t r1[N], r2[N], r3[N], old[N], data[N];

    fill_pattern(old, N, 7);
    fill_pattern(data, N, 8);
    torn_program(42, r1, N);
    torn_program(42, r2, N);
    torn_program(43, r3, N);
    assert_memory_equal(r1, r2, N);
    assert_memory_not_equal(r1, r3, N);

    bool differs_new = false, differs_old = false;
    for (size_t i = 0; i < N; i++) {
        uint8_t want = old[i] & data[i];
        assert_int_equal(r1[i] & ~old[i] & 0xff, 0);  /* result within old */
        assert_int_equal(want & ~r1[i] & 0xff, 0);    /* new bits within result */
        differs_new |= r1[i] != want;
        differs_old |= r1[i] != old[i];
    }
    assert_true(differs_new);
    assert_true(differs_old);
}

static void test_torn_erase(void **state)
{
    struct small *s = *state;
    const struct tb_flash *f = &s->sf.flash;
    static uint8_t old[SMALL_SECTOR], back[SMALL_SECTOR];
    const uint8_t zero[4] = {0};

    /* old: pattern in the first half, erased (and unflagged) second half */
    fill_pattern(old, sizeof(old), 9);
    memset(old + SMALL_SECTOR / 2, 0xff, SMALL_SECTOR / 2);
    assert_int_equal(f->program(f, SMALL_SECTOR, old, sizeof(old)), TB_OK);
    assert_int_equal(s->sf.written[(SMALL_SECTOR + SMALL_SECTOR / 2) / SMALL_WS], 0);
    s->pw.seed = 77;
    s->pw.cut_at = s->pw.ops + 1;
    assert_int_equal(f->erase(f, SMALL_SECTOR), TB_E_POWER);
    assert_true(s->pw.off);
    assert_int_equal(f->read(f, SMALL_SECTOR, back, 4), TB_E_POWER);
    assert_int_equal(s->sf.cnt.erases, 1);
    assert_int_equal(s->sf.sector_erases[1], 1);
    assert_int_equal(s->sf.cnt.busy_ns, 1024u * 41000u + 87500000u);

    s->pw.off = false; /* power back on */
    s->pw.cut_at = 0;
    s->pw.ops = 0;
    assert_int_equal(f->read(f, SMALL_SECTOR, back, sizeof(back)), TB_OK);
    size_t n_ff = 0;
    for (size_t i = 0; i < sizeof(back); i++) {
        assert_int_equal(back[i] & old[i], old[i]); /* bits only went to 1 */
        n_ff += back[i] == 0xff;
    }
    assert_true(n_ff > 0);
    assert_true(n_ff < sizeof(back));

    /* the whole sector is flagged, even blocks that happen to read 0xff */
    size_t b_ff = SIZE_MAX, b_not = SIZE_MAX;
    for (size_t b = 0; b < SMALL_SECTOR / SMALL_WS; b++) {
        assert_int_equal(s->sf.written[SMALL_SECTOR / SMALL_WS + b], 1);
        if (all_ff(back + b * SMALL_WS, SMALL_WS))
            b_ff = b;
        else
            b_not = b;
    }
    assert_true(b_not != SIZE_MAX);
    assert_true(b_ff != SIZE_MAX); /* the second half was erased before */
    assert_int_equal(f->program(f, SMALL_SECTOR + (uint32_t)b_not * SMALL_WS, zero, 4),
                     TB_E_REPROGRAM);
    assert_int_equal(f->program(f, SMALL_SECTOR + (uint32_t)b_ff * SMALL_WS, zero, 4),
                     TB_E_REPROGRAM);
    assert_int_equal(f->erase(f, SMALL_SECTOR), TB_OK);
    assert_int_equal(f->program(f, SMALL_SECTOR + (uint32_t)b_not * SMALL_WS, zero, 4), TB_OK);

    /* same seed and op number: the same torn erase */
    static uint8_t again[SMALL_SECTOR];
    assert_int_equal(f->erase(f, SMALL_SECTOR), TB_OK); /* op 3 */
    assert_int_equal(f->program(f, SMALL_SECTOR, old, sizeof(old)), TB_OK);
    s->pw.ops = 1; /* the first torn erase was op number 2: replay it */
    s->pw.cut_at = 2;
    assert_int_equal(f->erase(f, SMALL_SECTOR), TB_E_POWER);
    memcpy(again, s->sf.mem + SMALL_SECTOR, sizeof(again));
    assert_memory_equal(again, back, sizeof(back));
}

static void test_op_counting_across_flashes(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *app = &d->fl[TB_SIM_APP].flash;
    const struct tb_flash *net = &d->fl[TB_SIM_NET].flash;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;
    uint8_t data[16], back[16];

    fill_pattern(data, sizeof(data), 10);
    assert_int_equal(app->program(app, 0, data, 16), TB_OK);   /* op 1 */
    assert_int_equal(net->erase(net, 2048), TB_OK);            /* op 2 */
    assert_int_equal(qspi->program(qspi, 0, data, 16), TB_OK); /* op 3 */
    assert_int_equal(qspi->read(qspi, 0, back, 16), TB_OK);    /* reads do not count */
    assert_int_equal(d->power.ops, 3);

    /* 0 disarms */
    tb_simdev_arm_cut(d, 1, 5);
    assert_int_equal(d->power.cut_at, 4);
    tb_simdev_arm_cut(d, 0, 5);
    assert_int_equal(d->power.cut_at, 0);

    /* counted from the call: the 2nd op from now, on whichever flash */
    tb_simdev_arm_cut(d, 2, 5);
    assert_int_equal(d->power.cut_at, 5);
    assert_int_equal(net->program(net, 0, data, 16), TB_OK);  /* op 4 */
    assert_int_equal(qspi->erase(qspi, 4096), TB_E_POWER);    /* op 5: torn */
    assert_int_equal(app->read(app, 0, back, 16), TB_E_POWER);
    assert_int_equal(net->read(net, 0, back, 16), TB_E_POWER);
    assert_int_equal(d->power.ops, 5);
    assert_int_equal(d->fl[TB_SIM_QSPI].cnt.erases, 1);

    tb_simdev_power_on(d);
    assert_int_equal(app->read(app, 0, back, 16), TB_OK);
    assert_memory_equal(back, data, 16);
    assert_int_equal(net->read(net, 0, back, 16), TB_OK);
    assert_memory_equal(back, data, 16);
    assert_int_equal(app->erase(app, 0), TB_OK);
    assert_int_equal(d->power.ops, 1);
}

/* ---- counters and modelled time ---- */

static void test_counters_and_time(void **state)
{
    struct tb_simdev *d = *state;
    struct tb_simflash *sa = &d->fl[TB_SIM_APP], *sq = &d->fl[TB_SIM_QSPI];
    const struct tb_flash *app = &sa->flash, *qspi = &sq->flash;
    static uint8_t data[4096], back[4096];

    fill_pattern(data, sizeof(data), 11);
    /* app: 2 erases + 3 programs of 4096 B + 1 read */
    assert_int_equal(app->erase(app, 0), TB_OK);
    assert_int_equal(app->erase(app, 4096), TB_OK);
    assert_int_equal(app->program(app, 0, data, 4096), TB_OK);
    assert_int_equal(app->program(app, 4096, data, 4096), TB_OK);
    assert_int_equal(app->program(app, 8192, data, 4096), TB_OK);
    assert_int_equal(app->read(app, 0, back, 4096), TB_OK);
    assert_int_equal(sa->cnt.erases, 2);
    assert_int_equal(sa->cnt.prog_ops, 3);
    assert_int_equal(sa->cnt.bytes_programmed, 12288);
    assert_int_equal(sa->cnt.busy_ns, 2ull * 87500000ull + 3ull * 1024ull * 41000ull);
    assert_int_equal(sa->cnt.busy_ns, 300952000ull);
    assert_int_equal(sa->cnt.read_ops, 1);
    assert_int_equal(sa->cnt.bytes_read, 4096);
    assert_int_equal(sa->cnt.read_ns, 0); /* memory-mapped */

    /* QSPI: 1 erase + one 256 B page = 40 ms + 0.85 ms; reads at 250 ns/B */
    assert_int_equal(qspi->erase(qspi, 0), TB_OK);
    assert_int_equal(qspi->program(qspi, 0, data, 256), TB_OK);
    assert_int_equal(sq->cnt.busy_ns, 40850000ull);
    assert_int_equal(qspi->read(qspi, 0, back, 2048), TB_OK);
    assert_int_equal(qspi->read(qspi, 3, back, 1), TB_OK);
    assert_int_equal(sq->cnt.read_ops, 2);
    assert_int_equal(sq->cnt.bytes_read, 2049);
    assert_int_equal(sq->cnt.read_ns, 512000ull + 250ull);
    /* part of a page is prorated, rounded to nearest: 12 * 850000 / 256 = 39843.75 */
    assert_int_equal(qspi->program(qspi, 256, data, 12), TB_OK);
    assert_int_equal(sq->cnt.busy_ns, 40850000ull + 39844ull);
    /* 260 B = one whole page exactly + 4 B prorated (13281.25) */
    assert_int_equal(qspi->program(qspi, 512, data, 260), TB_OK);
    assert_int_equal(sq->cnt.busy_ns, 40850000ull + 39844ull + 850000ull + 13281ull);

    /* the other flash is untouched */
    assert_int_equal(d->fl[TB_SIM_NET].cnt.busy_ns, 0);

    tb_simdev_reset_counters(d);
    assert_int_equal(sa->cnt.busy_ns, 0);
    assert_int_equal(sa->cnt.erases, 0);
    assert_int_equal(sq->cnt.read_ns, 0);
    assert_int_equal(sq->cnt.bytes_programmed, 0);
    assert_int_equal(tb_simflash_max_sector_erases(sa), 0);
}

/* ---- elapsed time with overlap (device clock) ---- */

static void test_clock_qspi_erase_overlaps_app_erase(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *app = &d->fl[TB_SIM_APP].flash;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;

    assert_int_equal(tb_simdev_elapsed_ns(d), 0);
    /* QSPI erase issued at 0: the CPU goes on at once, the chip is busy to 40 ms */
    assert_int_equal(qspi->erase(qspi, 0), TB_OK);
    assert_int_equal(d->power.now_ns, 0);
    assert_int_equal(d->fl[TB_SIM_QSPI].busy_until_ns, 40000000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 40000000ull);
    /* app erase 0 .. 87.5 ms, the CPU stalls: the QSPI erase is hidden under it */
    assert_int_equal(app->erase(app, 0), TB_OK);
    assert_int_equal(d->power.now_ns, 87500000ull);
    assert_int_equal(d->fl[TB_SIM_APP].busy_until_ns, 87500000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 87500000ull);
    /* the busy_ns sums are unchanged: 40 + 87.5 = 127.5 ms of part time */
    assert_int_equal(d->fl[TB_SIM_QSPI].cnt.busy_ns + d->fl[TB_SIM_APP].cnt.busy_ns,
                     127500000ull);
}

static void test_clock_program_waits_for_erase(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;
    uint8_t data[256];

    fill_pattern(data, sizeof(data), 13);
    /* erase 0 .. 40 ms; the page program waits for it: 40 .. 40.85 ms; the
     * chip programs the page on its own, so the CPU goes on at 40 ms */
    assert_int_equal(qspi->erase(qspi, 0), TB_OK);
    assert_int_equal(qspi->program(qspi, 0, data, 256), TB_OK);
    assert_int_equal(d->power.now_ns, 40000000ull);
    assert_int_equal(d->fl[TB_SIM_QSPI].busy_until_ns, 40850000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 40850000ull);
    assert_int_equal(d->fl[TB_SIM_QSPI].cnt.busy_ns, 40850000ull);
}

static void test_clock_second_qspi_erase_waits(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *app = &d->fl[TB_SIM_APP].flash;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;

    assert_int_equal(app->erase(app, 0), TB_OK);      /* 0 .. 87.5 ms */
    assert_int_equal(qspi->erase(qspi, 0), TB_OK);    /* 87.5 .. 127.5 ms */
    assert_int_equal(d->power.now_ns, 87500000ull);
    assert_int_equal(qspi->erase(qspi, 4096), TB_OK); /* waits: 127.5 .. 167.5 ms */
    assert_int_equal(d->power.now_ns, 127500000ull);
    assert_int_equal(d->fl[TB_SIM_QSPI].busy_until_ns, 167500000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 167500000ull);
}

static void test_clock_reads(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *app = &d->fl[TB_SIM_APP].flash;
    const struct tb_flash *net = &d->fl[TB_SIM_NET].flash;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;
    static uint8_t data[4096], back[4096];

    fill_pattern(data, sizeof(data), 14);
    assert_int_equal(qspi->erase(qspi, 0), TB_OK); /* chip busy 0 .. 40 ms */
    /* memory-mapped reads take no time and wait for nothing */
    assert_int_equal(app->read(app, 0, back, 4096), TB_OK);
    assert_int_equal(d->power.now_ns, 0);
    /* a zero-length QSPI read has zero modelled time: no wait either */
    assert_int_equal(qspi->read(qspi, 0, back, 0), TB_OK);
    assert_int_equal(d->power.now_ns, 0);
    /* net program of 16 B = 4 words * 41 us, during the QSPI erase: 0 .. 164 us */
    assert_int_equal(net->program(net, 0, data, 16), TB_OK);
    assert_int_equal(d->power.now_ns, 164000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 40000000ull);
    /* QSPI read of 4096 B = 4 * 256 us waits for the erase: 40 .. 41.024 ms */
    assert_int_equal(qspi->read(qspi, 0, back, 4096), TB_OK);
    assert_int_equal(d->power.now_ns, 41024000ull);
    assert_int_equal(d->fl[TB_SIM_QSPI].busy_until_ns, 41024000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 41024000ull);
    assert_int_equal(d->fl[TB_SIM_QSPI].cnt.read_ns, 1024000ull);
}

static void test_clock_cpu_bound(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *app = &d->fl[TB_SIM_APP].flash;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;
    static uint8_t data[4096];

    fill_pattern(data, sizeof(data), 15);
    assert_int_equal(qspi->erase(qspi, 0), TB_OK);             /* chip 0 .. 40 ms */
    assert_int_equal(app->program(app, 0, data, 4096), TB_OK); /* 1024 words: 0 .. 41.984 ms */
    assert_int_equal(d->power.now_ns, 41984000ull);
    /* the erase is over by now: the page program starts at once, 41.984 .. 42.834 ms */
    assert_int_equal(qspi->program(qspi, 0, data, 256), TB_OK);
    assert_int_equal(d->power.now_ns, 41984000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 42834000ull);
    /* 16 pages in one call: the CPU waits for 15 of them, the last runs on:
     * starts 42.834, CPU free at 42.834 + 15 * 0.85 = 55.584, chip busy to 56.434 ms */
    assert_int_equal(qspi->program(qspi, 4096, data, 4096), TB_OK);
    assert_int_equal(d->power.now_ns, 55584000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 56434000ull);
}

static void test_clock_refused_ops_take_no_time(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *app = &d->fl[TB_SIM_APP].flash;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;
    uint8_t data[16], back[16];

    fill_pattern(data, sizeof(data), 16);
    assert_int_equal(app->program(app, 0, data, 16), TB_OK); /* 0 .. 164 us */
    assert_int_equal(qspi->erase(qspi, 0), TB_OK);           /* chip 164 us .. 40.164 ms */
    assert_int_equal(d->power.now_ns, 164000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 40164000ull);

    assert_int_equal(app->program(app, 2, data, 4), TB_E_ALIGN);
    assert_int_equal(qspi->program(qspi, 0, data, 6), TB_E_ALIGN);
    assert_int_equal(app->erase(app, 100), TB_E_ALIGN);
    assert_int_equal(qspi->erase(qspi, 2048), TB_E_ALIGN);
    assert_int_equal(qspi->erase(qspi, 8u * 1024u * 1024u), TB_E_RANGE);
    assert_int_equal(qspi->read(qspi, 8u * 1024u * 1024u - 4u, back, 8), TB_E_RANGE);
    assert_int_equal(app->program(app, 0, data, 16), TB_E_REPROGRAM);
    assert_int_equal(qspi->program(qspi, 0, data, 0), TB_OK); /* zero-length: no operation */
    assert_int_equal(d->power.now_ns, 164000ull);
    assert_int_equal(d->fl[TB_SIM_APP].busy_until_ns, 164000ull);
    assert_int_equal(d->fl[TB_SIM_QSPI].busy_until_ns, 40164000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 40164000ull);

    /* nor does anything after a power cut; the torn op takes its full time */
    tb_simdev_arm_cut(d, 1, 9);
    assert_int_equal(app->erase(app, 4096), TB_E_POWER); /* 164 us .. 87.664 ms */
    assert_int_equal(d->power.now_ns, 87664000ull);
    assert_int_equal(qspi->read(qspi, 0, back, 16), TB_E_POWER);
    assert_int_equal(qspi->erase(qspi, 4096), TB_E_POWER);
    assert_int_equal(d->power.now_ns, 87664000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 87664000ull);

    /* power on is a reset: the clock restarts at 0 */
    tb_simdev_power_on(d);
    assert_int_equal(d->power.now_ns, 0);
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        assert_int_equal(d->fl[i].busy_until_ns, 0);
    assert_int_equal(tb_simdev_elapsed_ns(d), 0);
    assert_int_equal(qspi->erase(qspi, 4096), TB_OK);
    assert_int_equal(tb_simdev_elapsed_ns(d), 40000000ull);
}

static void test_clock_reset_counters(void **state)
{
    struct tb_simdev *d = *state;
    const struct tb_flash *app = &d->fl[TB_SIM_APP].flash;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;

    assert_int_equal(app->erase(app, 0), TB_OK);
    assert_int_equal(qspi->erase(qspi, 0), TB_OK);
    assert_int_equal(tb_simdev_elapsed_ns(d), 127500000ull);

    /* one flash's counters: the device clock is left alone */
    tb_simflash_reset_counters(&d->fl[TB_SIM_QSPI]);
    assert_int_equal(d->fl[TB_SIM_QSPI].cnt.busy_ns, 0);
    assert_int_equal(d->fl[TB_SIM_QSPI].busy_until_ns, 127500000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 127500000ull);

    tb_simdev_reset_counters(d);
    assert_int_equal(d->power.now_ns, 0);
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        assert_int_equal(d->fl[i].busy_until_ns, 0);
    assert_int_equal(tb_simdev_elapsed_ns(d), 0);
    /* the pending erase is forgotten: a QSPI erase starts at 0 again */
    assert_int_equal(qspi->erase(qspi, 4096), TB_OK);
    assert_int_equal(d->fl[TB_SIM_QSPI].busy_until_ns, 40000000ull);
    assert_int_equal(tb_simdev_elapsed_ns(d), 40000000ull);
}

/* Two flashes sharing a power supply outside a tb_simdev: the clock is the power's. */
static void test_clock_standalone_flashes(void **state)
{
    (void)state;
    struct tb_sim_power pw = {0};
    struct tb_simflash a, b;
    struct tb_sim_timing async_timing = {
        .erase_ns = 1000u, .prog_ns = 10u, .prog_unit = 4u, .read_ns_per_kib = 0u,
        .async_erase = true};
    const uint8_t w[4] = {0};

    assert_int_equal(tb_simflash_init(&a, "a", 8192, 4096, 4, &async_timing, &pw), TB_OK);
    assert_int_equal(tb_simflash_init(&b, "b", 8192, 4096, 4, &nvmc_timing, &pw), TB_OK);
    assert_int_equal(a.flash.erase(&a.flash, 0), TB_OK);         /* a busy 0 .. 1000 */
    assert_int_equal(b.flash.program(&b.flash, 0, w, 4), TB_OK); /* 0 .. 41000 */
    assert_int_equal(pw.now_ns, 41000ull);
    assert_int_equal(a.flash.erase(&a.flash, 4096), TB_OK);      /* 41000 .. 42000 */
    assert_int_equal(a.busy_until_ns, 42000ull);
    assert_int_equal(a.flash.program(&a.flash, 4096, w, 4), TB_OK); /* 42000 .. 42010 */
    assert_int_equal(pw.now_ns, 42010ull);
    assert_int_equal(a.cnt.busy_ns, 2010ull);
    tb_simflash_free(&a);
    tb_simflash_free(&b);
}

static void test_max_sector_erases(void **state)
{
    struct small *s = *state;
    const struct tb_flash *f = &s->sf.flash;

    assert_int_equal(tb_simflash_max_sector_erases(&s->sf), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->erase(f, 3 * SMALL_SECTOR), TB_OK);
    assert_int_equal(f->erase(f, 5 * SMALL_SECTOR), TB_OK);
    assert_int_equal(f->erase(f, 15 * SMALL_SECTOR), TB_OK);
    assert_int_equal(f->erase(f, 15 * SMALL_SECTOR), TB_OK);
    assert_int_equal(s->sf.sector_erases[3], 3);
    assert_int_equal(s->sf.sector_erases[5], 1);
    assert_int_equal(s->sf.sector_erases[15], 2);
    assert_int_equal(tb_simflash_max_sector_erases(&s->sf), 3);
    assert_int_equal(s->sf.cnt.erases, 6);

    tb_simflash_reset_counters(&s->sf);
    assert_int_equal(tb_simflash_max_sector_erases(&s->sf), 0);
    assert_int_equal(s->sf.sector_erases[3], 0);
    assert_int_equal(s->sf.cnt.erases, 0);
    assert_int_equal(s->sf.cnt.busy_ns, 0);
}

/* ---- save / load ---- */

static void rm_device_dir(const char *dir)
{
    char path[512];
    const char *extra[] = {"app.bin", "net.bin", "qspi.bin", "extra.txt", "lock", "save.log", "save.log.tmp"};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        assert_true(snprintf(path, sizeof(path), "%s/%s", dir, extra[i]) < (int)sizeof(path));
        (void)unlink(path); /* may be absent in the error cases */
    }
}

static void test_save_load_round_trip(void **state)
{
    struct tb_simdev *d = *state;
    char base[] = "/tmp/tb_simflash_XXXXXX";
    char dir[512];
    uint8_t data[64];
    assert_non_null(mkdtemp(base));
    /* a nested directory that does not exist yet */
    assert_true(snprintf(dir, sizeof(dir), "%s/dev/a", base) < (int)sizeof(dir));

    fill_pattern(data, sizeof(data), 12);
    const struct tb_flash *app = &d->fl[TB_SIM_APP].flash;
    const struct tb_flash *net = &d->fl[TB_SIM_NET].flash;
    const struct tb_flash *qspi = &d->fl[TB_SIM_QSPI].flash;
    assert_int_equal(app->program(app, 0x10000, data, 64), TB_OK);
    assert_int_equal(net->program(net, 0x800, data, 32), TB_OK);
    assert_int_equal(qspi->program(qspi, 0x7ffc0, data, 64), TB_OK);
    /* a block holding one non-0xff byte still counts as written after load */
    const uint8_t one[4] = {0xff, 0xff, 0xfe, 0xff};
    assert_int_equal(app->program(app, 0x20000, one, 4), TB_OK);
    assert_int_equal(tb_simdev_save(d, dir), TB_OK);
    /* saving again over existing files works (temp + rename) */
    assert_int_equal(tb_simdev_save(d, dir), TB_OK);

    struct tb_simdev *e = malloc(sizeof(*e));
    assert_non_null(e);
    assert_int_equal(tb_simdev_init(e), TB_OK);
    assert_int_equal(tb_simdev_load(e, dir), TB_OK);
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        assert_memory_equal(e->fl[i].mem, d->fl[i].mem, d->fl[i].flash.size);
        assert_memory_equal(e->fl[i].written, d->fl[i].written,
                            d->fl[i].flash.size / d->fl[i].flash.write_size);
    }
    const struct tb_flash *eapp = &e->fl[TB_SIM_APP].flash;
    const struct tb_flash *eq = &e->fl[TB_SIM_QSPI].flash;
    /* derived flags: programmed blocks refuse, erased ones accept */
    assert_int_equal(eapp->program(eapp, 0x10000, data, 4), TB_E_REPROGRAM);
    assert_int_equal(eapp->program(eapp, 0x20000, data, 4), TB_E_REPROGRAM);
    assert_int_equal(eq->program(eq, 0x7ffc0 + 60, data, 4), TB_E_REPROGRAM);
    assert_int_equal(eapp->program(eapp, 0x10000 + 64, data, 4), TB_OK);
    assert_int_equal(eq->program(eq, 0x80000, data, 4), TB_OK);

    /* a wrong-size file (longer or shorter) is refused and leaves the
     * device as it was */
    char path[600];
    assert_true(snprintf(path, sizeof(path), "%s/net.bin", dir) < (int)sizeof(path));
    uint8_t before = e->fl[TB_SIM_APP].mem[0x10000 + 64];
    assert_int_equal(truncate(path, 256 * 1024 + 1), 0);
    assert_int_equal(tb_simdev_load(e, dir), TB_E_IO);
    assert_int_equal(truncate(path, 1000), 0);
    assert_int_equal(tb_simdev_load(e, dir), TB_E_IO);
    assert_int_equal(e->fl[TB_SIM_APP].mem[0x10000 + 64], before);
    /* a missing file too */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(tb_simdev_load(e, dir), TB_E_IO);
    tb_simdev_free(e);
    free(e);

    rm_device_dir(dir);
    assert_int_equal(rmdir(dir), 0); /* no temp file was left behind */
    assert_true(snprintf(dir, sizeof(dir), "%s/dev", base) < (int)sizeof(dir));
    assert_int_equal(rmdir(dir), 0);
    assert_int_equal(rmdir(base), 0);
}

/* cp from/{app,net,qspi}.bin and extra.txt to, a directory made if needed */
static void copy_device_dir(const char *from, const char *to)
{
    static const char *files[] = {"app.bin", "net.bin", "qspi.bin", "extra.txt"};
    (void)mkdir(to, 0777);
    for (size_t i = 0; i < 4; i++) {
        char a[600], b[600];
        snprintf(a, sizeof(a), "%s/%s", from, files[i]);
        snprintf(b, sizeof(b), "%s/%s", to, files[i]);
        FILE *in = fopen(a, "rb"), *out = fopen(b, "wb");
        assert_non_null(in);
        assert_non_null(out);
        static uint8_t buf[1 << 16];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
            assert_int_equal(fwrite(buf, 1, n, out), n);
        }
        fclose(in);
        assert_int_equal(fclose(out), 0);
    }
}

/* The state a device directory holds: each flash's bytes and one extra file. */
static bool dir_holds(const char *dir, struct tb_simdev *ref, const char *extra)
{
    struct tb_simdev *e = malloc(sizeof(*e));
    assert_non_null(e);
    assert_int_equal(tb_simdev_init(e), TB_OK);
    char err[256];
    int rc = tb_simdev_load_err(e, dir, err, sizeof(err));
    if (rc != TB_OK) {
        fail_msg("load after an interrupted save: %s", err);
    }
    bool same = true;
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        same = same && memcmp(e->fl[i].mem, ref->fl[i].mem, ref->fl[i].flash.size) == 0;
    }
    tb_simdev_free(e);
    free(e);
    char p[600], got[64] = {0};
    snprintf(p, sizeof(p), "%s/extra.txt", dir);
    FILE *f = fopen(p, "r");
    if (f != NULL) {
        size_t n = fread(got, 1, sizeof(got) - 1, f);
        got[n] = '\0';
        fclose(f);
    }
    return same && strcmp(got, extra) == 0;
}

/* A save stopped at every step that changes the disk (as a crash or kill -9
 * would stop it): the directory then holds the state before the save, or the
 * state after it, flashes and extra file together; never a mix. */
static void test_save_all_or_nothing_sweep(void **state)
{
    (void)state;
    char base[] = "/tmp/tb_simsave_XXXXXX";
    char dir[512];
    assert_non_null(mkdtemp(base));
    snprintf(dir, sizeof(dir), "%s/dev", base);
    struct tb_simdev *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(tb_simdev_init(a), TB_OK);
    assert_int_equal(tb_simdev_init(b), TB_OK);
    uint8_t data[4096];
    fill_pattern(data, sizeof(data), 21);
    const struct tb_flash *aq = &a->fl[TB_SIM_QSPI].flash, *aa = &a->fl[TB_SIM_APP].flash;
    assert_int_equal(aa->program(aa, 0x10000, data, 4096), TB_OK);
    assert_int_equal(aq->program(aq, 0x100000, data, 4096), TB_OK);
    /* B: state A with a sector changed on each of two flashes (a confirm and a backup, say) */
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        memcpy(b->fl[i].mem, a->fl[i].mem, a->fl[i].flash.size);
    }
    const struct tb_flash *bq = &b->fl[TB_SIM_QSPI].flash, *ba = &b->fl[TB_SIM_APP].flash;
    fill_pattern(data, sizeof(data), 22);
    assert_int_equal(ba->erase(ba, 0x10000), TB_OK);
    assert_int_equal(ba->program(ba, 0x10000, data, 4096), TB_OK);
    assert_int_equal(bq->erase(bq, 0x100000), TB_OK);
    assert_int_equal(bq->program(bq, 0x100000 + 2048, data, 256), TB_OK);
    struct tb_sim_file xa = {"extra.txt", "state A", 7}, xb = {"extra.txt", "state B", 7};

    /* state A once, in a directory of its own; each round starts from a copy */
    char gold[512];
    snprintf(gold, sizeof(gold), "%s/gold", base);
    assert_int_equal(tb_simdev_save_files(a, gold, &xa, 1, NULL, 0), TB_OK);
    unsigned before = 0, after = 0;
    for (uint32_t k = 1;; k++) {
        rm_device_dir(dir);
        copy_device_dir(gold, dir);
        /* B's save, with what the disk holds known to be A */
        assert_int_equal(tb_simdev_load(b, dir), TB_OK);
        for (int i = 0; i < TB_SIM_NFLASH; i++) {
            memcpy(b->fl[i].mem, a->fl[i].mem, a->fl[i].flash.size);
        }
        assert_int_equal(ba->erase(ba, 0x10000), TB_OK);
        assert_int_equal(ba->program(ba, 0x10000, data, 4096), TB_OK);
        assert_int_equal(bq->erase(bq, 0x100000), TB_OK);
        assert_int_equal(bq->program(bq, 0x100000 + 2048, data, 256), TB_OK);
        b->save_fault_at = k;
        int rc = tb_simdev_save_files(b, dir, &xb, 1, NULL, 0);
        b->save_fault_at = 0;
        if (rc == TB_OK) {
            assert_true(dir_holds(dir, b, "state B"));
            break;
        }
        assert_int_equal(rc, TB_E_POWER);
        if (dir_holds(dir, a, "state A")) {
            assert_int_equal(after, 0); /* once committed, always committed */
            before++;
        } else if (dir_holds(dir, b, "state B")) {
            after++;
        } else {
            fail_msg("a save stopped at step %u left a mix of two states", (unsigned)k);
        }
    }
    print_message("save stopped at %u steps: %u left the old state, %u the new one\n", before + after, before, after);
    assert_true(before > 0 && after > 0);

    /* a save that fails (here: its log's name is taken by a directory, as a
     * full disk would fail it) reports the file and changes nothing */
    rm_device_dir(dir);
    tb_simdev_forget_disk(a);
    assert_int_equal(tb_simdev_save_files(a, dir, &xa, 1, NULL, 0), TB_OK);
    char p[600], err[512];
    snprintf(p, sizeof(p), "%s/save.log.tmp", dir);
    assert_int_equal(mkdir(p, 0777), 0);
    assert_int_equal(tb_simdev_load(b, dir), TB_OK);
    assert_int_equal(ba->erase(ba, 0x10000), TB_OK);
    assert_int_equal(tb_simdev_save_files(b, dir, &xb, 1, err, sizeof(err)), TB_E_IO);
    assert_non_null(strstr(err, "save.log.tmp"));
    assert_non_null(strstr(err, "nothing was saved"));
    assert_true(dir_holds(dir, a, "state A"));
    assert_int_equal(rmdir(p), 0);

    /* a missing or resized flash file is named */
    snprintf(p, sizeof(p), "%s/qspi.bin", dir);
    assert_int_equal(truncate(p, 1000), 0);
    assert_int_equal(tb_simdev_load_err(b, dir, err, sizeof(err)), TB_E_IO);
    assert_non_null(strstr(err, "qspi.bin is 1000 bytes"));
    assert_int_equal(unlink(p), 0);
    assert_int_equal(tb_simdev_load_err(b, dir, err, sizeof(err)), TB_E_IO);
    assert_non_null(strstr(err, "qspi.bin is missing"));

    /* one owner: a second lock is refused and names the holder */
    int fd, fd2;
    long holder;
    assert_int_equal(tb_simdev_lock(dir, &fd, &holder), TB_OK);
    assert_int_equal(tb_simdev_lock(dir, &fd2, &holder), TB_E_NOSPACE);
    assert_int_equal(holder, (long)getpid());
    tb_simdev_unlock(fd);
    assert_int_equal(tb_simdev_lock(dir, &fd2, &holder), TB_OK);
    tb_simdev_unlock(fd2);

    rm_device_dir(dir);
    assert_int_equal(rmdir(dir), 0);
    rm_device_dir(gold);
    assert_int_equal(rmdir(gold), 0);
    assert_int_equal(rmdir(base), 0);
    tb_simdev_free(a);
    tb_simdev_free(b);
    free(a);
    free(b);
}

static void test_load_missing_dir(void **state)
{
    struct tb_simdev *d = *state;
    assert_int_equal(tb_simdev_load(d, "/nonexistent/tb_sim_dev"), TB_E_IO);
    assert_int_equal(tb_simdev_save(d, ""), TB_E_INVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_validates_geometry),
        cmocka_unit_test(test_save_all_or_nothing_sweep),
        cmocka_unit_test(test_nrf5340_table),
        cmocka_unit_test_setup_teardown(test_erase_sets_ff, small_setup, small_teardown),
        cmocka_unit_test_setup_teardown(test_program_only_clears_bits, small_setup,
                                        small_teardown),
        cmocka_unit_test_setup_teardown(test_alignment_and_range, small_setup, small_teardown),
        cmocka_unit_test_setup_teardown(test_reprogram_refused_and_changes_nothing, small_setup,
                                        small_teardown),
        cmocka_unit_test_setup_teardown(test_ff_writes_allowed, small_setup, small_teardown),
        cmocka_unit_test_setup_teardown(test_power_cut_program, dev_setup, dev_teardown),
        cmocka_unit_test(test_torn_program_reproducible),
        cmocka_unit_test_setup_teardown(test_torn_erase, small_setup, small_teardown),
        cmocka_unit_test_setup_teardown(test_op_counting_across_flashes, dev_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_counters_and_time, dev_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_clock_qspi_erase_overlaps_app_erase, dev_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_clock_program_waits_for_erase, dev_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_clock_second_qspi_erase_waits, dev_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_clock_reads, dev_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_clock_cpu_bound, dev_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_clock_refused_ops_take_no_time, dev_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_clock_reset_counters, dev_setup, dev_teardown),
        cmocka_unit_test(test_clock_standalone_flashes),
        cmocka_unit_test_setup_teardown(test_max_sector_erases, small_setup, small_teardown),
        cmocka_unit_test_setup_teardown(test_save_load_round_trip, dev_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_load_missing_dir, dev_setup, dev_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
