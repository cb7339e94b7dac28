/* Compressed images: MCUboot's LZMA2 (and LZMA2 + ARM-Thumb BCJ) format, as
 * imgtool writes it with --compression lzma2|lzma2armthumb.
 *
 * A compressed image carries, in its protected TLVs, the image it stands
 * for: DECOMP_SIZE (that image's img_size), DECOMP_SHA (its hash TLV) and
 * DECOMP_SIGNATURE (its signature). tb_decomp_open() gives a read-only view
 * of that rebuilt image: a tb_area whose bytes are its header, its payload
 * (decoded from the stream on the fly, in order) and its TLVs. The engine
 * validates the view like any image (so DECOMP_SHA and DECOMP_SIGNATURE are
 * checked before anything is written) and then copies it sector by sector
 * into the primary, exactly as it copies a plain secondary.
 *
 * Reads of the payload should move forward: a read behind the decoder's
 * position starts the stream again from its beginning (that is also how an
 * install interrupted by a power cut goes on: decode from the start, skip
 * what the journal says is done).
 *
 * RAM: one decoder, statically allocated: the LZMA dictionary (up to
 * TB_DECOMP_DICT_MAX, imgtool uses 128 KiB), the LZMA probability tables
 * (28 KiB for lc + lp <= 4) and small buffers; see TB_DECOMP_RAM. There is
 * one view at a time: tb_decomp_open() replaces the previous one.
 */
#ifndef TWINBOOT_DECOMPRESS_H
#define TWINBOOT_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twinboot/flash.h"
#include "twinboot/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Protected TLVs of a compressed image (MCUboot's IMAGE_TLV_DECOMP_*). */
#define TB_TLV_DECOMP_SIZE 0x70U
#define TB_TLV_DECOMP_SHA 0x71U
#define TB_TLV_DECOMP_SIGNATURE 0x72U

#define TB_IMAGE_F_COMPRESSED (TB_IMAGE_F_COMPRESSED_LZMA1 | TB_IMAGE_F_COMPRESSED_LZMA2 | TB_IMAGE_F_COMPRESSED_ARM_THUMB)

/* Largest LZMA2 dictionary the device decodes with (imgtool: 128 KiB). */
#define TB_DECOMP_DICT_MAX (128U * 1024U)
/* Largest TLV area of a rebuilt image (keys, hash, signature, protected TLVs). */
#define TB_DECOMP_TLV_MAX 1024U
/* The decoder's static RAM: dictionary + probability tables (lc + lp <= 4:
 * (1846 + 0x300 << 4) 16-bit entries) + alignment. */
#define TB_DECOMP_PROBS_MAX ((1846U + (0x300U << 4)) * 2U)
#define TB_DECOMP_RAM (TB_DECOMP_DICT_MAX + TB_DECOMP_PROBS_MAX + 64U)

#ifdef TB_CONFIG_DECOMP_ARENA_EXTERNAL
/* Built with TB_CONFIG_DECOMP_ARENA_EXTERNAL, the decoder's RAM is not a
 * static array but a region the port names once at start-up (8-byte
 * aligned, TB_DECOMP_RAM bytes): a bootloader whose own RAM is small can
 * lend it RAM the application gets back after the jump. Without one, a
 * compressed image is refused (TB_E_UNSUPPORTED), never decoded half-way. */
void tb_decomp_set_arena(void *ram, size_t size);
#endif

struct tb_decomp_stats {
    uint32_t starts;  /* decodes begun from the start of the stream */
    uint64_t decoded; /* payload bytes decoded, over all starts */
    uint64_t read;    /* compressed bytes read from flash, over all starts */
};

static inline bool tb_image_compressed(const struct tb_image_header *h)
{
    return (h->flags & TB_IMAGE_F_COMPRESSED) != 0;
}

/* What a compressed image rebuilds, read from its header and TLVs alone
 * (no decoding, no large buffers: usable by the SMP server at upload time). */
struct tb_decomp_desc {
    struct tb_image_header hdr; /* the compressed image's header */
    struct tb_image_header out; /* the rebuilt image's header */
    uint32_t out_size;          /* rebuilt image: hdr_size + DECOMP_SIZE + its TLV area */
    uint32_t tlv_len;           /* its TLV area */
    uint32_t dict_size;         /* LZMA2 dictionary the stream needs */
    bool arm_thumb;             /* undo the ARM-Thumb BCJ filter after decoding */
};

/* Describe the image src's compressed image rebuilds; if tlv is not NULL,
 * also build the rebuilt image's TLV area there (tlv_cap bytes): protected
 * TLVs less DECOMP_*, then the unprotected ones with the hash TLV's value
 * replaced by DECOMP_SHA and the signature's by DECOMP_SIGNATURE, in their
 * order (which is how imgtool lays out the plain image). src must hold an
 * image whose structure tb_image_validate() accepted. */
int tb_decomp_describe(const struct tb_area *src, struct tb_decomp_desc *d, uint8_t *tlv, uint32_t tlv_cap);

/* TB_OK if the image in src fits an image area of primary_size bytes once
 * installed: its own size, or for a compressed image the rebuilt one's. */
int tb_decomp_fits(const struct tb_area *src, uint32_t primary_size);

/* Open the view of the image that the compressed image in src rebuilds.
 * src must hold a compressed image whose structure tb_image_validate()
 * accepted. The view is size bytes (rounded down to whole sectors), with
 * the given geometry (that of the slot it will be copied into); past the
 * rebuilt image it reads as erased. TB_E_IMG_DECOMP if the compression TLVs
 * or the stream header are malformed, TB_E_IMG_TOO_LARGE if the rebuilt
 * image does not fit the view, TB_E_UNSUPPORTED for LZMA1 or a dictionary
 * larger than TB_DECOMP_DICT_MAX. Reads of the view return TB_E_IMG_DECODE
 * if the stream is corrupt. */
int tb_decomp_open(const struct tb_area *src, uint32_t size, uint32_t sector_size, uint32_t write_size,
                   uint8_t erased_val, struct tb_area *view);

/* The rebuilt image's size (header + payload + TLVs) of the open view. */
uint32_t tb_decomp_image_size(void);

/* Counters since the last tb_decomp_open() (for tests and the bench). */
void tb_decomp_get_stats(struct tb_decomp_stats *st);

#ifdef __cplusplus
}
#endif
#endif
