/* Compressed images, the format side: what the image rebuilds, read from
 * its header and TLVs. No decoder here (lib/decompress.c has it), so the
 * SMP server can check sizes without linking the decoder's RAM. */
#include <string.h>

#include "le.h"
#include "twinboot/decompress.h"
#include "twinboot/error.h"

/* Largest DECOMP_SIGNATURE accepted (RSA-3072: 384 bytes). */
#define TB_DECOMP_SIG_MAX 512U

struct tlv_out {
    uint8_t *buf; /* NULL: only count */
    uint32_t cap, pos;
};

static int put(struct tlv_out *o, const uint8_t *p, uint32_t n)
{
    if (o->buf != NULL) {
        if (n > o->cap - o->pos || o->pos > o->cap) {
            return TB_E_NOSPACE;
        }
        memcpy(o->buf + o->pos, p, n);
    }
    o->pos += n;
    return TB_OK;
}

static int put_tlv_hdr(struct tlv_out *o, uint16_t type, uint16_t len)
{
    uint8_t th[4];
    tb_put16(th, type);
    tb_put16(th + 2, len);
    return put(o, th, sizeof(th));
}

/* Copy a TLV value from flash into the output. */
static int put_value(struct tlv_out *o, const struct tb_area *src, uint32_t voff, uint16_t len)
{
    if (o->buf == NULL) {
        o->pos += len;
        return TB_OK;
    }
    if (len > o->cap - o->pos || o->pos > o->cap) {
        return TB_E_NOSPACE;
    }
    int rc = tb_area_read(src, voff, o->buf + o->pos, len);
    o->pos += len;
    return rc;
}

static bool is_sig(uint16_t type)
{
    return type == TB_TLV_RSA2048_PSS || type == TB_TLV_ECDSA224 || type == TB_TLV_ECDSA_SIG ||
           type == TB_TLV_RSA3072_PSS || type == TB_TLV_ED25519;
}

static bool is_hash(uint16_t type) { return type == TB_TLV_SHA256 || type == TB_TLV_SHA384 || type == TB_TLV_SHA512; }

static bool is_decomp(uint16_t type)
{
    return type == TB_TLV_DECOMP_SIZE || type == TB_TLV_DECOMP_SHA || type == TB_TLV_DECOMP_SIGNATURE;
}

