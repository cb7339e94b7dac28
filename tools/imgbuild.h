/* Building a signed MCUboot image, with imgtool's options and byte layout. */
#ifndef TB_TOOLS_IMGBUILD_H
#define TB_TOOLS_IMGBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"
#include "twinboot/image.h"

struct tb_sign_opts {
    struct tb_image_version version;
    uint32_t header_size;  /* --header-size */
    bool pad_header;       /* --pad-header: prepend header_size erased bytes */
    uint32_t slot_size;    /* --slot-size (required, as imgtool) */
    bool pad;              /* --pad: fill to slot_size and write the trailer magic */
    bool confirm;          /* --confirm: image_ok = 1 (implies pad) */
    uint32_t align;        /* --align: flash write size, 1..32 */
    uint32_t max_align;    /* --max-align; 0 = max(8, align) */
    uint32_t max_sectors;  /* --max-sectors; 0 = 128 */
    bool overwrite_only;   /* --overwrite-only */
    bool has_sec_cnt;      /* --security-counter */
    uint32_t sec_cnt;
    size_t ndeps;          /* --dependencies */
    struct tb_image_dep deps[TB_IMAGE_MAX_DEPS];
    bool pubkey_full;      /* --public-key-format full */
    bool non_bootable;     /* --non-bootable */
    bool rom_fixed;        /* --rom-fixed: ROM_FIXED flag, load_addr = hex base */
    bool has_load_addr;    /* --load-addr: RAM_LOAD */
    uint32_t load_addr;
    uint8_t erased_val;    /* -R / --erased-val, default 0xff */
    int sha;               /* 256, 384, 512 */
    /* compressed images (tools/imgcompress.c fills these in) */
    uint32_t comp_flags;        /* TB_IMAGE_F_COMPRESSED_* header flags */
    const uint8_t *comp_tlvs;   /* the DECOMP_* protected TLVs, encoded, after the others */
    size_t comp_tlvs_len;
};

void tb_sign_opts_default(struct tb_sign_opts *o);

struct tb_signed {
    uint8_t *data;       /* the image, padded to slot_size when pad */
    size_t len;
    size_t image_len;    /* header + payload + TLVs */
    uint32_t max_align;
    bool has_image_ok;   /* trailer image_ok written (for the HEX form) */
    uint32_t image_ok_off;
    uint32_t magic_off;  /* start of the 16 magic bytes, when pad */
};

/* key may be NULL (an unsigned image: hash TLV only). 0, or -1 with a message. */
int tb_sign_image(const struct tb_sign_opts *o, const struct tbk_key *key, const uint8_t *in,
                  size_t in_len, struct tb_signed *out, char *err, size_t errlen);
void tb_signed_free(struct tb_signed *s);

/* "1.2.3+4", "1.2", "1.2.3": 0 or -1. */
int tb_parse_version(const char *s, struct tb_image_version *v);
/* imgtool's --dependencies "(1,1.0.0+0), (0, 2.1)": count or -1. */
int tb_parse_dependencies(const char *s, struct tb_image_dep *deps, size_t max);

#endif
