/* The MCUboot image trailer at the end of each slot: where its fields sit
 * and what its magic looks like, exactly as bootutil and imgtool place them,
 * so that trailers written by stock Zephyr/MCUmgr applications are read
 * correctly and the ones we write are read by them. */
#ifndef TWINBOOT_TRAILER_H
#define TWINBOOT_TRAILER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TB_TRAILER_MAGIC_SIZE 16U
#define TB_TRAILER_DEFAULT_MAX_ALIGN 8U
#define TB_FLAG_SET 0x01U

/* swap_info low nibble, as bootutil_public.h */
enum tb_swap_type {
    TB_SWAP_NONE = 1,
    TB_SWAP_TEST = 2,
    TB_SWAP_PERM = 3,
    TB_SWAP_REVERT = 4,
    TB_SWAP_FAIL = 5,
};

/* Offsets from the start of a slot of slot_size bytes, for BOOT_MAX_ALIGN = max_align. */
struct tb_trailer_layout {
    uint32_t max_align;
    uint32_t magic_off;     /* start of the magic's aligned area (magic ends at the slot end) */
    uint32_t image_ok_off;
    uint32_t copy_done_off;
    uint32_t swap_info_off;
    uint32_t swap_size_off;
};

/* max_align must be a power of two in 8..32. Returns TB_OK or TB_E_INVAL. */
int tb_trailer_layout(uint32_t slot_size, uint32_t max_align, struct tb_trailer_layout *l);
/* The 16 magic bytes for max_align (8: the classic magic; >8: u16 LE align + 14 bytes). */
void tb_trailer_magic(uint32_t max_align, uint8_t out[TB_TRAILER_MAGIC_SIZE]);

#ifdef __cplusplus
}
#endif
#endif
