/* MCUboot image parsing and validation.
 *
 * Follows bootutil (image_validate.c, tlv.c) so that what imgtool signs is
 * accepted and what MCUboot refuses is refused, with two differences on
 * purpose: every malformed input has its own error code, and every length
 * from the image is checked against the slot before it is used.
 */
#include "le.h"
#include "twinboot/image.h"

#include <string.h>

#include "twinboot/crypto.h"
#include "twinboot/error.h"

/* Chunk for streaming the image through the hash: small enough for a
 * bootloader stack, big enough that flash read overhead stays low. */
#define TB_IMAGE_CHUNK 256U
/* Largest signature we verify: RSA-2048 (256 B); DER ECDSA-P256 is <= 72 B. */
#define TB_SIG_MAX 256U

void tb_image_version_decode(const uint8_t raw[8], struct tb_image_version *v)
{
    v->major = raw[0];
    v->minor = raw[1];
    v->revision = tb_get16(raw + 2);
    v->build = tb_get32(raw + 4);
}

void tb_image_version_encode(const struct tb_image_version *v, uint8_t raw[8])
{
    raw[0] = v->major;
    raw[1] = v->minor;
    tb_put16(raw + 2, v->revision);
    tb_put32(raw + 4, v->build);
}

void tb_image_header_decode(const uint8_t raw[TB_IMAGE_HEADER_SIZE], struct tb_image_header *h)
{
    h->magic = tb_get32(raw + 0);
    h->load_addr = tb_get32(raw + 4);
    h->hdr_size = tb_get16(raw + 8);
    h->protect_tlv_size = tb_get16(raw + 10);
    h->img_size = tb_get32(raw + 12);
    h->flags = tb_get32(raw + 16);
    tb_image_version_decode(raw + 20, &h->ver);
}

void tb_image_header_encode(const struct tb_image_header *h, uint8_t raw[TB_IMAGE_HEADER_SIZE])
{
    memset(raw, 0, TB_IMAGE_HEADER_SIZE);
    tb_put32(raw + 0, h->magic);
    tb_put32(raw + 4, h->load_addr);
    tb_put16(raw + 8, h->hdr_size);
    tb_put16(raw + 10, h->protect_tlv_size);
    tb_put32(raw + 12, h->img_size);
    tb_put32(raw + 16, h->flags);
    tb_image_version_encode(&h->ver, raw + 20);
}

int tb_image_read_header(const struct tb_area *slot, struct tb_image_header *h)
{
    uint8_t raw[TB_IMAGE_HEADER_SIZE];
    int rc = tb_area_read(slot, 0, raw, sizeof(raw));
    if (rc != TB_OK) {
        return rc;
    }
    bool erased = true;
    for (size_t i = 0; i < sizeof(raw); i++) {
        erased = erased && raw[i] == slot->flash->erased_val;
    }
    if (erased) {
        return TB_E_IMG_EMPTY;
    }
    tb_image_header_decode(raw, h);
    if (h->magic != TB_IMAGE_MAGIC) {
        return TB_E_IMG_MAGIC;
    }
    if (h->hdr_size < TB_IMAGE_HEADER_SIZE || h->hdr_size >= slot->size) {
        return TB_E_IMG_HDR_SIZE;
    }
    /* As bootutil: header + payload + protected TLVs strictly inside the slot
     * (the unprotected TLV info must still follow). 64-bit: no wrap-around. */
    uint64_t end = (uint64_t)h->hdr_size + h->img_size + h->protect_tlv_size;
    if (end >= slot->size) {
        return TB_E_IMG_TOO_LARGE;
    }
    return TB_OK;
}

