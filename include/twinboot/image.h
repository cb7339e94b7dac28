/* MCUboot image format: header, TLVs, validation (what imgtool signs).
 *
 * Validation streams the image out of a tb_area in small chunks: no buffer
 * the size of an image, no heap, and every read is bounded by the slot.
 */
#ifndef TWINBOOT_IMAGE_H
#define TWINBOOT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twinboot/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TB_IMAGE_MAGIC 0x96f3b83dU
#define TB_IMAGE_MAGIC_V1 0x96f3b83cU
#define TB_IMAGE_HEADER_SIZE 32U
#define TB_IMAGE_MAX_DEPS 8

/* ih_flags */
#define TB_IMAGE_F_PIC 0x00000001U
#define TB_IMAGE_F_ENCRYPTED_AES128 0x00000004U
#define TB_IMAGE_F_ENCRYPTED_AES256 0x00000008U
#define TB_IMAGE_F_NON_BOOTABLE 0x00000010U
#define TB_IMAGE_F_RAM_LOAD 0x00000020U
#define TB_IMAGE_F_ROM_FIXED 0x00000100U
#define TB_IMAGE_F_COMPRESSED_LZMA1 0x00000200U
#define TB_IMAGE_F_COMPRESSED_LZMA2 0x00000400U
#define TB_IMAGE_F_COMPRESSED_ARM_THUMB 0x00000800U
/* Features twinboot does not implement: such images are refused. */
#define TB_IMAGE_F_UNSUPPORTED                                                                   \
    (TB_IMAGE_F_ENCRYPTED_AES128 | TB_IMAGE_F_ENCRYPTED_AES256 | TB_IMAGE_F_COMPRESSED_LZMA1 |     \
     TB_IMAGE_F_COMPRESSED_LZMA2 | TB_IMAGE_F_COMPRESSED_ARM_THUMB)

/* TLV area */
#define TB_TLV_INFO_MAGIC 0x6907U
#define TB_TLV_PROT_INFO_MAGIC 0x6908U
#define TB_TLV_INFO_SIZE 4U

enum tb_tlv_type {
    TB_TLV_KEYHASH = 0x01,
    TB_TLV_PUBKEY = 0x02,
    TB_TLV_SHA256 = 0x10,
    TB_TLV_SHA384 = 0x11,
    TB_TLV_SHA512 = 0x12,
    TB_TLV_RSA2048_PSS = 0x20,
    TB_TLV_ECDSA224 = 0x21,
    TB_TLV_ECDSA_SIG = 0x22,
    TB_TLV_RSA3072_PSS = 0x23,
    TB_TLV_ED25519 = 0x24,
    TB_TLV_SIG_PURE = 0x25,
    TB_TLV_ENC_RSA2048 = 0x30,
    TB_TLV_ENC_KW = 0x31,
    TB_TLV_ENC_EC256 = 0x32,
    TB_TLV_ENC_X25519 = 0x33,
    TB_TLV_ENC_X25519_SHA512 = 0x34,
    TB_TLV_DEPENDENCY = 0x40,
    TB_TLV_SEC_CNT = 0x50,
    TB_TLV_BOOT_RECORD = 0x60,
    TB_TLV_UUID_VID = 0x74,
    TB_TLV_UUID_CID = 0x75,
};
/* imgtool's --custom-tlv range (vendor TLVs, protected area). */
#define TB_TLV_VENDOR_MIN 0x00a0U
#define TB_TLV_VENDOR_MAX 0xfffeU

struct tb_image_version {
    uint8_t major;
    uint8_t minor;
    uint16_t revision;
    uint32_t build;
};

struct tb_image_header {
    uint32_t magic;
    uint32_t load_addr;
    uint16_t hdr_size;
    uint16_t protect_tlv_size;
    uint32_t img_size;
    uint32_t flags;
    struct tb_image_version ver;
};

struct tb_image_dep {
    uint8_t image_id;
    struct tb_image_version min_version;
};

