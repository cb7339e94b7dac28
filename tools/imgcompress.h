/* Compressed images as imgtool 2.4.0 signs them with --compression. */
#ifndef TB_TOOLS_IMGCOMPRESS_H
#define TB_TOOLS_IMGCOMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "imgbuild.h"

enum tb_compression { TB_COMP_NONE = 0, TB_COMP_LZMA2 = 1, TB_COMP_LZMA2_ARMTHUMB = 2 };

/* "lzma2", "lzma2armthumb" (imgtool's names), "none": 0 or -1. */
int tb_parse_compression(const char *s, enum tb_compression *c);

/* Sign in as tb_sign_image does; with compression, sign the plain image
 * first (its hash and signature become DECOMP_SHA / DECOMP_SIGNATURE), then
 * the compressed one. As imgtool, the plain image is kept when compression
 * would not make it smaller (*compressed says which). Needs o->pad_header.
 * 0, or -1 with a message. */
int tb_sign_compressed(const struct tb_sign_opts *o, const struct tbk_key *key, const uint8_t *in, size_t in_len,
                       enum tb_compression comp, struct tb_signed *out, bool *compressed, char *err, size_t errlen);

/* The raw LZMA2 stream (no 2-byte header) imgtool makes of data: liblzma,
 * preset 9, 128 KiB dictionary, lc 3, lp 1, pb 2, ARM-Thumb BCJ first if
 * asked. Caller frees *out. 0 or -1. */
int tb_lzma2_compress(const uint8_t *data, size_t len, bool armthumb, uint8_t **out, size_t *out_len);

#endif
