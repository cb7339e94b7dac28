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

/* A trailer as read from flash, in bootutil's terms. */
enum tb_magic_state { TB_MAGIC_GOOD = 1, TB_MAGIC_UNSET = 2, TB_MAGIC_BAD = 3 };
enum tb_flag_state { TB_FLAG_STATE_SET = 1, TB_FLAG_STATE_UNSET = 2, TB_FLAG_STATE_BAD = 3 };

struct tb_trailer_state {
    uint8_t magic;     /* enum tb_magic_state */
    uint8_t image_ok;  /* enum tb_flag_state */
    uint8_t copy_done; /* enum tb_flag_state */
    uint8_t swap_type; /* from swap_info; TB_SWAP_NONE when erased or out of range */
    uint8_t image_num; /* from swap_info */
};

/* max_align must be a power of two in 8..32. Returns TB_OK or TB_E_INVAL. */
int tb_trailer_layout(uint32_t slot_size, uint32_t max_align, struct tb_trailer_layout *l);
/* The 16 magic bytes for max_align (8: the classic magic; >8: u16 LE align + 14 bytes). */
void tb_trailer_magic(uint32_t max_align, uint8_t out[TB_TRAILER_MAGIC_SIZE]);

struct tb_area;

/* Read the trailer at the end of slot. */
int tb_trailer_read(const struct tb_area *slot, uint32_t max_align, struct tb_trailer_state *st);

/* MCUboot's swap-type table (bootutil_public.c boot_swap_tables), rows in order:
 * secondary magic GOOD + its image_ok UNSET -> TEST; + SET -> PERM;
 * primary magic GOOD, image_ok UNSET, copy_done SET -> REVERT; else NONE. */
int tb_swap_type(const struct tb_trailer_state *primary, const struct tb_trailer_state *secondary);

/* What a running application writes, exactly as Zephyr's boot_set_pending /
 * boot_set_confirmed do, so stock applications and twinboot agree:
 * request: only if the secondary's magic is UNSET: magic, [image_ok], swap_info
 *          (TEST, or PERM when permanent); GOOD already: nothing; BAD: TB_E_IMG_MAGIC.
 * confirm: primary magic GOOD and image_ok UNSET: image_ok = 1; UNSET magic:
 *          nothing; BAD: TB_E_IMG_MAGIC. */
int tb_trailer_request(const struct tb_area *secondary, uint32_t max_align, uint8_t image, int permanent);
int tb_trailer_confirm(const struct tb_area *primary, uint32_t max_align);

/* Write one trailer field (image_ok/copy_done: TB_FLAG_SET; swap_info: the byte)
 * at its offset, padded to the flash's write size; the magic last. */
int tb_trailer_write_byte(const struct tb_area *slot, uint32_t off, uint8_t val);
int tb_trailer_write_magic(const struct tb_area *slot, uint32_t max_align);

#ifdef __cplusplus
}
#endif
#endif
