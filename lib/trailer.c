/* MCUboot trailer geometry (bootutil_misc.h, bootutil_public.c). */
#include "twinboot/trailer.h"

#include <stdbool.h>
#include <string.h>

#include "twinboot/flash.h"

#include "twinboot/error.h"

static const uint8_t magic8[TB_TRAILER_MAGIC_SIZE] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                                      0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};
/* With BOOT_MAX_ALIGN > 8 the first two bytes carry the alignment instead. */
static const uint8_t magic_tail[TB_TRAILER_MAGIC_SIZE - 2] = {0x2d, 0xe1, 0x5d, 0x29, 0x41, 0x0b, 0x8d,
                                                              0x77, 0x67, 0x9c, 0x11, 0x0f, 0x1f, 0x8a};

void tb_trailer_magic(uint32_t max_align, uint8_t out[TB_TRAILER_MAGIC_SIZE])
{
    if (max_align <= TB_TRAILER_DEFAULT_MAX_ALIGN) {
        memcpy(out, magic8, sizeof(magic8));
        return;
    }
    out[0] = (uint8_t)max_align;
    out[1] = (uint8_t)(max_align >> 8);
    memcpy(out + 2, magic_tail, sizeof(magic_tail));
}

int tb_trailer_layout(uint32_t slot_size, uint32_t max_align, struct tb_trailer_layout *l)
{
    if (max_align < 8 || max_align > 32 || (max_align & (max_align - 1)) != 0 ||
        slot_size < 8 * max_align || slot_size % max_align != 0) {
        return TB_E_INVAL;
    }
    uint32_t magic_area = (TB_TRAILER_MAGIC_SIZE + max_align - 1) & ~(max_align - 1);
    l->max_align = max_align;
    l->magic_off = slot_size - magic_area;
    /* ALIGN_DOWN(slot_size - 16 - A, A), as bootutil computes image_ok's place */
    l->image_ok_off = (slot_size - TB_TRAILER_MAGIC_SIZE - max_align) & ~(max_align - 1);
    l->copy_done_off = l->image_ok_off - max_align;
    l->swap_info_off = l->copy_done_off - max_align;
    l->swap_size_off = l->swap_info_off - max_align;
    return TB_OK;
}

static uint8_t flag_state(uint8_t v)
{
    return v == 0xff ? TB_FLAG_STATE_UNSET : v == TB_FLAG_SET ? TB_FLAG_STATE_SET : TB_FLAG_STATE_BAD;
}

int tb_trailer_read(const struct tb_area *slot, uint32_t max_align, struct tb_trailer_state *st)
{
    struct tb_trailer_layout l;
    uint8_t magic[TB_TRAILER_MAGIC_SIZE], want[TB_TRAILER_MAGIC_SIZE];
    uint8_t b;
    int rc = tb_trailer_layout(slot->size, max_align, &l);
    if (rc != TB_OK) {
        return rc;
    }
    rc = tb_area_read(slot, slot->size - TB_TRAILER_MAGIC_SIZE, magic, sizeof(magic));
    if (rc != TB_OK) {
        return rc;
    }
    tb_trailer_magic(max_align, want);
    bool erased = true;
    for (size_t i = 0; i < sizeof(magic); i++) {
        erased = erased && magic[i] == slot->flash->erased_val;
    }
    st->magic = memcmp(magic, want, sizeof(want)) == 0 ? TB_MAGIC_GOOD : erased ? TB_MAGIC_UNSET : TB_MAGIC_BAD;
    if ((rc = tb_area_read(slot, l.image_ok_off, &b, 1)) != TB_OK) {
        return rc;
    }
    st->image_ok = flag_state(b);
    if ((rc = tb_area_read(slot, l.copy_done_off, &b, 1)) != TB_OK) {
        return rc;
    }
    st->copy_done = flag_state(b);
    if ((rc = tb_area_read(slot, l.swap_info_off, &b, 1)) != TB_OK) {
        return rc;
    }
    /* erased, or a type beyond REVERT, reads as NONE (bootutil_public.c) */
    uint8_t type = b & 0x0f;
    st->swap_type = (b == 0xff || type > TB_SWAP_REVERT || type == 0) ? TB_SWAP_NONE : type;
    st->image_num = b == 0xff ? 0 : (uint8_t)(b >> 4);
    return TB_OK;
}