int tb_tlv_iter_begin(struct tb_tlv_iter *it, const struct tb_area *slot,
                      const struct tb_image_header *h, bool prot_only)
{
    uint8_t info[TB_TLV_INFO_SIZE];
    uint64_t tlv_off = (uint64_t)h->hdr_size + h->img_size;
    uint64_t prot_end = tlv_off + h->protect_tlv_size;
    int rc;

    if (prot_end + TB_TLV_INFO_SIZE > slot->size) {
        return TB_E_IMG_TLV_OVERFLOW;
    }
    if (h->protect_tlv_size != 0) {
        if (h->protect_tlv_size < TB_TLV_INFO_SIZE) {
            return TB_E_IMG_PROT_SIZE;
        }
        rc = tb_area_read(slot, (uint32_t)tlv_off, info, sizeof(info));
        if (rc != TB_OK) {
            return rc;
        }
        if (tb_get16(info) != TB_TLV_PROT_INFO_MAGIC) {
            return TB_E_IMG_TLV_MAGIC;
        }
        if (tb_get16(info + 2) != h->protect_tlv_size) {
            return TB_E_IMG_PROT_SIZE;
        }
    }
    rc = tb_area_read(slot, (uint32_t)prot_end, info, sizeof(info));
    if (rc != TB_OK) {
        return rc;
    }
    if (tb_get16(info) == TB_TLV_PROT_INFO_MAGIC) {
        /* a protected area the header does not account for */
        return TB_E_IMG_PROT_SIZE;
    }
    if (tb_get16(info) != TB_TLV_INFO_MAGIC) {
        return TB_E_IMG_TLV_MAGIC;
    }
    uint16_t tot = tb_get16(info + 2);
    if (tot < TB_TLV_INFO_SIZE) {
        return TB_E_IMG_TLV_LEN;
    }
    if (prot_end + tot > slot->size) {
        return TB_E_IMG_TLV_OVERFLOW;
    }
    it->slot = slot;
    it->off = (uint32_t)tlv_off + TB_TLV_INFO_SIZE;
    it->prot_end = (uint32_t)prot_end;
    it->end = (uint32_t)(prot_end + tot);
    it->prot_only = prot_only;
    return TB_OK;
}

int tb_tlv_iter_next(struct tb_tlv_iter *it, uint16_t *type, uint16_t *len, uint32_t *val_off,
                     bool *is_protected)
{
    uint8_t th[4];
    /* Crossing from the protected into the unprotected section: skip its info header.
     * Without a protected area, the iterator starts past prot_end and never lands here. */
    if (it->off == it->prot_end) {
        if (it->prot_only) {
            return 0;
        }
        it->off += TB_TLV_INFO_SIZE;
    }
    if (it->off >= it->end) {
        return 0;
    }
    bool prot = it->off < it->prot_end;
    if (it->prot_only && !prot) {
        return 0;
    }
    uint32_t section_end = prot ? it->prot_end : it->end;
    if ((uint64_t)it->off + sizeof(th) > section_end) {
        return TB_E_IMG_TLV_LEN;
    }
    int rc = tb_area_read(it->slot, it->off, th, sizeof(th));
    if (rc != TB_OK) {
        return rc;
    }
    uint16_t l = tb_get16(th + 2);
    if ((uint64_t)it->off + sizeof(th) + l > section_end) {
        return TB_E_IMG_TLV_LEN;
    }
    *type = tb_get16(th);
    *len = l;
    *val_off = it->off + (uint32_t)sizeof(th);
    if (is_protected != NULL) {
        *is_protected = prot;
    }
    it->off += (uint32_t)sizeof(th) + l;
    return 1;
}

static int hash_alg_of_tlv(uint16_t type)
{
    switch (type) {
    case TB_TLV_SHA256: return TB_HASH_SHA256;
    case TB_TLV_SHA384: return TB_HASH_SHA384;
    case TB_TLV_SHA512: return TB_HASH_SHA512;
    default: return 0;
    }
}

static uint16_t sig_tlv_of_key(uint16_t key_type)
{
    switch (key_type) {
    case TB_KEY_ECDSA_P256:
    case TB_KEY_ECDSA_P384: return TB_TLV_ECDSA_SIG;
    case TB_KEY_RSA2048: return TB_TLV_RSA2048_PSS;
    case TB_KEY_ED25519: return TB_TLV_ED25519;
    default: return 0;
    }
}

