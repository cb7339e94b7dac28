/* SHA-2, ECDSA-P256/P-384 and RSA-2048-PSS from mbedTLS (2.28, as Debian ships it).
 *
 * Keys arrive as the DER that `imgtool getpub` prints. They are parsed with
 * mbedTLS's ASN.1 reader straight into ECP/RSA contexts: the pk layer would
 * allocate its context on the heap. */
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include "crypto_priv.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"
#include "twinboot/image.h"

_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(((struct tb_hash_ctx *)0)->opaque),
               "tb_hash_ctx too small for SHA-256");
_Static_assert(sizeof(mbedtls_sha512_context) <= sizeof(((struct tb_hash_ctx *)0)->opaque),
               "tb_hash_ctx too small for SHA-512");

#define SHA256_CTX(c) ((mbedtls_sha256_context *)(void *)&(c)->opaque)
#define SHA512_CTX(c) ((mbedtls_sha512_context *)(void *)&(c)->opaque)

size_t tb_hash_len(int alg)
{
    switch (alg) {
    case TB_HASH_SHA256: return 32;
    case TB_HASH_SHA384: return 48;
    case TB_HASH_SHA512: return 64;
    default: return 0;
    }
}

static struct tb_crypto_counts g_counts; /* one CPU, one boot at a time: see crypto.h */

void tb_crypto_counts(struct tb_crypto_counts *out) { *out = g_counts; }

int tb_hash_init(struct tb_hash_ctx *c, int alg)
{
    int rc;
    c->alg = alg;
    switch (alg) {
    case TB_HASH_SHA256:
        mbedtls_sha256_init(SHA256_CTX(c));
        rc = mbedtls_sha256_starts_ret(SHA256_CTX(c), 0);
        break;
    case TB_HASH_SHA384:
    case TB_HASH_SHA512:
        mbedtls_sha512_init(SHA512_CTX(c));
        rc = mbedtls_sha512_starts_ret(SHA512_CTX(c), alg == TB_HASH_SHA384);
        break;
    default:
        return TB_E_INVAL;
    }
    if (rc != 0) {
        tb_hash_abort(c);
        return TB_E_CRYPTO;
    }
    return TB_OK;
}

int tb_hash_update(struct tb_hash_ctx *c, const void *data, size_t len)
{
    int rc;
    if (c->alg == TB_HASH_SHA256) {
        rc = mbedtls_sha256_update_ret(SHA256_CTX(c), data, len);
    } else if (c->alg == TB_HASH_SHA384 || c->alg == TB_HASH_SHA512) {
        rc = mbedtls_sha512_update_ret(SHA512_CTX(c), data, len);
    } else {
        return TB_E_INVAL;
    }
    g_counts.bytes_hashed += len;
    return rc == 0 ? TB_OK : TB_E_CRYPTO;
}

int tb_hash_finish(struct tb_hash_ctx *c, uint8_t *out)
{
    int rc;
    if (c->alg == TB_HASH_SHA256) {
        rc = mbedtls_sha256_finish_ret(SHA256_CTX(c), out);
    } else if (c->alg == TB_HASH_SHA384 || c->alg == TB_HASH_SHA512) {
        uint8_t full[64];
        rc = mbedtls_sha512_finish_ret(SHA512_CTX(c), full);
        memcpy(out, full, tb_hash_len(c->alg));
    } else {
        return TB_E_INVAL;
    }
    tb_hash_abort(c);
    return rc == 0 ? TB_OK : TB_E_CRYPTO;
}

void tb_hash_abort(struct tb_hash_ctx *c)
{
    if (c->alg == TB_HASH_SHA256) {
        mbedtls_sha256_free(SHA256_CTX(c));
    } else if (c->alg == TB_HASH_SHA384 || c->alg == TB_HASH_SHA512) {
        mbedtls_sha512_free(SHA512_CTX(c));
    }
    c->alg = 0;
}

#define OID_ED25519 "\x2b\x65\x70" /* 1.3.101.112 */

/* Map an mbedTLS result: out of (static) heap is the backend failing, not a
 * verdict on the key or the image. */
static int mbed_rc(int mrc, int verdict)
{
    if (mrc == 0) {
        return TB_OK;
    }
    if (mrc == MBEDTLS_ERR_MPI_ALLOC_FAILED || mrc == MBEDTLS_ERR_ECP_ALLOC_FAILED) {
        return TB_E_CRYPTO;
    }
    return verdict;
}

/* SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING key }.
 * Checks the algorithm OID (and, if given, the parameters OID) and points
 * *key at the key bits. */
static int spki_parse(const uint8_t *der, size_t len, const char *oid, size_t oid_len,
                      const char *param_oid, size_t param_len, const uint8_t **key, size_t *key_len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + len;
    mbedtls_asn1_buf alg, params;
    size_t l;

    if (mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0 ||
        p + l != end) {
        return TB_E_IMG_KEY;
    }
    memset(&params, 0, sizeof(params));
    if (mbedtls_asn1_get_alg(&p, end, &alg, &params) != 0 || alg.len != oid_len ||
        memcmp(alg.p, oid, oid_len) != 0) {
        return TB_E_IMG_KEY;
    }
    if (param_oid != NULL && (params.tag != MBEDTLS_ASN1_OID || params.len != param_len ||
                              memcmp(params.p, param_oid, param_len) != 0)) {
        return TB_E_IMG_KEY;
    }
    if (mbedtls_asn1_get_bitstring_null(&p, end, &l) != 0 || p + l != end) {
        return TB_E_IMG_KEY;
    }
    *key = p;
    *key_len = l;
    return TB_OK;
}

/* The DER (r, s) without what follows it: imgtool --pad-sig (and MCUboot
 * before 1.5) append zeros up to a fixed length (72 B for P-256, 103 B for
 * P-384); bootutil reads the SEQUENCE and ignores the rest, mbedTLS refuses
 * any trailing byte. We cut at the SEQUENCE's end and accept zeros only. */
static int ecdsa_sig_unpad(const uint8_t *sig, size_t sig_len, size_t *der_len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)sig;
    size_t l;
    if (mbedtls_asn1_get_tag(&p, sig + sig_len, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return TB_E_IMG_BAD_SIGNATURE;
    }
    *der_len = (size_t)(p - sig) + l;
    for (size_t i = *der_len; i < sig_len; i++) {
        if (sig[i] != 0) {
            return TB_E_IMG_BAD_SIGNATURE;
        }
    }
    return TB_OK;
}

/* ECDSA over the image digest; grp: the curve the key must be on. */
static int ecdsa_verify(mbedtls_ecp_group_id grp, const char *grp_oid, size_t grp_oid_len, const uint8_t *der,
                        size_t der_len, const uint8_t *digest, size_t digest_len, const uint8_t *sig, size_t sig_len)
{
    const uint8_t *q;
    size_t q_len, dsig_len;
    int rc = spki_parse(der, der_len, MBEDTLS_OID_EC_ALG_UNRESTRICTED,
                        MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_ALG_UNRESTRICTED), grp_oid, grp_oid_len, &q, &q_len);
    if (rc != TB_OK) {
        return rc;
    }
    rc = ecdsa_sig_unpad(sig, sig_len, &dsig_len);
    if (rc != TB_OK) {
        return rc;
    }
    mbedtls_ecdsa_context ctx;
    mbedtls_ecdsa_init(&ctx);
    rc = mbed_rc(mbedtls_ecp_group_load(&ctx.grp, grp), TB_E_CRYPTO);
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_ecp_point_read_binary(&ctx.grp, &ctx.Q, q, q_len), TB_E_IMG_KEY);
    }
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_ecp_check_pubkey(&ctx.grp, &ctx.Q), TB_E_IMG_KEY);
    }
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_ecdsa_read_signature(&ctx, digest, digest_len, sig, dsig_len),
                     TB_E_IMG_BAD_SIGNATURE);
    }
    mbedtls_ecdsa_free(&ctx);
    return rc;
}

/* PKCS#1 RSAPublicKey: SEQUENCE { INTEGER n, INTEGER e }. MCUboot accepts
 * PSS with MGF1-SHA256 and a 32-byte salt only; so do we. */
