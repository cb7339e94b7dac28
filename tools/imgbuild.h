/* Building a signed MCUboot image, with imgtool's options and byte layout. */
#ifndef TB_TOOLS_IMGBUILD_H
#define TB_TOOLS_IMGBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"
#include "twinboot/image.h"

#define TB_SIGN_MAX_CUSTOM 16

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
    bool has_rom_fixed;    /* -F/--rom-fixed ADDR: ROM_FIXED flag, load_addr = ADDR */
    uint32_t rom_fixed;
    bool has_load_addr;    /* --load-addr: RAM_LOAD */
    uint32_t load_addr;
    uint8_t erased_val;    /* -R / --erased-val, default 0xff */
    int sha;               /* --sha: 256, 384, 512, or 0 = auto (the key's own, else 256) */
    bool pure;             /* --pure: SIG_PURE, Ed25519 over the image itself (SHA-512) */
    bool pad_sig;          /* --pad-sig: ECDSA signature padded with zeros to 72 / 103 bytes */
    size_t ncustom;        /* --custom-tlv TAG VALUE (protected) */
    struct tb_custom_tlv {
        uint16_t tag;
        uint16_t len;
        const uint8_t *value;
    } custom[TB_SIGN_MAX_CUSTOM];
    const char *boot_record; /* --boot-record SW_TYPE: CBOR BOOT_RECORD TLV */
    bool has_vid, has_cid;   /* --vid / --cid: UUID_VID / UUID_CID TLVs (protected) */
    uint8_t vid[16], cid[16];
    /* External signing (an HSM): with vector_to_sign the output is what must
     * be signed; with fix_sig the given signature goes in instead of one
     * made with a private key. ext_pub: --fix-sig-pubkey. */
    enum { TB_VECTOR_NONE, TB_VECTOR_PAYLOAD, TB_VECTOR_DIGEST } vector_to_sign;
    const struct tbk_key *ext_pub;
    const uint8_t *fix_sig;
    size_t fix_sig_len;
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
    uint8_t sig[512];    /* the signature put in, for --sig-out */
    size_t sig_len;
};

/* key may be NULL (an unsigned image: hash TLV only). 0, or -1 with a message. */
int tb_sign_image(const struct tb_sign_opts *o, const struct tbk_key *key, const uint8_t *in,
                  size_t in_len, struct tb_signed *out, char *err, size_t errlen);
void tb_signed_free(struct tb_signed *s);

/* imgtool's --vid / --cid value: a UUID "xxxxxxxx-xxxx-..." as is, or a name
 * turned into a name-based UUID (v5): the VID from the DNS namespace, the CID
 * from the VID (ns = NULL for the DNS namespace). 0 or -1. */
int tb_parse_uuid(const char *s, const uint8_t *ns, uint8_t out[16]);

/* "1.2.3+4", "1.2", "1.2.3": 0 or -1. */
int tb_parse_version(const char *s, struct tb_image_version *v);
/* imgtool's --dependencies "(1,1.0.0+0), (0, 2.1)": count or -1. */
int tb_parse_dependencies(const char *s, struct tb_image_dep *deps, size_t max);

#endif