/* Feed [off, off+len) of the slot into a hash context, a chunk at a time. */
static int hash_area(struct tb_hash_ctx *c, const struct tb_area *slot, uint32_t off, uint32_t len)
{
    uint8_t buf[TB_IMAGE_CHUNK];
    while (len > 0) {
        uint32_t n = len < sizeof(buf) ? len : (uint32_t)sizeof(buf);
        int rc = tb_area_read(slot, off, buf, n);
        if (rc == TB_OK) {
            rc = tb_hash_update(c, buf, n);
        }
        if (rc != TB_OK) {
            return rc;
        }
        off += n;
        len -= n;
    }
    return TB_OK;
}

static int digest_area(int alg, const struct tb_area *slot, uint32_t off, uint32_t len, uint8_t *out)
{
    struct tb_hash_ctx c;
    int rc = tb_hash_init(&c, alg);
    if (rc != TB_OK) {
        return rc;
    }
    rc = hash_area(&c, slot, off, len);
    if (rc != TB_OK) {
        tb_hash_abort(&c);
        return rc;
    }
    return tb_hash_finish(&c, out);
}

/* The trusted key whose DER hashes (with alg, the image's hash) to h, or -1. */
static int find_key(const struct tb_keyring *keys, int alg, const uint8_t *h, size_t hlen, int *index)
{
    *index = -1;
    for (size_t i = 0; i < keys->count; i++) {
        uint8_t kh[64];
        struct tb_hash_ctx c;
        int rc = tb_hash_init(&c, alg);
        if (rc == TB_OK) {
            rc = tb_hash_update(&c, keys->keys[i].der, keys->keys[i].der_len);
            if (rc != TB_OK) {
                tb_hash_abort(&c);
                return rc;
            }
            rc = tb_hash_finish(&c, kh);
        }
        if (rc != TB_OK) {
            return rc;
        }
        if (hlen == tb_hash_len(alg) && memcmp(kh, h, hlen) == 0) {
            *index = (int)i;
            return TB_OK;
        }
    }
    return TB_OK;
}

/* Pass 1: structure of every TLV, the hash TLV, security counter, dependencies. */
static int scan_tlvs(const struct tb_area *slot, struct tb_image_info *info)
{
    struct tb_tlv_iter it;
    uint16_t type, len;
    uint32_t voff;
    bool prot;
    int rc = tb_tlv_iter_begin(&it, slot, &info->hdr, false);
    if (rc != TB_OK) {
        return rc;
    }
    info->tlv_end = it.end;
    while ((rc = tb_tlv_iter_next(&it, &type, &len, &voff, &prot)) == 1) {
        uint8_t v[12];
        int alg = hash_alg_of_tlv(type);
        if (alg != 0) {
            if (info->hash_type == 0) {
                if (len != tb_hash_len(alg)) {
                    return TB_E_IMG_TLV_LEN;
                }
                info->hash_type = type;
                info->hash_len = (uint8_t)len;
            }
        } else if (type == TB_TLV_SEC_CNT || type == TB_TLV_DEPENDENCY) {
            /* Only the protected area is signed: outside it anyone could add these. */
            if (!prot) {
                return TB_E_IMG_TLV_UNPROTECTED;
            }
            if (len != (type == TB_TLV_SEC_CNT ? 4 : 12)) {
                return TB_E_IMG_TLV_LEN;
            }
            rc = tb_area_read(slot, voff, v, len);
            if (rc != TB_OK) {
                return rc;
            }
            if (type == TB_TLV_SEC_CNT) {
                info->has_sec_cnt = true;
                info->sec_cnt = tb_get32(v);
            } else {
                if (info->dep_count >= TB_IMAGE_MAX_DEPS) {
                    return TB_E_IMG_TOO_MANY_DEPS;
                }
                struct tb_image_dep *d = &info->deps[info->dep_count++];
                d->image_id = v[0];
                tb_image_version_decode(v + 4, &d->min_version);
            }
        } else if (type == TB_TLV_KEYHASH && len != 32 && len != 48 && len != 64) {
            return TB_E_IMG_TLV_LEN;
        } else if (type == TB_TLV_SIG_PURE) {
            /* bootutil: one byte, and only the value 1 means pure */
            if (len != 1) {
                return TB_E_IMG_TLV_LEN;
            }
            rc = tb_area_read(slot, voff, v, 1);
            if (rc != TB_OK) {
                return rc;
            }
            info->pure = v[0] == 1;
        }
    }
    if (rc < 0) {
        return rc;
    }
    /* A pure-signed image may come without a hash TLV (imgtool before the
     * compression support wrote none): its signature is then all there is. */
    return info->hash_type == 0 && !info->pure ? TB_E_IMG_NO_HASH : TB_OK;
}