/* What validation found out; filled as far as validation got. */
struct tb_image_info {
    struct tb_image_header hdr;
    uint32_t tlv_off;   /* hdr_size + img_size */
    uint32_t tlv_end;   /* end of the unprotected TLV area: the image's total size */
    uint16_t hash_type; /* TB_TLV_SHA256 / 384 / 512, 0 if none */
    uint8_t hash_len;
    uint8_t hash[64];   /* the computed digest (matches the TLV when valid) */
    int key_index;      /* trusted key that signed it, -1 if none */
    uint16_t sig_type;  /* TLV type of the verified signature, 0 if none */
    bool pure;          /* SIG_PURE: the signature covers the image bytes, not the digest */
    bool has_sec_cnt;
    uint32_t sec_cnt;
    uint8_t dep_count;
    struct tb_image_dep deps[TB_IMAGE_MAX_DEPS];
};

/* Trusted keys, as MCUboot embeds them: the DER bytes `imgtool getpub` prints
 * (SubjectPublicKeyInfo for ECDSA and Ed25519, PKCS#1 RSAPublicKey for RSA).
 * A KEYHASH TLV holds the key's DER hashed with the image's hash algorithm
 * (SHA-256, or SHA-384 / SHA-512 for images hashed so), as bootutil compares. */
enum tb_key_type { TB_KEY_ECDSA_P256 = 1, TB_KEY_RSA2048 = 2, TB_KEY_ED25519 = 3, TB_KEY_ECDSA_P384 = 4 };

struct tb_key {
    uint16_t type; /* enum tb_key_type */
    const uint8_t *der;
    uint16_t der_len;
};

struct tb_keyring {
    const struct tb_key *keys;
    size_t count; /* 0: no signature required (hash-only build, like MCUboot without a sign option) */
};

/* A version as the header and the DEPENDENCY TLV store it (8 bytes, little endian). */
void tb_image_version_decode(const uint8_t raw[8], struct tb_image_version *v);
void tb_image_version_encode(const struct tb_image_version *v, uint8_t raw[8]);

/* Decode the 32 raw header bytes (little endian). Checks nothing. */
void tb_image_header_decode(const uint8_t raw[TB_IMAGE_HEADER_SIZE], struct tb_image_header *h);
void tb_image_header_encode(const struct tb_image_header *h, uint8_t raw[TB_IMAGE_HEADER_SIZE]);

/* Read and check the header of the image in a slot (magic, sizes against the slot).
 * TB_E_IMG_EMPTY if the header is erased. */
int tb_image_read_header(const struct tb_area *slot, struct tb_image_header *h);

/* Full validation as MCUboot's bootutil_img_validate, plus bounds and format
 * checks: header, TLV structure, hash, key, signature, security counter,
 * dependencies. TB_OK only if the image is intact and (when keys->count > 0)
 * signed by a trusted key. Does not refuse NON_BOOTABLE: see tb_image_bootable(). */
int tb_image_validate(const struct tb_area *slot, const struct tb_keyring *keys,
                      struct tb_image_info *info);

/* The signature pass of tb_image_validate alone, for an image info that a
 * hash-only validation (keys->count == 0) just filled: the digest is not
 * computed again. TB_OK when keys->count == 0. */
int tb_image_verify_signature(const struct tb_area *slot, const struct tb_keyring *keys,
                              struct tb_image_info *info);

/* TB_OK if a validated image may be booted (flags), else the reason. */
int tb_image_bootable(const struct tb_image_header *h);

/* <0, 0, >0 as a is older, equal, newer than b. build is compared only if use_build. */
int tb_version_cmp(const struct tb_image_version *a, const struct tb_image_version *b, bool use_build);

/* Iterate the TLVs of an image. */
struct tb_tlv_iter {
    const struct tb_area *slot;
    uint32_t off;      /* next TLV header */
    uint32_t prot_end; /* end of the protected section (== start of the unprotected info) */
    uint32_t end;      /* end of the unprotected section */
    bool prot_only;
};

/* Validate the TLV info headers and start an iterator. */
int tb_tlv_iter_begin(struct tb_tlv_iter *it, const struct tb_area *slot,
                      const struct tb_image_header *h, bool prot_only);
/* 1 and the TLV's type/len/value offset, 0 at the end, or <0 on a malformed TLV. */
int tb_tlv_iter_next(struct tb_tlv_iter *it, uint16_t *type, uint16_t *len, uint32_t *val_off,
                     bool *is_protected);

#ifdef __cplusplus
}
#endif
#endif
