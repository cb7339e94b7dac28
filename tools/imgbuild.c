/* Signing: the same bytes imgtool 2.x writes for the same inputs and options
 * (so Ed25519 output, which is deterministic, is byte-identical to imgtool's). */
#include "imgbuild.h"

#include <ctype.h>
#include <stdio.h>

#include <cbor.h>
#include <openssl/evp.h>

#include <stdlib.h>
#include <string.h>

#include "twinboot/crypto.h"
#include "twinboot/error.h"
#include "twinboot/trailer.h"

#define DEFAULT_MAX_SECTORS 128U

void tb_sign_opts_default(struct tb_sign_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->align = 1;
    o->erased_val = 0xff;
    o->sha = 0;
}

void tb_signed_free(struct tb_signed *s)
{
    free(s->data);
    memset(s, 0, sizeof(*s));
}

static int parse_uint(const char **p, unsigned long max, unsigned long *out)
{
    const char *s = *p;
    if (!isdigit((unsigned char)*s)) {
        return -1;
    }
    unsigned long v = 0;
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max) {
            return -1;
        }
        s++;
    }
    *p = s;
    *out = v;
    return 0;
}

static int parse_version_at(const char **p, struct tb_image_version *v)
{
    unsigned long maj, min = 0, rev = 0, build = 0;
    const char *s = *p;
    if (parse_uint(&s, 255, &maj) != 0) {
        return -1;
    }
    if (*s == '.') {
        s++;
        if (parse_uint(&s, 255, &min) != 0) {
            return -1;
        }
        if (*s == '.') {
            s++;
            if (parse_uint(&s, 65535, &rev) != 0) {
                return -1;
            }
        }
    }
    if (*s == '+') {
        s++;
        if (parse_uint(&s, 0xffffffffUL, &build) != 0) {
            return -1;
        }
    }
    v->major = (uint8_t)maj;
    v->minor = (uint8_t)min;
    v->revision = (uint16_t)rev;
    v->build = (uint32_t)build;
    *p = s;
    return 0;
}

int tb_parse_version(const char *s, struct tb_image_version *v)
{
    if (parse_version_at(&s, v) != 0 || *s != '\0') {
        return -1;
    }
    return 0;
}

static void skip_ws(const char **p)
{
    while (isspace((unsigned char)**p)) {
        (*p)++;
    }
}

int tb_parse_dependencies(const char *s, struct tb_image_dep *deps, size_t max)
{
    size_t n = 0;
    for (;;) {
        unsigned long id;
        skip_ws(&s);
        if (*s == '\0') {
            break;
        }
        if (*s++ != '(') {
            return -1;
        }
        skip_ws(&s);
        if (parse_uint(&s, 255, &id) != 0) {
            return -1;
        }
        skip_ws(&s);
        if (*s++ != ',') {
            return -1;
        }
        skip_ws(&s);
        if (n >= max) {
            return -1;
        }
        deps[n].image_id = (uint8_t)id;
        if (parse_version_at(&s, &deps[n].min_version) != 0) {
            return -1;
        }
        skip_ws(&s);
        if (*s++ != ')') {
            return -1;
        }
        n++;
        skip_ws(&s);
        if (*s == ',') {
            s++;
        }
    }
    return n == 0 ? -1 : (int)n;
}

/* A growing byte buffer; the tools may use the heap freely. */
struct buf {
    uint8_t *p;
    size_t len, cap;
};

static int buf_put(struct buf *b, const void *d, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) {
            cap *= 2;
        }
        uint8_t *np = realloc(b->p, cap);
        if (np == NULL) {
            return -1;
        }
        b->p = np;
        b->cap = cap;
    }
    if (n > 0) {
        memcpy(b->p + b->len, d, n);
    }
    b->len += n;
    return 0;
}

static int buf_tlv(struct buf *b, uint16_t type, const void *v, uint16_t len)
{
    uint8_t h[4] = {(uint8_t)type, (uint8_t)(type >> 8), (uint8_t)len, (uint8_t)(len >> 8)};
    return buf_put(b, h, 4) || buf_put(b, v, len) ? -1 : 0;
}

static int digest(int alg, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t *out)
{
    struct tb_hash_ctx c;
    if (tb_hash_init(&c, alg) != TB_OK) {
        return -1;
    }
    if (tb_hash_update(&c, a, alen) != TB_OK || tb_hash_update(&c, b, blen) != TB_OK) {
        tb_hash_abort(&c);
        return -1;
    }
    return tb_hash_finish(&c, out) == TB_OK ? 0 : -1;
}

