/* Sector copies and trailer writes shared by the update strategies. */
#include <string.h>

#include "boot_priv.h"
#include "twinboot/error.h"
#include "twinboot/trailer.h"

uint32_t tb_sectors_for(const struct tb_boot_ctx *c, uint32_t bytes)
{
    return (bytes + c->sector - 1) / c->sector;
}

static bool all_erased(const uint8_t *p, uint32_t n, uint8_t ev)
{
    for (uint32_t i = 0; i < n; i++) {
        if (p[i] != ev) {
            return false;
        }
    }
    return true;
}

int tb_copy_sector(struct tb_boot_ctx *c, const struct tb_area *dst, const struct tb_area *src, uint32_t i,
                   bool skip_erase, const struct tb_side_copy *side)
{
    uint32_t base = i * c->sector;
    int rc = skip_erase ? TB_OK : tb_area_erase(dst, base, c->sector);
    for (uint32_t off = 0; rc == TB_OK && off < c->sector; off += TB_COPY_CHUNK) {
        uint32_t n = c->sector - off < TB_COPY_CHUNK ? c->sector - off : TB_COPY_CHUNK;
        rc = tb_area_read(src, base + off, c->buf, n);
        if (rc == TB_OK && side != NULL) {
            uint32_t sb = side->sector * c->sector + off;
            rc = tb_area_read(side->src, sb, c->side, n);
            if (rc == TB_OK && !all_erased(c->side, n, side->dst->flash->erased_val)) {
                rc = tb_area_program(side->dst, sb, c->side, n);
            }
        }
        /* erased chunks stay as the erase left them: less time, less wear */
        if (rc == TB_OK && !all_erased(c->buf, n, dst->flash->erased_val)) {
            rc = tb_area_program(dst, base + off, c->buf, n);
        }
    }
    return rc;
}

int tb_write_primary_trailer(struct tb_boot_ctx *c, bool image_ok)
{
    struct tb_trailer_layout l;
    uint32_t max_align = c->cfg->layout->max_align;
    int rc = tb_trailer_layout(c->pri.size, max_align, &l);
    if (rc == TB_OK) {
        rc = tb_area_erase(&c->pri, c->pri.size - c->sector, c->sector);
    }
    if (rc == TB_OK) {
        rc = tb_trailer_write_byte(&c->pri, l.copy_done_off, TB_FLAG_SET);
    }
    if (rc == TB_OK && image_ok) {
        rc = tb_trailer_write_byte(&c->pri, l.image_ok_off, TB_FLAG_SET);
    }
    /* magic last: until it is there, the trailer reads as no state at all */
    if (rc == TB_OK) {
        rc = tb_trailer_write_magic(&c->pri, max_align);
    }
    return rc;
}

int tb_clear_request(struct tb_boot_ctx *c)
{
    return tb_area_erase(&c->sec, c->sec.size - c->sector, c->sector);
}

void tb_session_fill(struct tb_journal_session *s, uint8_t op, const struct tb_boot_ctx *c,
                     const struct tb_image_info *from, const struct tb_image_info *to)
{
    memset(s, 0, sizeof(*s));
    s->op = op;
    s->image = (uint8_t)c->image;
    if (from != NULL) {
        s->from_size = from->tlv_end;
        memcpy(s->from_hash, from->hash, TB_JOURNAL_HASH_LEN);
        tb_image_version_encode(&from->hdr.ver, s->from_ver);
    }
    if (to != NULL) {
        s->to_size = to->tlv_end;
        memcpy(s->to_hash, to->hash, TB_JOURNAL_HASH_LEN);
        tb_image_version_encode(&to->hdr.ver, s->to_ver);
    }
    uint32_t a = tb_sectors_for(c, s->from_size), b = tb_sectors_for(c, s->to_size);
    s->nsect = a > b ? a : b;
}