/* Every hash TLV of the image's type must hold the digest: bootutil checks
 * each EXPECTED_HASH_TLV it meets, so a second, wrong one refuses the image.
 * Hash TLVs of another type are not checked, as in bootutil (which is built
 * for one hash algorithm). */
static int check_hash_tlvs(const struct tb_area *slot, const struct tb_image_info *info)
{
    struct tb_tlv_iter it;
    uint16_t type, len;
    uint32_t voff;
    uint8_t want[64];
    int rc = tb_tlv_iter_begin(&it, slot, &info->hdr, false);
    if (rc != TB_OK) {
        return rc;
    }
    while ((rc = tb_tlv_iter_next(&it, &type, &len, &voff, NULL)) == 1) {
        if (type != info->hash_type) {
            continue;
        }
        if (len != info->hash_len) {
            return TB_E_IMG_TLV_LEN;
        }
        rc = tb_area_read(slot, voff, want, len);
        if (rc != TB_OK) {
            return rc;
        }
        if (memcmp(want, info->hash, len) != 0) {
            return TB_E_IMG_HASH_MISMATCH;
        }
    }
    return rc < 0 ? rc : TB_OK;
}

/* Pure signatures cover the hashed range itself; only Ed25519 signs so
 * (imgtool --pure), and only where the slot is memory-mapped. */
static int verify_one(const struct tb_area *slot, const struct tb_key *k, const struct tb_image_info *info,
                      const uint8_t *sig, size_t sig_len)
{
    if (!info->pure) {
        return tb_sig_verify(k->type, k->der, k->der_len, info->hash, info->hash_len, sig, sig_len);
    }
    if (k->type != TB_KEY_ED25519 || slot->flash->mapped == NULL) {
        return TB_E_UNSUPPORTED;
    }
    uint32_t n = info->tlv_off + info->hdr.protect_tlv_size;
    int rc = tb_area_check(slot, 0, n);
    if (rc != TB_OK) {
        return rc;
    }
    return tb_sig_verify(k->type, k->der, k->der_len, slot->flash->mapped + slot->off, n, sig, sig_len);
}

/* Pass 2: key id TLVs and signatures, in order, as bootutil reads them: a
 * KEYHASH/PUBKEY selects the key for the signatures that follow it. */
static int check_signature(const struct tb_area *slot, const struct tb_keyring *keys,
                           struct tb_image_info *info)
{
    struct tb_tlv_iter it;
    uint16_t type, len;
    uint32_t voff;
    int cur = -1;
    bool saw_key_id = false, key_found = false, saw_sig = false;
    /* key hashes use the image's hash algorithm (SHA-256 for a pure image without one) */
    int alg = info->hash_type != 0 ? hash_alg_of_tlv(info->hash_type) : TB_HASH_SHA256;
    int rc = tb_tlv_iter_begin(&it, slot, &info->hdr, false);
    if (rc != TB_OK) {
        return rc;
    }
    while ((rc = tb_tlv_iter_next(&it, &type, &len, &voff, NULL)) == 1) {
        if (type == TB_TLV_KEYHASH || type == TB_TLV_PUBKEY) {
            uint8_t h[64];
            saw_key_id = true;
            if (type == TB_TLV_KEYHASH) {
                if (len != tb_hash_len(alg)) {
                    return TB_E_IMG_TLV_LEN;
                }
                rc = tb_area_read(slot, voff, h, len);
            } else {
                rc = digest_area(alg, slot, voff, len, h);
            }
            if (rc == TB_OK) {
                rc = find_key(keys, alg, h, tb_hash_len(alg), &cur);
            }
            if (rc != TB_OK) {
                return rc;
            }
            key_found = key_found || cur >= 0;
            continue;
        }
        if (cur < 0 || type != sig_tlv_of_key(keys->keys[cur].type)) {
            continue;
        }
        uint8_t sig[TB_SIG_MAX];
        if (len > sizeof(sig)) {
            return TB_E_IMG_TLV_LEN;
        }
        rc = tb_area_read(slot, voff, sig, len);
        if (rc != TB_OK) {
            return rc;
        }
        saw_sig = true;
        const struct tb_key *k = &keys->keys[cur];
        rc = verify_one(slot, k, info, sig, len);
        if (rc == TB_OK) {
            info->key_index = cur;
            info->sig_type = type;
            return TB_OK;
        }
        if (rc != TB_E_IMG_BAD_SIGNATURE) {
            return rc;
        }
    }
    if (rc < 0) {
        return rc;
    }
    if (saw_sig) {
        return TB_E_IMG_BAD_SIGNATURE;
    }
    if (saw_key_id && !key_found) {
        return TB_E_IMG_UNKNOWN_KEY;
    }
    return TB_E_IMG_NO_SIGNATURE;
}

