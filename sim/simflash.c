/* The simulated NOR flash behind struct tb_flash (see include/twinboot/sim.h).
 *
 * Order of checks in every callback, so that a refused call never has side
 * effects: power off -> TB_E_POWER; bad arguments -> TB_E_INVAL / TB_E_RANGE /
 * TB_E_ALIGN; re-programming -> TB_E_REPROGRAM. Only a call that passes all of
 * them reaches the (simulated) part: it is then counted as one operation,
 * timed, and may be the one torn by an armed power cut. A zero-length program
 * is accepted but is not an operation (nothing is sent to the part).
 *
 * Modelled time, in integer nanoseconds: whole units are exact
 * (len / unit * unit_ns); the remainder of a unit is prorated and rounded to
 * the nearest ns. Programming uses prog_unit / prog_ns, reading uses 1024 B /
 * read_ns_per_kib.
 *
 * Elapsed time (the device clock, see sim.h): every executed operation with a
 * non-zero modelled time starts at max(power->now_ns, busy_until_ns) and
 * busy_until_ns becomes its end; now_ns moves to the end too, or stays at the
 * start for an erase on an async_erase part. now_ns is the clock of the CPU
 * driving the part (cpu_ns: the net core's for the net flash). Refused calls do not move the
 * clock; a torn operation takes its full time, as in busy_ns.
 */
#include "twinboot/sim.h"

#include <stdlib.h>
#include <string.h>

#include "twinboot/error.h"

/* NOR: program clears bits, so erased must be all ones for AND to model it. */
#define TB_SF_ERASED 0xffu

/* splitmix64: tiny, well mixed and fully deterministic (no global state). */
static uint64_t tb_sf_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* The PRNG state for the op-th operation under seed: same pair, same pattern. */
static uint64_t tb_sf_torn_state(uint64_t seed, uint64_t op)
{
    uint64_t s = seed;
    uint64_t mixed = tb_sf_rand(&s);
    return mixed ^ (op * UINT64_C(0xd1b54a32d192ed03));
}

/* len bytes at unit_ns per unit bytes; exact for whole units (see top). */
static uint64_t tb_sf_scale(uint64_t len, uint64_t unit_ns, uint64_t unit)
{
    return (len / unit) * unit_ns + ((len % unit) * unit_ns + unit / 2) / unit;
}

/* Run an operation of dur ns on sf's part; wait: the CPU waits for its end. */
static void tb_sf_clock_cpu(struct tb_simflash *sf, uint64_t dur, uint64_t cpu)
{
    uint64_t *now = sf->cpu_ns != NULL ? sf->cpu_ns : &sf->power->now_ns;
    uint64_t start = *now > sf->busy_until_ns ? *now : sf->busy_until_ns;

    sf->busy_until_ns = start + dur;
    *now = start + cpu;
}

static void tb_sf_clock(struct tb_simflash *sf, uint64_t dur, bool wait)
{
    tb_sf_clock_cpu(sf, dur, wait ? dur : 0);
}

static int tb_sf_check_range(const struct tb_simflash *sf, uint32_t off, uint32_t len)
{
    /* written so that off + len cannot overflow */
    if (off > sf->flash.size || len > sf->flash.size - off)
        return TB_E_RANGE;
    return TB_OK;
}

static bool tb_sf_all_erased(const uint8_t *p, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (p[i] != TB_SF_ERASED)
            return false;
    return true;
}

/* Count one program/erase; true if it is the operation the armed cut tears. */
static bool tb_sf_power_tick(struct tb_sim_power *p)
{
    p->ops++;
    if (p->cut_at != 0 && p->ops == p->cut_at) {
        p->off = true;
        return true;
    }
    return false;
}

/* Flag every block of [off, off+len) that receives data other than all ones. */
static void tb_sf_mark_written(struct tb_simflash *sf, uint32_t off, const uint8_t *src,
                               uint32_t len)
{
    uint32_t ws = sf->flash.write_size;
    for (uint32_t i = 0; i < len; i += ws)
        if (!tb_sf_all_erased(src + i, ws))
            sf->written[(off + i) / ws] = 1;
}