int tb_swap_type(const struct tb_trailer_state *p, const struct tb_trailer_state *s)
{
    if (s->magic == TB_MAGIC_GOOD && s->image_ok == TB_FLAG_STATE_UNSET) {
        return TB_SWAP_TEST;
    }
    if (s->magic == TB_MAGIC_GOOD && s->image_ok == TB_FLAG_STATE_SET) {
        return TB_SWAP_PERM;
    }
    if (p->magic == TB_MAGIC_GOOD && p->image_ok == TB_FLAG_STATE_UNSET && p->copy_done == TB_FLAG_STATE_SET) {
        return TB_SWAP_REVERT;
    }
    return TB_SWAP_NONE;
}

int tb_trailer_write_byte(const struct tb_area *slot, uint32_t off, uint8_t val)
{
    uint8_t buf[TB_TRAILER_MAGIC_SIZE * 2];
    uint32_t ws = slot->flash->write_size;
    if (ws == 0 || ws > sizeof(buf) || off % ws != 0) {
        return TB_E_ALIGN;
    }
    memset(buf, slot->flash->erased_val, ws);
    buf[0] = val;
    return tb_area_program(slot, off, buf, ws);
}

int tb_trailer_write_magic(const struct tb_area *slot, uint32_t max_align)
{
    uint8_t buf[32];
    uint32_t area = (TB_TRAILER_MAGIC_SIZE + max_align - 1) & ~(max_align - 1);
    if (area > sizeof(buf) || area > slot->size) {
        return TB_E_INVAL;
    }
    /* the magic ends at the slot end; the rest of its aligned area stays erased */
    memset(buf, slot->flash->erased_val, area);
    tb_trailer_magic(max_align, buf + area - TB_TRAILER_MAGIC_SIZE);
    return tb_area_program(slot, slot->size - area, buf, area);
}

/* The trailer's state and where its fields are. */
static int trailer_open(const struct tb_area *slot, uint32_t max_align, struct tb_trailer_state *st,
                        struct tb_trailer_layout *l)
{
    int rc = tb_trailer_read(slot, max_align, st);
    return rc == TB_OK ? tb_trailer_layout(slot->size, max_align, l) : rc;
}

int tb_trailer_request(const struct tb_area *secondary, uint32_t max_align, uint8_t image, int permanent)
{
    struct tb_trailer_state st;
    struct tb_trailer_layout l;
    int rc = trailer_open(secondary, max_align, &st, &l);
    if (rc != TB_OK) {
        return rc;
    }
    if (st.magic == TB_MAGIC_GOOD) {
        return TB_OK; /* already requested: boot_set_pending does nothing */
    }
    if (st.magic == TB_MAGIC_BAD) {
        return TB_E_IMG_MAGIC;
    }
    rc = tb_trailer_write_magic(secondary, max_align);
    if (rc == TB_OK && permanent) {
        rc = tb_trailer_write_byte(secondary, l.image_ok_off, TB_FLAG_SET);
    }
    if (rc == TB_OK) {
        uint8_t info = (uint8_t)((image << 4) | (permanent ? TB_SWAP_PERM : TB_SWAP_TEST));
        rc = tb_trailer_write_byte(secondary, l.swap_info_off, info);
    }
    return rc;
}

int tb_trailer_confirm(const struct tb_area *primary, uint32_t max_align)
{
    struct tb_trailer_state st;
    struct tb_trailer_layout l;
    int rc = trailer_open(primary, max_align, &st, &l);
    if (rc != TB_OK) {
        return rc;
    }
    if (st.magic == TB_MAGIC_UNSET) {
        return TB_OK;
    }
    if (st.magic == TB_MAGIC_BAD) {
        return TB_E_IMG_MAGIC;
    }
    if (st.image_ok != TB_FLAG_STATE_UNSET) {
        return TB_OK;
    }
    return tb_trailer_write_byte(primary, l.image_ok_off, TB_FLAG_SET);
}