static uint32_t trailer_size(const struct tb_sign_opts *o, uint32_t max_align)
{
    uint32_t magic_area = (TB_TRAILER_MAGIC_SIZE + max_align - 1) & ~(max_align - 1);
    if (o->overwrite_only) {
        return max_align * 2 + magic_area;
    }
    uint32_t m = o->max_sectors ? o->max_sectors : DEFAULT_MAX_SECTORS;
    return m * 3 * o->align + max_align * 4 + magic_area;
}

/* imgtool's --sha rules (image.py ALLOWED_KEY_SHA): the key decides the
 * hash, 'auto' is its first allowed one, --pure forces SHA-512 (Ed25519 only). */
static int choose_hash(const struct tb_sign_opts *o, int kt, char *err, size_t errlen)
{
    if (o->pure) {
        if (kt != TB_KEY_ED25519) {
            snprintf(err, errlen, "unsupported: --pure needs an ed25519 key (imgtool signs pure with ed25519 only)");
            return 0;
        }
        return TB_HASH_SHA512;
    }
    int sha = o->sha;
    const char *allowed = "256, 384, 512";
    bool ok = true;
    switch (kt) {
    case TB_KEY_ECDSA_P256:
    case TB_KEY_RSA2048: allowed = "256"; ok = sha == 0 || sha == 256; sha = 256; break;
    case TB_KEY_ECDSA_P384: allowed = "384"; ok = sha == 0 || sha == 384; sha = 384; break;
    case TB_KEY_ED25519: allowed = "256, 512"; ok = sha != 384; sha = sha == 0 ? 256 : sha; break;
    default: sha = sha == 0 ? 256 : sha; break;
    }
    if (!ok) {
        snprintf(err, errlen, "key %s can not be used with --sha %d; allowed: %s", tbk_type_name(kt), o->sha, allowed);
        return 0;
    }
    return sha == 384 ? TB_HASH_SHA384 : sha == 512 ? TB_HASH_SHA512 : TB_HASH_SHA256;
}

static const char *hash_name(int alg)
{
    return alg == TB_HASH_SHA384 ? "SHA384" : alg == TB_HASH_SHA512 ? "SHA512" : "SHA256";
}

/* imgtool's boot_record.py: a CBOR map {1: sw_type, 4: "M.m.r", 5: signer id,
 * 6: hash name, 2: zeroed measurement}; the measurement comes last because
 * the bootloader fills it in. */
/* One map entry: an unsigned key, then a text (major type 3) or byte string. */
static size_t cbor_entry(unsigned key, bool text, const void *v, size_t len, uint8_t *out, size_t room)
{
    size_t n = cbor_encode_uint(key, out, room);
    size_t h = n == 0 ? 0 : text ? cbor_encode_string_start(len, out + n, room - n)
                                 : cbor_encode_bytestring_start(len, out + n, room - n);
    if (h == 0 || n + h + len > room) {
        return 0;
    }
    memcpy(out + n + h, v, len);
    return n + h + len;
}

static int boot_record(const char *sw_type, const struct tb_image_version *v, int alg, const uint8_t *signer,
                       size_t signer_len, uint8_t *out, size_t room)
{
    char ver[32];
    uint8_t zero[64] = {0};
    const char *hn = hash_name(alg);
    snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->revision);
    const struct {
        unsigned key;
        bool text;
        const void *v;
        size_t len;
    } e[] = {{1, true, sw_type, strlen(sw_type)},
             {4, true, ver, strlen(ver)},
             {5, false, signer, signer_len},
             {6, true, hn, strlen(hn)},
             {2, false, zero, tb_hash_len(alg)}};
    size_t n = cbor_encode_map_start(sizeof(e) / sizeof(e[0]), out, room);
    for (size_t i = 0; i < sizeof(e) / sizeof(e[0]) && n != 0; i++) {
        size_t w = cbor_entry(e[i].key, e[i].text, e[i].v, e[i].len, out + n, room - n);
        n = w == 0 ? 0 : n + w;
    }
    return n == 0 ? -1 : (int)n;
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

