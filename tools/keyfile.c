/* OpenSSL-backed key handling for the host tools (never linked into device code). */
#define _POSIX_C_SOURCE 200809L
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "twinboot/image.h"

struct tbk_key {
    EVP_PKEY *pkey;
    int type;
    bool priv;
};

static const struct {
    int type;
    const char *name;
} names[] = {
    {TB_KEY_ECDSA_P256, "ecdsa-p256"},
    {TB_KEY_RSA2048, "rsa-2048"},
    {TB_KEY_ED25519, "ed25519"},
};

int tbk_type_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(names[i].name, name) == 0) {
            return names[i].type;
        }
    }
    return 0;
}

const char *tbk_type_name(int type)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i].type == type) {
            return names[i].name;
        }
    }
    return "unknown";
}

static void ossl_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
    }
    snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

int tbk_keygen(int type, const char *path, char *err, size_t errlen)
{
    EVP_PKEY *pkey = NULL;
    switch (type) {
    case TB_KEY_ECDSA_P256: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
    case TB_KEY_RSA2048: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048); break;
    case TB_KEY_ED25519: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); break;
    default: snprintf(err, errlen, "unknown key type"); return -1;
    }
    if (pkey == NULL) {
        ossl_err(err, errlen, "key generation failed");
        return -1;
    }
    /* O_EXCL: never overwrite a private key by accident. */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        EVP_PKEY_free(pkey);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    int ok = f != NULL && PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
    if (f != NULL) {
        ok = (fclose(f) == 0) && ok;
    } else {
        close(fd);
    }
    EVP_PKEY_free(pkey);
    if (!ok) {
        ossl_err(err, errlen, "cannot write the key");
        return -1;
    }
    return 0;
}

static int classify(EVP_PKEY *pkey)
{
    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_EC: {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1) {
            return 0;
        }
        return strcmp(group, "prime256v1") == 0 ? TB_KEY_ECDSA_P256 : 0;
    }
    case EVP_PKEY_RSA: return EVP_PKEY_get_bits(pkey) == 2048 ? TB_KEY_RSA2048 : 0;
    case EVP_PKEY_ED25519: return TB_KEY_ED25519;
    default: return 0;
    }
}

struct tbk_key *tbk_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open key %s: %s", path, strerror(errno));
        return NULL;
    }
    bool priv = true;
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (pkey == NULL) {
        ERR_clear_error();
        rewind(f);
        pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        priv = false;
    }
    fclose(f);
    if (pkey == NULL) {
        ossl_err(err, errlen, "not a PEM private or public key");
        return NULL;
    }
    int type = classify(pkey);
    if (type == 0) {
        snprintf(err, errlen, "%s: unsupported key (use ecdsa-p256, rsa-2048 or ed25519)", path);
        EVP_PKEY_free(pkey);
        return NULL;
    }
    struct tbk_key *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        snprintf(err, errlen, "out of memory");
        EVP_PKEY_free(pkey);
        return NULL;
    }
    k->pkey = pkey;
    k->type = type;
    k->priv = priv;
    return k;
}

void tbk_free(struct tbk_key *k)
{
    if (k != NULL) {
        EVP_PKEY_free(k->pkey);
        free(k);
    }
}

int tbk_type(const struct tbk_key *k) { return k->type; }

bool tbk_is_private(const struct tbk_key *k) { return k->priv; }

int tbk_pub_der(const struct tbk_key *k, uint8_t **der, size_t *len)
{
    unsigned char *buf = NULL;
    /* MCUboot embeds RSA keys as PKCS#1 RSAPublicKey, the others as SPKI. */
    int n = k->type == TB_KEY_RSA2048 ? i2d_PublicKey(k->pkey, &buf) : i2d_PUBKEY(k->pkey, &buf);
    if (n <= 0) {
        ERR_clear_error();
        return -1;
    }
    *der = malloc((size_t)n);
    if (*der == NULL) {
        OPENSSL_free(buf);
        return -1;
    }
    memcpy(*der, buf, (size_t)n);
    OPENSSL_free(buf);
    *len = (size_t)n;
    return 0;
}

int tbk_write_pub_pem(const struct tbk_key *k, FILE *out)
{
    return PEM_write_PUBKEY(out, k->pkey) == 1 ? 0 : -1;
}

int tbk_sign_digest(const struct tbk_key *k, const uint8_t *digest, size_t digest_len, uint8_t *sig,
                    size_t *sig_len)
{
    int ok = 0;
    if (!k->priv) {
        return -1;
    }
    if (k->type == TB_KEY_ED25519) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestSign(md, sig, sig_len, digest, digest_len) == 1;
        EVP_MD_CTX_free(md);
    } else {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
        ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1;
        if (ok && k->type == TB_KEY_RSA2048) {
            ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1;
        }
        ok = ok && EVP_PKEY_sign(ctx, sig, sig_len, digest, digest_len) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    if (!ok) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}
