/* MCUboot trailer geometry (bootutil_misc.h, bootutil_public.c). */
#include "twinboot/trailer.h"

#include <string.h>

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