int tb_image_validate(const struct tb_area *slot, const struct tb_keyring *keys,
                      struct tb_image_info *info)
{
    struct tb_hash_ctx c;

    if (slot == NULL || keys == NULL || info == NULL || (keys->count > 0 && keys->keys == NULL)) {
        return TB_E_INVAL;
    }
    memset(info, 0, sizeof(*info));
    info->key_index = -1;

    int rc = tb_image_read_header(slot, &info->hdr);
    if (rc != TB_OK) {
        return rc;
    }
    if (info->hdr.flags & TB_IMAGE_F_UNSUPPORTED) {
        return TB_E_IMG_FLAGS;
    }
    info->tlv_off = (uint32_t)info->hdr.hdr_size + info->hdr.img_size;

    rc = scan_tlvs(slot, info);
    if (rc != TB_OK) {
        return rc;
    }

    /* The digest covers header (with its padding), payload and the protected
     * TLVs. A pure image without a hash TLV still gets a SHA-256 identity. */
    int alg = info->hash_type != 0 ? hash_alg_of_tlv(info->hash_type) : TB_HASH_SHA256;
    info->hash_len = (uint8_t)tb_hash_len(alg);
    rc = tb_hash_init(&c, alg);
    if (rc != TB_OK) {
        return rc;
    }
    rc = hash_area(&c, slot, 0, info->tlv_off + info->hdr.protect_tlv_size);
    if (rc != TB_OK) {
        tb_hash_abort(&c);
        return rc;
    }
    rc = tb_hash_finish(&c, info->hash);
    if (rc == TB_OK && info->hash_type != 0) {
        rc = check_hash_tlvs(slot, info);
    }
    if (rc != TB_OK) {
        return rc;
    }
    if (keys->count == 0) {
        if (info->hash_type == 0) {
            return TB_E_IMG_NO_HASH; /* nothing vouches for a pure image without a key */
        }
        return TB_OK;
    }
    return check_signature(slot, keys, info);
}

int tb_image_verify_signature(const struct tb_area *slot, const struct tb_keyring *keys,
                              struct tb_image_info *info)
{
    if (slot == NULL || keys == NULL || info == NULL || (keys->count > 0 && keys->keys == NULL)) {
        return TB_E_INVAL;
    }
    return keys->count == 0 ? TB_OK : check_signature(slot, keys, info);
}

int tb_image_bootable(const struct tb_image_header *h)
{
    if (h->flags & TB_IMAGE_F_NON_BOOTABLE) {
        return TB_E_IMG_NON_BOOTABLE;
    }
    if (h->flags & TB_IMAGE_F_UNSUPPORTED) {
        return TB_E_IMG_FLAGS;
    }
    return TB_OK;
}

int tb_version_cmp(const struct tb_image_version *a, const struct tb_image_version *b, bool use_build)
{
    if (a->major != b->major) {
        return a->major < b->major ? -1 : 1;
    }
    if (a->minor != b->minor) {
        return a->minor < b->minor ? -1 : 1;
    }
    if (a->revision != b->revision) {
        return a->revision < b->revision ? -1 : 1;
    }
    if (use_build && a->build != b->build) {
        return a->build < b->build ? -1 : 1;
    }
    return 0;
}