static int rsa2048_pss_verify(const uint8_t *der, size_t der_len, const uint8_t *digest,
                              size_t digest_len, const uint8_t *sig, size_t sig_len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)der;
    const unsigned char *end = der + der_len;
    size_t l;
    mbedtls_mpi n, e;
    mbedtls_rsa_context rsa;
    int rc;

    if (digest_len != 32) {
        return TB_E_IMG_BAD_SIGNATURE;
    }
    mbedtls_mpi_init(&n);
    mbedtls_mpi_init(&e);
    mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
    rc = mbed_rc(mbedtls_asn1_get_tag(&p, end, &l, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE),
                 TB_E_IMG_KEY);
    if (rc == TB_OK && p + l != end) {
        rc = TB_E_IMG_KEY;
    }
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_asn1_get_mpi(&p, end, &n), TB_E_IMG_KEY);
    }
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_asn1_get_mpi(&p, end, &e), TB_E_IMG_KEY);
    }
    if (rc == TB_OK && p != end) {
        rc = TB_E_IMG_KEY;
    }
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_rsa_import(&rsa, &n, NULL, NULL, NULL, &e), TB_E_IMG_KEY);
    }
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_rsa_complete(&rsa), TB_E_IMG_KEY);
    }
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_rsa_check_pubkey(&rsa), TB_E_IMG_KEY);
    }
    if (rc == TB_OK && mbedtls_rsa_get_len(&rsa) != 256) {
        rc = TB_E_IMG_KEY;
    }
    if (rc == TB_OK && sig_len != 256) {
        rc = TB_E_IMG_BAD_SIGNATURE;
    }
    if (rc == TB_OK) {
        rc = mbed_rc(mbedtls_rsa_rsassa_pss_verify_ext(&rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, MBEDTLS_MD_SHA256,
                                                       (unsigned int)digest_len, digest, MBEDTLS_MD_SHA256, 32,
                                                       sig),
                     TB_E_IMG_BAD_SIGNATURE);
    }
    mbedtls_rsa_free(&rsa);
    mbedtls_mpi_free(&n);
    mbedtls_mpi_free(&e);
    return rc;
}

static int ed25519_verify(const uint8_t *der, size_t der_len, const uint8_t *digest, size_t digest_len,
                          const uint8_t *sig, size_t sig_len)
{
    const uint8_t *pk;
    size_t pk_len;
    int rc = spki_parse(der, der_len, OID_ED25519, sizeof(OID_ED25519) - 1, NULL, 0, &pk, &pk_len);
    if (rc != TB_OK) {
        return rc;
    }
    if (pk_len != 32) {
        return TB_E_IMG_KEY;
    }
    if (sig_len != 64) {
        return TB_E_IMG_BAD_SIGNATURE;
    }
    return tb_ed25519_verify(pk, digest, digest_len, sig);
}

int tb_sig_verify(uint16_t key_type, const uint8_t *key_der, size_t key_len, const uint8_t *digest,
                  size_t digest_len, const uint8_t *sig, size_t sig_len)
{
    if (key_der == NULL || digest == NULL || sig == NULL) {
        return TB_E_INVAL;
    }
    g_counts.sig_checks++;
    switch (key_type) {
    case TB_KEY_ECDSA_P256:
        if (digest_len != 32) {
            return TB_E_IMG_BAD_SIGNATURE; /* P-256 signs SHA-256 digests only */
        }
        return ecdsa_verify(MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_OID_EC_GRP_SECP256R1,
                            MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP256R1), key_der, key_len, digest, digest_len, sig,
                            sig_len);
    case TB_KEY_ECDSA_P384:
#ifdef MBEDTLS_ECP_DP_SECP384R1_ENABLED
        /* a P-384 key signs SHA-384 digests only (imgtool's ALLOWED_KEY_SHA) */
        if (digest_len != 48) {
            return TB_E_IMG_BAD_SIGNATURE;
        }
        return ecdsa_verify(MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_OID_EC_GRP_SECP384R1,
                            MBEDTLS_OID_SIZE(MBEDTLS_OID_EC_GRP_SECP384R1), key_der, key_len, digest, digest_len, sig,
                            sig_len);
#else
        return TB_E_UNSUPPORTED; /* the chip's mbedTLS config leaves P-384 out unless TB_CONFIG_ECDSA_P384 */
#endif
    case TB_KEY_RSA2048: return rsa2048_pss_verify(key_der, key_len, digest, digest_len, sig, sig_len);
    case TB_KEY_ED25519: return ed25519_verify(key_der, key_len, digest, digest_len, sig, sig_len);
    default: return TB_E_UNSUPPORTED;
    }
}
