/* The durable upload session: what lets an upload survive a reset or a
 * power cut (see include/twinboot/smp.h and docs/user-guide.md).
 *
 * It lives at the start of the secondary slot's last sector, the one that
 * also holds the MCUboot trailer at its end; an upload erases that sector
 * when it starts, and the bootloader erases it when it consumes a request,
 * so a session never outlives its upload. Layout, little-endian:
 *   header (one program): magic "TBU1", image, 3 reserved, len, sha[32], crc32
 *   then entries of 8 bytes, appended: off, ~off
 * An entry is written only after the slot bytes [0, off) are programmed.
 * A torn entry fails its complement check and is skipped (the next one goes
 * after it); the last good entry is the durable offset. */
#include <string.h>

#include "le.h"
#include "twinboot/error.h"
#include "twinboot/netcore.h"
#include "twinboot/smp.h"
#include "twinboot/trailer.h"

#define SES_MAGIC 0x31554254U /* "TBU1" */
#define SES_BODY 44U          /* encoded fields; the CRC follows */
#define SES_ENTRY 8U

/* Entries are padded to the write block; the header to a whole number of entries. */
static uint32_t stride(const struct tb_area *sec)
{
    uint32_t ws = sec->flash->write_size;
    return ws < SES_ENTRY ? SES_ENTRY : ws;
}

static uint32_t hdr_size(const struct tb_area *sec)
{
    uint32_t st = stride(sec);
    return (SES_BODY + 4U + st - 1U) / st * st;
}

/* The record area: from the start of the trailer sector to the trailer's first field. */
static int geometry(const struct tb_area *sec, uint32_t max_align, uint32_t *base, uint32_t *limit)
{
    struct tb_trailer_layout l;
    uint32_t ss = sec->flash->sector_size;
    if (sec->size < 2U * ss || stride(sec) > 64U || tb_trailer_layout(sec->size, max_align, &l) != TB_OK) {
        return TB_E_INVAL;
    }
    *base = sec->size - ss;
    *limit = (l.swap_size_off - *base) / stride(sec) * stride(sec);
    return *limit >= hdr_size(sec) + stride(sec) ? TB_OK : TB_E_INVAL;
}

int tb_smp_session_start(const struct tb_area *sec, uint32_t max_align, struct tb_smp_session *s)
{
    uint8_t raw[64];
    uint32_t base, limit;
    int rc = geometry(sec, max_align, &base, &limit);
    if (rc != TB_OK) {
        return rc;
    }
    memset(raw, 0xff, sizeof(raw));
    tb_put32(raw, SES_MAGIC);
    raw[4] = s->image;
    tb_put32(raw + 8, s->len);
    memcpy(raw + 12, s->sha, 32);
    tb_put32(raw + SES_BODY, tb_crc32(0, raw, SES_BODY));
    rc = tb_area_erase(sec, base, sec->flash->sector_size);
    if (rc == TB_OK) {
        rc = tb_area_program(sec, base, raw, hdr_size(sec));
    }
    s->off = 0;
    s->next = hdr_size(sec);
    s->limit = limit;
    return rc;
}

int tb_smp_session_load(const struct tb_area *sec, uint32_t max_align, struct tb_smp_session *s)
{
    uint8_t raw[SES_BODY + 4U];
    uint32_t base, limit;
    memset(s, 0, sizeof(*s)); /* no session, whatever goes wrong */
    int rc = geometry(sec, max_align, &base, &limit);
    if (rc == TB_OK) {
        rc = tb_area_read(sec, base, raw, sizeof(raw));
    }
    if (rc != TB_OK) {
        return rc;
    }
    if (tb_get32(raw) != SES_MAGIC || tb_get32(raw + SES_BODY) != tb_crc32(0, raw, SES_BODY)) {
        return 0;
    }
    s->image = raw[4];
    s->len = tb_get32(raw + 8);
    memcpy(s->sha, raw + 12, 32);
    s->limit = limit;
    s->next = hdr_size(sec);
    for (uint32_t at = hdr_size(sec); at + stride(sec) <= limit; at += stride(sec)) {
        uint8_t e[SES_ENTRY];
        rc = tb_area_read(sec, base + at, e, SES_ENTRY);
        if (rc != TB_OK) {
            return rc;
        }
        uint32_t off = tb_get32(e), inv = tb_get32(e + 4);
        if (off == 0xffffffffU && inv == 0xffffffffU) {
            break; /* the first erased entry ends the list */
        }
        s->next = at + stride(sec);
        if ((off ^ inv) == 0xffffffffU && off <= s->len) {
            s->off = off;
        }
    }
    return 1;
}

int tb_smp_session_mark(const struct tb_area *sec, struct tb_smp_session *s, uint32_t off)
{
    uint8_t e[64];
    uint32_t st = stride(sec);
    if (s->next + st > s->limit) {
        return TB_E_NOSPACE;
    }
    memset(e, 0xff, st);
    tb_put32(e, off);
    tb_put32(e + 4, ~off);
    uint32_t at = s->next;
    s->next += st; /* even if torn: that entry's place is used */
    int rc = tb_area_program(sec, sec->size - sec->flash->sector_size + at, e, st);
    if (rc == TB_OK) {
        s->off = off;
    }
    return rc;
}

uint32_t tb_smp_session_step(const struct tb_area *sec, const struct tb_smp_session *s)
{
    uint32_t entries = (s->limit - hdr_size(sec)) / stride(sec);
    /* a few entries kept back for the rewinds after power cuts */
    entries = entries > 8U ? entries - 8U : 1U;
    return (s->len + entries - 1U) / entries;
}