/* A program interrupted at a random byte: the part had finished everything
 * before it; from it on, each bit still to be cleared may or may not be. */
static void tb_sf_torn_program(struct tb_simflash *sf, uint32_t off, const uint8_t *src,
                               uint32_t len)
{
    uint8_t *mem = sf->mem + off;
    uint64_t st = tb_sf_torn_state(sf->power->seed, sf->power->ops);
    uint32_t cut = (uint32_t)(tb_sf_rand(&st) % len);
    uint64_t r = 0;

    for (uint32_t i = 0; i < cut; i++)
        mem[i] &= src[i];
    for (uint32_t i = cut; i < len; i++) {
        if ((i - cut) % 8 == 0)
            r = tb_sf_rand(&st);
        uint8_t to_clear = (uint8_t)(mem[i] & ~src[i]);
        mem[i] &= (uint8_t)~(to_clear & (uint8_t)r);
        r >>= 8;
    }
    /* the content of these blocks is now undefined: never program them again */
    tb_sf_mark_written(sf, off, src, len);
}

/* An erase interrupted part-way: bits only move toward 1, some bytes got
 * there fully. The whole sector is flagged written: its content is garbage
 * that the device code must erase again before it programs there. */
static void tb_sf_torn_erase(struct tb_simflash *sf, uint32_t sector_off)
{
    uint8_t *mem = sf->mem + sector_off;
    uint32_t ss = sf->flash.sector_size;
    uint32_t ws = sf->flash.write_size;
    uint64_t st = tb_sf_torn_state(sf->power->seed, sf->power->ops);

    for (uint32_t i = 0; i < ss; i++) {
        uint64_t r = tb_sf_rand(&st);
        if (((r >> 8) & 3) == 0)
            mem[i] = TB_SF_ERASED; /* one byte in four on average */
        else
            mem[i] |= (uint8_t)r;
    }
    memset(sf->written + sector_off / ws, 1, ss / ws);
}

static int tb_sf_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    struct tb_simflash *sf = f->ctx;

    if (sf->power->off)
        return TB_E_POWER;
    if (buf == NULL && len != 0)
        return TB_E_INVAL;
    int rc = tb_sf_check_range(sf, off, len);
    if (rc != TB_OK)
        return rc;
    if (len != 0)
        memcpy(buf, sf->mem + off, len);
    sf->cnt.read_ops++;
    sf->cnt.bytes_read += len;
    uint64_t dur = tb_sf_scale(len, sf->timing.read_ns_per_kib, 1024);
    sf->cnt.read_ns += dur;
    if (dur != 0) /* memory-mapped reads take no modelled time and wait for nothing */
        tb_sf_clock(sf, dur, true);
    return TB_OK;
}

static int tb_sf_program(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    struct tb_simflash *sf = f->ctx;
    const uint8_t *src = buf;
    uint32_t ws = f->write_size;

    if (sf->power->off)
        return TB_E_POWER;
    if (src == NULL && len != 0)
        return TB_E_INVAL;
    int rc = tb_sf_check_range(sf, off, len);
    if (rc != TB_OK)
        return rc;
    if (off % ws != 0 || len % ws != 0)
        return TB_E_ALIGN;
    if (len == 0)
        return TB_OK;
    /* check the whole range first: a refused program changes nothing */
    for (uint32_t i = 0; i < len; i += ws)
        if (sf->written[(off + i) / ws] && !tb_sf_all_erased(src + i, ws))
            return TB_E_REPROGRAM;

    /* a torn operation still took its full time (the caller waited for it) */
    sf->cnt.prog_ops++;
    sf->cnt.bytes_programmed += len;
    uint64_t dur = tb_sf_scale(len, sf->timing.prog_ns, sf->timing.prog_unit);
    sf->cnt.busy_ns += dur;
    /* An async_program part (the QSPI NOR) programs a page inside the chip:
     * the CPU waits for every page but the last of this call. */
    tb_sf_clock_cpu(sf, dur,
                    sf->timing.async_program ? (dur > sf->timing.prog_ns ? dur - sf->timing.prog_ns : 0) : dur);
    if (tb_sf_power_tick(sf->power)) {
        tb_sf_torn_program(sf, off, src, len);
        return TB_E_POWER;
    }
    for (uint32_t i = 0; i < len; i++)
        sf->mem[off + i] &= src[i];
    tb_sf_mark_written(sf, off, src, len);
    return TB_OK;
}