int tb_parse_uuid(const char *s, const uint8_t *ns, uint8_t out[16])
{
    /* RFC 4122 appendix C: the DNS namespace */
    static const uint8_t dns[16] = {0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                                    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
    size_t n = 0;
    const char *p = s;
    for (; *p != '\0' && n < 16; p++) {
        if (*p == '-' && (n == 4 || n == 6 || n == 8 || n == 10)) {
            continue;
        }
        int hi = hexval((unsigned char)p[0]), lo = hi < 0 ? -1 : hexval((unsigned char)p[1]);
        if (lo < 0) {
            break;
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        p++;
    }
    if (n == 16 && *p == '\0' && strlen(s) == 36) {
        return 0;
    }
    if (*s == '\0') {
        return -1;
    }
    /* a name: UUID v5 = SHA-1(namespace || name), version and variant bits set */
    uint8_t md[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    int ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 &&
             EVP_DigestUpdate(c, ns != NULL ? ns : dns, 16) == 1 && EVP_DigestUpdate(c, s, strlen(s)) == 1 &&
             EVP_DigestFinal_ex(c, md, NULL) == 1;
    EVP_MD_CTX_free(c);
    if (!ok) {
        return -1;
    }
    memcpy(out, md, 16);
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x50);
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
    return 0;
}

int tb_sign_image(const struct tb_sign_opts *o, const struct tbk_key *key, const uint8_t *in,
                  size_t in_len, struct tb_signed *out, char *err, size_t errlen)
{
    struct buf img = {0}, prot = {0}, tlv = {0};
    uint8_t *pub = NULL;
    size_t pub_len = 0;
    int rc = -1;
    memset(out, 0, sizeof(*out));

    uint32_t max_align = o->max_align ? o->max_align : (o->align > 8 ? o->align : 8);
    /* the key that decides hash and key id: the signer's, else the HSM's public one */
    const struct tbk_key *idkey = key != NULL ? key : o->ext_pub;
    if (o->align == 0 || o->align > 32 || (o->align & (o->align - 1)) != 0) {
        snprintf(err, errlen, "--align must be 1, 2, 4, 8, 16 or 32");
        return -1;
    }
    if (max_align < 8 || max_align > 32 || (max_align & (max_align - 1)) != 0) {
        snprintf(err, errlen, "--max-align must be 8, 16 or 32");
        return -1;
    }
    if (o->header_size < TB_IMAGE_HEADER_SIZE || o->header_size > 0xffff) {
        snprintf(err, errlen, "--header-size must be 0x20..0xffff");
        return -1;
    }
    if (o->slot_size == 0) {
        snprintf(err, errlen, "--slot-size is required");
        return -1;
    }
    if (key != NULL && !tbk_is_private(key)) {
        snprintf(err, errlen, "signing needs the private key, not a public one");
        return -1;
    }
    if (o->has_rom_fixed && o->has_load_addr) {
        snprintf(err, errlen, "--rom-fixed and --load-addr exclude each other");
        return -1;
    }
    if (o->fix_sig != NULL && (o->ext_pub == NULL || key != NULL)) {
        snprintf(err, errlen, "--fix-sig needs --fix-sig-pubkey and no --key");
        return -1;
    }
    int alg = choose_hash(o, idkey != NULL ? tbk_type(idkey) : 0, err, errlen);
    if (alg == 0) {
        return -1;
    }
    size_t dlen = tb_hash_len(alg);
    uint8_t keyid[64] = {0}; /* the key's DER hashed like the image (zeros without a key, as imgtool) */
    if (idkey != NULL) {
        if (tbk_pub_der(idkey, &pub, &pub_len) != 0 || digest(alg, pub, pub_len, NULL, 0, keyid) != 0) {
            snprintf(err, errlen, "cannot encode the public key");
            goto out;
        }
    }

    if (o->pad_header) {
        for (uint32_t i = 0; i < o->header_size; i++) {
            if (buf_put(&img, &o->erased_val, 1) != 0) {
                goto oom;
            }
        }
    } else {
        for (size_t i = 0; i < o->header_size; i++) {
            if (i >= in_len || in[i] != 0) {
                snprintf(err, errlen,
                         "the input does not start with %u zero bytes of header room: "
                         "use --pad-header, or link the application with header space",
                         (unsigned)o->header_size);
                goto out;
            }
        }
    }
    if (buf_put(&img, in, in_len) != 0) {
        goto oom;
    }
    if (img.len - o->header_size > 0xffffffffu) {
        snprintf(err, errlen, "input too large");
        goto out;
    }

    /* Protected TLVs, in imgtool's order: security counter, boot record,
     * dependencies, then the UUIDs and custom TLVs. */
    if (o->has_sec_cnt) {
        uint8_t v[4] = {(uint8_t)o->sec_cnt, (uint8_t)(o->sec_cnt >> 8), (uint8_t)(o->sec_cnt >> 16),
                        (uint8_t)(o->sec_cnt >> 24)};
        if (buf_tlv(&prot, TB_TLV_SEC_CNT, v, 4) != 0) {
            goto oom;
        }
    }
    if (o->boot_record != NULL) {
        uint8_t rec[256];
        if (strlen(o->boot_record) > 12) {
            snprintf(err, errlen, "--boot-record: '%s' is longer than 12 characters", o->boot_record);
            goto out;
        }
        int n = boot_record(o->boot_record, &o->version, alg, keyid, idkey != NULL ? dlen : 32, rec, sizeof(rec));
        if (n < 0 || buf_tlv(&prot, TB_TLV_BOOT_RECORD, rec, (uint16_t)n) != 0) {
            goto oom;
        }
    }
    for (size_t i = 0; i < o->ndeps; i++) {
        uint8_t v[12] = {o->deps[i].image_id, 0, 0, 0};
        tb_image_version_encode(&o->deps[i].min_version, v + 4);
        if (buf_tlv(&prot, TB_TLV_DEPENDENCY, v, 12) != 0) {
            goto oom;
        }
    }
    if ((o->has_vid && buf_tlv(&prot, TB_TLV_UUID_VID, o->vid, 16) != 0) ||
        (o->has_cid && buf_tlv(&prot, TB_TLV_UUID_CID, o->cid, 16) != 0)) {
        goto oom;
    }
    for (size_t i = 0; i < o->ncustom; i++) {
        if (buf_tlv(&prot, o->custom[i].tag, o->custom[i].value, o->custom[i].len) != 0) {
            goto oom;
        }
    }
    uint16_t prot_size = 0;
    if (prot.len > 0) {
        if (prot.len + 4 > 0xffff) {
            snprintf(err, errlen, "too many protected TLVs");
            goto out;
        }
        prot_size = (uint16_t)(prot.len + 4);
        uint8_t info[4] = {(uint8_t)TB_TLV_PROT_INFO_MAGIC, (uint8_t)(TB_TLV_PROT_INFO_MAGIC >> 8),
                           (uint8_t)prot_size, (uint8_t)(prot_size >> 8)};
        struct buf full = {0};
        if (buf_put(&full, info, 4) || buf_put(&full, prot.p, prot.len)) {
            free(full.p);
            goto oom;
        }
        free(prot.p);
        prot = full;
    }

    struct tb_image_header h = {
        .magic = TB_IMAGE_MAGIC,
        /* as imgtool: rom_fixed or load_addr */
        .load_addr = o->has_rom_fixed ? o->rom_fixed : o->has_load_addr ? o->load_addr : 0,
        .hdr_size = (uint16_t)o->header_size,
        .protect_tlv_size = prot_size,
        .img_size = (uint32_t)(img.len - o->header_size),
        .flags = (o->non_bootable ? TB_IMAGE_F_NON_BOOTABLE : 0) |
                 (o->has_rom_fixed ? TB_IMAGE_F_ROM_FIXED : 0) |
                 (o->has_load_addr && o->load_addr != 0 ? TB_IMAGE_F_RAM_LOAD : 0),
        .ver = o->version,
    };
    tb_image_header_encode(&h, img.p);

    uint8_t dig[64];
    if (digest(alg, img.p, img.len, prot.p, prot.len, dig) != 0) {
        snprintf(err, errlen, "hashing failed");
        goto out;
    }

    /* Unprotected TLVs: hash, [SIG_PURE], key id, signature. */
    uint16_t htype = alg == TB_HASH_SHA384 ? TB_TLV_SHA384 : alg == TB_HASH_SHA512 ? TB_TLV_SHA512 : TB_TLV_SHA256;
    if (buf_tlv(&tlv, htype, dig, (uint16_t)dlen) != 0) {
        goto oom;
    }
    if (o->pure && buf_tlv(&tlv, TB_TLV_SIG_PURE, "\x01", 1) != 0) {
        goto oom;
    }
    /* What is signed: the digest, or for --pure the hashed range itself. */
    const uint8_t *msg = dig;
    size_t msg_len = dlen;
    if (o->pure || o->vector_to_sign == TB_VECTOR_PAYLOAD) {
        if (buf_put(&img, prot.p, prot.len) != 0) {
            goto oom;
        }
        img.len -= prot.len; /* keep the copy after the image: [img | prot] is contiguous */
        msg = img.p;
        msg_len = img.len + prot.len;
    }
    if (o->vector_to_sign != TB_VECTOR_NONE) {
        /* imgtool: OUTFILE gets the vector, not an image */
        size_t n = o->vector_to_sign == TB_VECTOR_DIGEST ? dlen : img.len + prot.len;
        out->data = malloc(n);
        if (out->data == NULL) {
            goto oom;
        }
        memcpy(out->data, o->vector_to_sign == TB_VECTOR_DIGEST ? dig : img.p, n);
        out->len = out->image_len = n;
        rc = 0;
        goto out;
    }
    if (key != NULL || o->fix_sig != NULL) {
        uint8_t *sig = out->sig;
        size_t sig_len = sizeof(out->sig);
        if (o->pubkey_full) {
            if (buf_tlv(&tlv, TB_TLV_PUBKEY, pub, (uint16_t)pub_len) != 0) {
                goto oom;
            }
        } else if (buf_tlv(&tlv, TB_TLV_KEYHASH, keyid, (uint16_t)dlen) != 0) {
            goto oom;
        }
        if (o->fix_sig != NULL) {
            if (o->fix_sig_len > sizeof(out->sig)) {
                snprintf(err, errlen, "--fix-sig: signature too long");
                goto out;
            }
            /* imgtool takes it on trust; a wrong one would only show on the device */
            if (tbk_verify_digest(o->ext_pub, msg, msg_len, o->fix_sig, o->fix_sig_len) != 0) {
                snprintf(err, errlen, "--fix-sig: the signature does not verify with --fix-sig-pubkey over this image");
                goto out;
            }
            memcpy(sig, o->fix_sig, o->fix_sig_len);
            sig_len = o->fix_sig_len;
        } else if (tbk_sign_digest(key, msg, msg_len, sig, &sig_len) != 0) {
            snprintf(err, errlen, "signing failed");
            goto out;
        }
        int kt = tbk_type(idkey);
        if (o->pad_sig && (kt == TB_KEY_ECDSA_P256 || kt == TB_KEY_ECDSA_P384)) {
            size_t want = kt == TB_KEY_ECDSA_P256 ? 72 : 103; /* imgtool's sig_len() */
            while (sig_len < want) {
                sig[sig_len++] = 0;
            }
        }
        out->sig_len = sig_len;
        uint16_t stype = kt == TB_KEY_RSA2048 ? TB_TLV_RSA2048_PSS : kt == TB_KEY_ED25519 ? TB_TLV_ED25519 : TB_TLV_ECDSA_SIG;
        if (buf_tlv(&tlv, stype, sig, (uint16_t)sig_len) != 0) {
            goto oom;
        }
    }
    uint16_t tot = (uint16_t)(tlv.len + 4);
    uint8_t info[4] = {(uint8_t)TB_TLV_INFO_MAGIC, (uint8_t)(TB_TLV_INFO_MAGIC >> 8), (uint8_t)tot,
                       (uint8_t)(tot >> 8)};
    if (buf_put(&img, prot.p, prot.len) || buf_put(&img, info, 4) || buf_put(&img, tlv.p, tlv.len)) {
        goto oom;
    }

    uint32_t tsize = trailer_size(o, max_align);
    if ((uint64_t)img.len + tsize > o->slot_size) {
        snprintf(err, errlen, "image size (0x%zx) + trailer (0x%x) exceeds the slot size 0x%x", img.len,
                 (unsigned)tsize, (unsigned)o->slot_size);
        goto out;
    }
    out->image_len = img.len;
    out->max_align = max_align;
    if (o->pad || o->confirm) {
        struct tb_trailer_layout l;
        uint8_t magic[TB_TRAILER_MAGIC_SIZE];
        if (tb_trailer_layout(o->slot_size, max_align, &l) != TB_OK) {
            snprintf(err, errlen, "slot size 0x%x does not fit the trailer", (unsigned)o->slot_size);
            goto out;
        }
        while (img.len < o->slot_size) {
            if (buf_put(&img, &o->erased_val, 1) != 0) {
                goto oom;
            }
        }
        tb_trailer_magic(max_align, magic);
        out->magic_off = o->slot_size - TB_TRAILER_MAGIC_SIZE;
        memcpy(img.p + out->magic_off, magic, sizeof(magic));
        if (o->confirm && !o->overwrite_only) {
            out->has_image_ok = true;
            out->image_ok_off = l.image_ok_off;
            img.p[l.image_ok_off] = TB_FLAG_SET;
        }
    }
    out->data = img.p;
    out->len = img.len;
    img.p = NULL;
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    free(img.p);
    free(prot.p);
    free(tlv.p);
    free(pub);
    return rc;
}
