/* The progress journal (see include/twinboot/journal.h for the design). */
#include "le.h"
#include "twinboot/journal.h"

#include <string.h>

#include "twinboot/crypto.h"
#include "twinboot/error.h"

#define HDR_SIZE 160U    /* header slot at the start of a sector; entries follow */
#define HDR_BODY 136U    /* encoded fields; the check value follows */
#define HDR_MAGIC 0x314a4254U /* "TBJ1" */
#define CHECK_LEN 16U    /* truncated SHA-256 over the encoded header */

/* Fixed little-endian encoding: the journal must read the same whatever
 * compiler built the bootloader that wrote it. */
static uint32_t encode(const struct tb_journal_session *s, uint8_t out[HDR_SIZE])
{
    uint8_t *p = out;
    memset(out, 0xff, HDR_SIZE);
    tb_put32(p, HDR_MAGIC);
    tb_put32(p + 4, s->seq);
    p[8] = s->op;
    p[9] = s->image;
    p[10] = s->flags;
    p[11] = s->reserved;
    tb_put32(p + 12, s->nsect);
    tb_put32(p + 16, s->from_size);
    tb_put32(p + 20, s->to_size);
    memcpy(p + 24, s->from_hash, 32);
    memcpy(p + 56, s->to_hash, 32);
    memcpy(p + 88, s->from_ver, 8);
    memcpy(p + 96, s->to_ver, 8);
    memcpy(p + 104, s->partner_hash, 32);
    return HDR_BODY;
}

static void decode(const uint8_t *p, struct tb_journal_session *s)
{
    s->seq = tb_get32(p + 4);
    s->op = p[8];
    s->image = p[9];
    s->flags = p[10];
    s->reserved = p[11];
    s->nsect = tb_get32(p + 12);
    s->from_size = tb_get32(p + 16);
    s->to_size = tb_get32(p + 20);
    memcpy(s->from_hash, p + 24, 32);
    memcpy(s->to_hash, p + 56, 32);
    memcpy(s->from_ver, p + 88, 8);
    memcpy(s->to_ver, p + 96, 8);
    memcpy(s->partner_hash, p + 104, 32);
}

static int check_value(const uint8_t *p, uint32_t len, uint8_t out[CHECK_LEN])
{
    uint8_t h[32];
    struct tb_hash_ctx c;
    int rc = tb_hash_init(&c, TB_HASH_SHA256);
    if (rc != TB_OK) {
        return rc;
    }
    rc = tb_hash_update(&c, p, len);
    if (rc != TB_OK) {
        tb_hash_abort(&c);
        return rc;
    }
    rc = tb_hash_finish(&c, h);
    memcpy(out, h, CHECK_LEN);
    return rc;
}

static uint32_t sector_size(const struct tb_journal *j) { return j->area.size / 2; }

uint32_t tb_journal_capacity(const struct tb_journal *j) { return (sector_size(j) - HDR_SIZE) / 4; }

/* Read one sector's header: 1 valid (into *s), 0 not. */
static int read_header(const struct tb_journal *j, int sec, struct tb_journal_session *s)
{
    uint8_t raw[HDR_SIZE], chk[CHECK_LEN];
    int rc = tb_area_read(&j->area, (uint32_t)sec * sector_size(j), raw, HDR_SIZE);
    if (rc != TB_OK) {
        return rc;
    }
    if (tb_get32(raw) != HDR_MAGIC) {
        return 0;
    }
    rc = check_value(raw, HDR_BODY, chk);
    if (rc != TB_OK) {
        return rc;
    }
    if (memcmp(chk, raw + HDR_BODY, CHECK_LEN) != 0) {
        return 0;
    }
    decode(raw, s);
    return 1;
}