static int tb_sf_erase(const struct tb_flash *f, uint32_t sector_off)
{
    struct tb_simflash *sf = f->ctx;
    uint32_t ss = f->sector_size;

    if (sf->power->off)
        return TB_E_POWER;
    if (sector_off >= f->size)
        return TB_E_RANGE;
    if (sector_off % ss != 0)
        return TB_E_ALIGN;

    sf->cnt.erases++;
    sf->cnt.busy_ns += sf->timing.erase_ns;
    tb_sf_clock(sf, sf->timing.erase_ns, !sf->timing.async_erase);
    sf->sector_erases[sector_off / ss]++;
    if (tb_sf_power_tick(sf->power)) {
        tb_sf_torn_erase(sf, sector_off);
        return TB_E_POWER;
    }
    memset(sf->mem + sector_off, TB_SF_ERASED, ss);
    memset(sf->written + sector_off / f->write_size, 0, ss / f->write_size);
    return TB_OK;
}

int tb_simflash_init(struct tb_simflash *sf, const char *name, uint32_t size, uint32_t sector_size,
                     uint32_t write_size, const struct tb_sim_timing *timing,
                     struct tb_sim_power *power)
{
    if (sf == NULL)
        return TB_E_INVAL;
    memset(sf, 0, sizeof(*sf));
    if (name == NULL || timing == NULL || power == NULL)
        return TB_E_INVAL;
    if (size == 0 || sector_size == 0 || write_size == 0 || size % sector_size != 0)
        return TB_E_INVAL;
    if ((write_size & (write_size - 1)) != 0 || sector_size % write_size != 0)
        return TB_E_INVAL;
    if (timing->prog_unit == 0) /* divisor of the program time */
        return TB_E_INVAL;

    sf->mem = malloc(size);
    sf->written = calloc(size / write_size, 1);
    sf->sector_erases = calloc(size / sector_size, sizeof(*sf->sector_erases));
    if (sf->mem == NULL || sf->written == NULL || sf->sector_erases == NULL) {
        tb_simflash_free(sf);
        return TB_E_NOSPACE;
    }
    memset(sf->mem, TB_SF_ERASED, size);

    sf->flash.name = name; /* not copied: the caller keeps it alive */
    sf->flash.size = size;
    sf->flash.sector_size = sector_size;
    sf->flash.write_size = write_size;
    sf->flash.erased_val = TB_SF_ERASED;
    sf->flash.read = tb_sf_read;
    sf->flash.program = tb_sf_program;
    sf->flash.erase = tb_sf_erase;
    /* callbacks find their state here: a tb_simflash must not be moved */
    sf->flash.ctx = sf;
    sf->power = power;
    sf->timing = *timing;
    return TB_OK;
}

void tb_simflash_free(struct tb_simflash *sf)
{
    if (sf == NULL)
        return;
    free(sf->mem);
    free(sf->written);
    free(sf->sector_erases);
    memset(sf, 0, sizeof(*sf));
}

void tb_simflash_reset_counters(struct tb_simflash *sf)
{
    memset(&sf->cnt, 0, sizeof(sf->cnt));
    if (sf->sector_erases != NULL && sf->flash.sector_size != 0)
        memset(sf->sector_erases, 0,
               (size_t)(sf->flash.size / sf->flash.sector_size) * sizeof(*sf->sector_erases));
}

uint32_t tb_simflash_max_sector_erases(const struct tb_simflash *sf)
{
    uint32_t max = 0;
    if (sf->sector_erases == NULL || sf->flash.sector_size == 0)
        return 0;
    for (uint32_t i = 0; i < sf->flash.size / sf->flash.sector_size; i++)
        if (sf->sector_erases[i] > max)
            max = sf->sector_erases[i];
    return max;
}
