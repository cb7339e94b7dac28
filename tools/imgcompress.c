/* Compressed images, host side: imgtool's --compression with Debian's
 * liblzma (the same library Python's lzma module, which imgtool uses, wraps). */
#include "imgcompress.h"

#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twinboot/decompress.h"

/* imgtool's comp_default_* */
#define COMP_PRESET 9U
#define COMP_DICT (128U * 1024U)
#define COMP_LC 3U
#define COMP_LP 1U
#define COMP_PB 2U

int tb_parse_compression(const char *s, enum tb_compression *c)
{
    if (strcmp(s, "lzma2") == 0) {
        *c = TB_COMP_LZMA2;
    } else if (strcmp(s, "lzma2armthumb") == 0) {
        *c = TB_COMP_LZMA2_ARMTHUMB;
    } else if (strcmp(s, "none") == 0) {
        *c = TB_COMP_NONE;
    } else {
        return -1;
    }
    return 0;
}

int tb_lzma2_compress(const uint8_t *data, size_t len, bool armthumb, uint8_t **out, size_t *out_len)
{
    lzma_options_lzma lz;
    if (lzma_lzma_preset(&lz, COMP_PRESET)) {
        return -1;
    }
    lz.dict_size = COMP_DICT;
    lz.lc = COMP_LC;
    lz.lp = COMP_LP;
    lz.pb = COMP_PB;
    lzma_filter f[3];
    size_t n = 0;
    if (armthumb) {
        f[n++] = (lzma_filter){LZMA_FILTER_ARMTHUMB, NULL};
    }
    f[n++] = (lzma_filter){LZMA_FILTER_LZMA2, &lz};
    f[n] = (lzma_filter){LZMA_VLI_UNKNOWN, NULL};
    size_t cap = len + len / 2 + 4096, pos = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL) {
        return -1;
    }
    if (lzma_raw_buffer_encode(f, NULL, data, len, buf, &pos, cap) != LZMA_OK) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = pos;
    return 0;
}

/* The value of the first TLV of a type in the unprotected area of a signed image. */
static const uint8_t *tlv_value(const struct tb_signed *s, const struct tb_image_header *h, uint16_t type,
                                uint16_t *len)
{
    size_t off = (size_t)h->hdr_size + h->img_size + h->protect_tlv_size;
    if (off + 4 > s->image_len) {
        return NULL;
    }
    size_t end = off + (s->data[off + 2] | (size_t)s->data[off + 3] << 8);
    for (size_t p = off + 4; p + 4 <= end && end <= s->image_len;) {
        uint16_t t = (uint16_t)(s->data[p] | s->data[p + 1] << 8);
        uint16_t l = (uint16_t)(s->data[p + 2] | s->data[p + 3] << 8);
        if (t == type) {
            *len = l;
            return s->data + p + 4;
        }
        p += 4U + l;
    }
    return NULL;
}

static void put_tlv(uint8_t *b, size_t *pos, uint16_t type, const uint8_t *v, uint16_t len)
{
    b[*pos] = (uint8_t)type;
    b[*pos + 1] = (uint8_t)(type >> 8);
    b[*pos + 2] = (uint8_t)len;
    b[*pos + 3] = (uint8_t)(len >> 8);
    memcpy(b + *pos + 4, v, len);
    *pos += 4U + len;
}

int tb_sign_compressed(const struct tb_sign_opts *o, const struct tbk_key *key, const uint8_t *in, size_t in_len,
                       enum tb_compression comp, struct tb_signed *out, bool *compressed, char *err, size_t errlen)
{
    *compressed = false;
    if (comp == TB_COMP_NONE) {
        return tb_sign_image(o, key, in, in_len, out, err, errlen);
    }
    if (o->pure || o->vector_to_sign != TB_VECTOR_NONE || o->fix_sig != NULL) {
        snprintf(err, errlen, "unsupported: --compression with --pure or external signing");
        return -1;
    }
    if (!o->pad_header) {
        /* imgtool compresses the input as it is and puts the stream where the
         * header room was: without --pad-header there is none */
        snprintf(err, errlen, "--compression needs --pad-header (as imgtool)");
        return -1;
    }
    struct tb_signed plain;
    if (tb_sign_image(o, key, in, in_len, &plain, err, errlen) != 0) {
        return -1;
    }
    struct tb_image_header h;
    tb_image_header_decode(plain.data, &h);
    uint16_t sha_len = 0, sig_len = 0;
    const uint8_t *sha = NULL, *sig = NULL;
    static const uint16_t hashes[] = {TB_TLV_SHA256, TB_TLV_SHA384, TB_TLV_SHA512};
    static const uint16_t sigs[] = {TB_TLV_ECDSA_SIG, TB_TLV_ED25519, TB_TLV_RSA2048_PSS, TB_TLV_RSA3072_PSS};
    for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]) && sha == NULL; i++) {
        sha = tlv_value(&plain, &h, hashes[i], &sha_len);
    }
    for (size_t i = 0; key != NULL && i < sizeof(sigs) / sizeof(sigs[0]) && sig == NULL; i++) {
        sig = tlv_value(&plain, &h, sigs[i], &sig_len);
    }
    uint8_t *stream = NULL;
    size_t stream_len = 0;
    if (sha == NULL || (key != NULL && sig == NULL) ||
        tb_lzma2_compress(in, in_len, comp == TB_COMP_LZMA2_ARMTHUMB, &stream, &stream_len) != 0) {
        snprintf(err, errlen, "compression failed");
        tb_signed_free(&plain);
        return -1;
    }
    /* imgtool's rule: compressed stream + DECOMP_* values must be smaller than the input */
    if (stream_len + 4U + sha_len + sig_len >= in_len) {
        free(stream);
        *out = plain;
        return 0;
    }
    uint8_t tlvs[3 * 4 + 4 + 64 + 512];
    size_t tl = 0;
    uint8_t dsize[4] = {(uint8_t)h.img_size, (uint8_t)(h.img_size >> 8), (uint8_t)(h.img_size >> 16),
                        (uint8_t)(h.img_size >> 24)};
    put_tlv(tlvs, &tl, TB_TLV_DECOMP_SIZE, dsize, 4);
    put_tlv(tlvs, &tl, TB_TLV_DECOMP_SHA, sha, sha_len);
    if (sig != NULL) {
        put_tlv(tlvs, &tl, TB_TLV_DECOMP_SIGNATURE, sig, sig_len);
    }
    /* the payload: the LZMA2 header (dictionary size byte, (pb * 5 + lp) * 9 + lc), then the stream */
    uint8_t *payload = malloc(stream_len + 2);
    int rc = -1;
    if (payload != NULL) {
        payload[0] = 0x0a; /* 128 KiB: (2 | (10 & 1)) << (10 / 2 + 11) */
        payload[1] = (uint8_t)((COMP_PB * 5U + COMP_LP) * 9U + COMP_LC);
        memcpy(payload + 2, stream, stream_len);
        struct tb_sign_opts co = *o;
        co.comp_flags = TB_IMAGE_F_COMPRESSED_LZMA2 |
                        (comp == TB_COMP_LZMA2_ARMTHUMB ? TB_IMAGE_F_COMPRESSED_ARM_THUMB : 0U);
        co.comp_tlvs = tlvs;
        co.comp_tlvs_len = tl;
        rc = tb_sign_image(&co, key, payload, stream_len + 2, out, err, errlen);
        *compressed = rc == 0;
    } else {
        snprintf(err, errlen, "out of memory");
    }
    free(payload);
    free(stream);
    tb_signed_free(&plain);
    return rc;
}