int tb_decomp_describe(const struct tb_area *src, struct tb_decomp_desc *d, uint8_t *tlv, uint32_t tlv_cap)
{
    struct tb_tlv_iter it;
    uint16_t type, len, sha_len = 0, sig_len = 0;
    uint32_t voff, sha_off = 0, sig_off = 0, prot_len = 0;
    bool prot, have_size = false;
    uint8_t v[4];
    memset(d, 0, sizeof(*d));
    int rc = tb_image_read_header(src, &d->hdr);
    if (rc != TB_OK) {
        return rc;
    }
    if ((d->hdr.flags & TB_IMAGE_F_COMPRESSED_LZMA1) || !(d->hdr.flags & TB_IMAGE_F_COMPRESSED_LZMA2)) {
        return TB_E_UNSUPPORTED; /* MCUboot's format is LZMA2; LZMA1 was never written by imgtool */
    }
    d->arm_thumb = (d->hdr.flags & TB_IMAGE_F_COMPRESSED_ARM_THUMB) != 0;

    /* pass 1: the DECOMP_* TLVs, and the size of the protected TLVs that stay */
    rc = tb_tlv_iter_begin(&it, src, &d->hdr, true);
    if (rc != TB_OK) {
        return rc;
    }
    while ((rc = tb_tlv_iter_next(&it, &type, &len, &voff, &prot)) == 1) {
        if (type == TB_TLV_DECOMP_SIZE) {
            if (len != 4 || have_size) {
                return TB_E_IMG_DECOMP;
            }
            rc = tb_area_read(src, voff, v, 4);
            if (rc != TB_OK) {
                return rc;
            }
            d->out.img_size = tb_get32(v);
            have_size = true;
        } else if (type == TB_TLV_DECOMP_SHA) {
            if ((len != 32 && len != 48 && len != 64) || sha_len != 0) {
                return TB_E_IMG_DECOMP;
            }
            sha_off = voff;
            sha_len = len;
        } else if (type == TB_TLV_DECOMP_SIGNATURE) {
            if (len == 0 || len > TB_DECOMP_SIG_MAX || sig_len != 0) {
                return TB_E_IMG_DECOMP;
            }
            sig_off = voff;
            sig_len = len;
        } else {
            prot_len += 4U + len;
        }
    }
    if (rc < 0) {
        return rc;
    }
    if (!have_size || sha_len == 0) {
        return TB_E_IMG_DECOMP;
    }

    /* the LZMA2 header: dictionary size byte, then (pb * 5 + lp) * 9 + lc */
    uint8_t lz[2];
    if (d->hdr.img_size < sizeof(lz)) {
        return TB_E_IMG_DECOMP;
    }
    rc = tb_area_read(src, d->hdr.hdr_size, lz, sizeof(lz));
    if (rc != TB_OK) {
        return rc;
    }
    if (lz[0] > 40U || lz[1] >= 9U * 5U * 5U) {
        return TB_E_IMG_DECOMP;
    }
    d->dict_size = lz[0] == 40U ? 0xffffffffU : (2U | (lz[0] & 1U)) << (lz[0] / 2U + 11U);

    /* pass 2: the rebuilt TLV area */
    struct tlv_out o = {tlv, tlv_cap, 0};
    if (prot_len > 0) {
        rc = put_tlv_hdr(&o, TB_TLV_PROT_INFO_MAGIC, (uint16_t)(prot_len + TB_TLV_INFO_SIZE));
    }
    uint32_t unprot_at = 0;
    bool in_unprot = false;
    rc = rc == TB_OK ? tb_tlv_iter_begin(&it, src, &d->hdr, false) : rc;
    if (rc != TB_OK) {
        return rc;
    }
    while (rc == TB_OK) {
        int n = tb_tlv_iter_next(&it, &type, &len, &voff, &prot);
        if (n <= 0) {
            rc = n;
            break;
        }
        if (prot && is_decomp(type)) {
            continue;
        }
        if (!prot && !in_unprot) {
            in_unprot = true;
            unprot_at = o.pos;
            rc = put_tlv_hdr(&o, TB_TLV_INFO_MAGIC, 0); /* total filled in below */
            if (rc != TB_OK) {
                break;
            }
        }
        if (!prot && is_hash(type)) {
            rc = put_tlv_hdr(&o, type, sha_len);
            rc = rc == TB_OK ? put_value(&o, src, sha_off, sha_len) : rc;
        } else if (!prot && is_sig(type)) {
            if (sig_len == 0) {
                continue; /* an unsigned inner image: no signature to put back */
            }
            rc = put_tlv_hdr(&o, type, sig_len);
            rc = rc == TB_OK ? put_value(&o, src, sig_off, sig_len) : rc;
        } else {
            rc = put_tlv_hdr(&o, type, len);
            rc = rc == TB_OK ? put_value(&o, src, voff, len) : rc;
        }
    }
    if (rc != TB_OK) {
        return rc == TB_E_NOSPACE ? TB_E_IMG_DECOMP : rc;
    }
    if (!in_unprot || o.pos - unprot_at > 0xffffU || prot_len + TB_TLV_INFO_SIZE > 0xffffU) {
        return TB_E_IMG_DECOMP;
    }
    if (tlv != NULL) {
        tb_put16(tlv + unprot_at + 2, (uint16_t)(o.pos - unprot_at));
    }
    d->tlv_len = o.pos;
    d->out.magic = d->hdr.magic;
    d->out.load_addr = d->hdr.load_addr;
    d->out.hdr_size = d->hdr.hdr_size;
    d->out.protect_tlv_size = (uint16_t)(prot_len > 0 ? prot_len + TB_TLV_INFO_SIZE : 0);
    d->out.flags = d->hdr.flags & ~TB_IMAGE_F_COMPRESSED;
    d->out.ver = d->hdr.ver;
    uint64_t total = (uint64_t)d->hdr.hdr_size + d->out.img_size + d->tlv_len;
    if (total > 0xffffffffULL) {
        return TB_E_IMG_TOO_LARGE;
    }
    d->out_size = (uint32_t)total;
    return TB_OK;
}

int tb_decomp_fits(const struct tb_area *src, uint32_t primary_size)
{
    struct tb_image_header h;
    int rc = tb_image_read_header(src, &h);
    if (rc != TB_OK) {
        return rc;
    }
    if (!tb_image_compressed(&h)) {
        struct tb_tlv_iter it;
        rc = tb_tlv_iter_begin(&it, src, &h, false);
        return rc != TB_OK ? rc : it.end <= primary_size ? TB_OK : TB_E_IMG_TOO_LARGE;
    }
    struct tb_decomp_desc d;
    rc = tb_decomp_describe(src, &d, NULL, 0);
    if (rc != TB_OK) {
        return rc;
    }
    return d.out_size <= primary_size ? TB_OK : TB_E_IMG_TOO_LARGE;
}