/* Walk the entries of the current sector. */
static int scan_entries(struct tb_journal *j)
{
    uint8_t buf[64];
    uint32_t base = (uint32_t)j->cur * sector_size(j);
    j->last_step = 0;
    j->boots = 0;
    j->confirmed = false;
    j->next_off = HDR_SIZE;
    for (uint32_t off = HDR_SIZE; off < sector_size(j); off += sizeof(buf)) {
        uint32_t n = sector_size(j) - off < sizeof(buf) ? sector_size(j) - off : (uint32_t)sizeof(buf);
        int rc = tb_area_read(&j->area, base + off, buf, n);
        if (rc != TB_OK) {
            return rc;
        }
        for (uint32_t i = 0; i + 4 <= n; i += 4) {
            uint32_t w = tb_get32(buf + i);
            if (w == 0xffffffffU) {
                continue;
            }
            /* anything programmed, valid or torn, takes its place: the next entry goes after it */
            j->next_off = off + i + 4;
            uint16_t step = (uint16_t)w, inv = (uint16_t)(w >> 16);
            if ((uint16_t)(step ^ inv) != 0xffffU) {
                continue; /* torn or garbage: not done */
            }
            if (step == TB_STEP_BOOT) {
                j->boots++;
            } else if (step == TB_STEP_CONFIRM) {
                j->confirmed = true;
            } else if (step <= TB_STEP_DONE && step > j->last_step) {
                j->last_step = step;
            }
        }
    }
    /* entries sit on write-block boundaries of the status flash */
    uint32_t ws = j->area.flash->write_size < 4 ? 4 : j->area.flash->write_size;
    j->next_off = (j->next_off + ws - 1) / ws * ws;
    return TB_OK;
}

int tb_journal_open(struct tb_journal *j, const struct tb_area *status)
{
    struct tb_journal_session s[2];
    int valid[2];
    memset(j, 0, sizeof(*j));
    j->area = *status;
    j->cur = -1;
    if (status->size < 2 * (HDR_SIZE + 4) || status->size % 2 != 0) {
        return TB_E_INVAL;
    }
    for (int i = 0; i < 2; i++) {
        valid[i] = read_header(j, i, &s[i]);
        if (valid[i] < 0) {
            return valid[i];
        }
    }
    if (!valid[0] && !valid[1]) {
        return TB_OK;
    }
    /* the newer session is current; sequence numbers never wrap in a device's life */
    int cur = !valid[1] ? 0 : !valid[0] ? 1 : (s[1].seq > s[0].seq ? 1 : 0);
    j->cur = cur;
    j->s = s[cur];
    j->prev_valid = valid[!cur] != 0;
    if (j->prev_valid) {
        j->prev = s[!cur];
    }
    return scan_entries(j);
}

int tb_journal_begin(struct tb_journal *j, const struct tb_journal_session *s)
{
    uint8_t raw[HDR_SIZE];
    int next = j->cur < 0 ? 0 : !j->cur;
    struct tb_journal_session ns = *s;
    ns.seq = j->cur < 0 ? 1 : j->s.seq + 1;
    if (ns.nsect * 2 + 8 > tb_journal_capacity(j)) {
        return TB_E_NOSPACE;
    }
    uint32_t len = encode(&ns, raw);
    int rc = check_value(raw, len, raw + len);
    if (rc != TB_OK) {
        return rc;
    }
    rc = tb_area_erase(&j->area, (uint32_t)next * sector_size(j), sector_size(j));
    if (rc == TB_OK) {
        rc = tb_area_program(&j->area, (uint32_t)next * sector_size(j), raw, HDR_SIZE);
    }
    if (rc != TB_OK) {
        return rc;
    }
    if (j->cur >= 0) {
        j->prev = j->s;
        j->prev_valid = true;
    }
    j->cur = next;
    j->s = ns;
    j->last_step = 0;
    j->boots = 0;
    j->confirmed = false;
    j->next_off = HDR_SIZE;
    return TB_OK;
}

int tb_journal_mark(struct tb_journal *j, uint16_t step)
{
    uint8_t w[4];
    if (j->cur < 0 || step == 0 || (step > TB_STEP_DONE && step != TB_STEP_BOOT && step != TB_STEP_CONFIRM)) {
        return TB_E_INVAL;
    }
    if (j->next_off + 4 > sector_size(j)) {
        return TB_E_NOSPACE;
    }
    tb_put32(w, (uint32_t)step | ((uint32_t)(uint16_t)~step << 16));
    /* the write block of the status flash may exceed 4 bytes: pad with erased */
    uint8_t buf[32];
    uint32_t ws = j->area.flash->write_size;
    if (ws < 4) {
        ws = 4;
    }
    if (ws > sizeof(buf)) {
        return TB_E_ALIGN;
    }
    memset(buf, 0xff, ws);
    memcpy(buf, w, 4);
    uint32_t off = j->next_off;
    j->next_off += ws;
    int rc = tb_area_program(&j->area, (uint32_t)j->cur * sector_size(j) + off, buf, ws);
    if (rc != TB_OK) {
        return rc;
    }
    if (step == TB_STEP_BOOT) {
        j->boots++;
    } else if (step == TB_STEP_CONFIRM) {
        j->confirmed = true;
    } else if (step > j->last_step) {
        j->last_step = step;
    }
    return TB_OK;
}
