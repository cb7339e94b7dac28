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
#include <termios.h>

#include "twinboot/image.h"

struct tbk_key {
    EVP_PKEY *pkey;
    int type;
    bool priv;
    bool encrypted;
};

static const struct {
    int type;
    const char *name;
} names[] = {
    {TB_KEY_ECDSA_P256, "ecdsa-p256"},
    {TB_KEY_ECDSA_P384, "ecdsa-p384"},
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

/* One line from the terminal with echo off; the prompt goes there too.
 * Byte by byte, no stdio buffer: what follows the line stays for the next
 * question (a script on a pty may type both answers at once). */
static int tty_read_password(const char *prompt, char *pw, size_t pwlen)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (fd < 0) {
        return -1;
    }
    struct termios old, quiet;
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~ECHO;
        (void)tcsetattr(fd, TCSANOW, &quiet);
    }
    (void)!write(fd, prompt, strlen(prompt));
    size_t n = 0;
    int rc = -1;
    char ch;
    ssize_t r;
    while ((r = read(fd, &ch, 1)) == 1) {
        if (ch == '\n' || ch == '\r') {
            rc = 0;
            break;
        }
        if (n + 1 < pwlen) {
            pw[n++] = ch;
        }
    }
    pw[n] = '\0';
    if (restore) {
        (void)tcsetattr(fd, TCSANOW, &old);
    }
    (void)!write(fd, "\n", 1);
    close(fd);
    return rc;
}

int tbk_new_password(char *pw, size_t pwlen, char *err, size_t errlen)
{
    const char *env = getenv(TBK_PASSWORD_ENV);
    if (env != NULL) {
        if (strlen(env) + 1 > pwlen || env[0] == '\0') {
            snprintf(err, errlen, "%s is empty or too long", TBK_PASSWORD_ENV);
            return -1;
        }
        memcpy(pw, env, strlen(env) + 1);
        return 0;
    }
    for (int tries = 0; tries < 3; tries++) {
        char again[256];
        if (tty_read_password("Enter key passphrase: ", pw, pwlen) != 0 ||
            tty_read_password("Reenter passphrase: ", again, sizeof(again)) != 0) {
            snprintf(err, errlen, "no terminal to ask for a password: set %s", TBK_PASSWORD_ENV);
            return -1;
        }
        bool same = strcmp(pw, again) == 0;
        OPENSSL_cleanse(again, sizeof(again));
        if (same && pw[0] != '\0') {
            return 0;
        }
        fprintf(stderr, "%s\n", same ? "The password is empty, try again" : "Passwords do not match, try again");
    }
    snprintf(err, errlen, "no password");
    return -1;
}

int tbk_keygen(int type, const char *path, const char *password, char *err, size_t errlen)
{
    EVP_PKEY *pkey = NULL;
    switch (type) {
    case TB_KEY_ECDSA_P256: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); break;
    case TB_KEY_ECDSA_P384: pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"); break;
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
    /* With a cipher, PEM_write_PrivateKey writes encrypted PKCS#8 (PBES2). */
    const EVP_CIPHER *cipher = password != NULL ? EVP_aes_256_cbc() : NULL;
    int ok = f != NULL && PEM_write_PrivateKey(f, pkey, cipher, (const unsigned char *)password,
                                               password != NULL ? (int)strlen(password) : 0, NULL, NULL) == 1;
    if (f != NULL) {
        ok = (fclose(f) == 0) && ok;
    } else {
        close(fd);
    }
    EVP_PKEY_free(pkey);
    if (!ok) {
        ossl_err(err, errlen, "cannot write the key");
        (void)unlink(path);
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
        return strcmp(group, "prime256v1") == 0   ? TB_KEY_ECDSA_P256
               : strcmp(group, "secp384r1") == 0 ? TB_KEY_ECDSA_P384
                                                  : 0;
    }
    case EVP_PKEY_RSA: return EVP_PKEY_get_bits(pkey) == 2048 ? TB_KEY_RSA2048 : 0;
    case EVP_PKEY_ED25519: return TB_KEY_ED25519;
    default: return 0;
    }
}

/* OpenSSL asks for a password only when the PEM is encrypted. */
struct pw_ask {
    const char *path;
    bool asked;
    bool failed;
};

static int ask_password_cb(char *buf, int size, int rwflag, void *u)
{
    struct pw_ask *a = u;
    (void)rwflag;
    a->asked = true;
    const char *env = getenv(TBK_PASSWORD_ENV);
    char pw[256];
    if (env != NULL) {
        snprintf(pw, sizeof(pw), "%s", env);
    } else {
        char prompt[512];
        snprintf(prompt, sizeof(prompt), "Enter key passphrase for %s: ", a->path);
        if (tty_read_password(prompt, pw, sizeof(pw)) != 0) {
            a->failed = true;
            return -1;
        }
    }
    int n = (int)strlen(pw);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(buf, pw, (size_t)n);
    OPENSSL_cleanse(pw, sizeof(pw));
    return n;
}

struct tbk_key *tbk_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open key %s: %s", path, strerror(errno));
        return NULL;
    }
    bool priv = true;
    struct pw_ask ask = {path, false, false};
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, ask_password_cb, &ask);
    if (pkey == NULL && ask.asked) {
        fclose(f);
        if (ask.failed) {
            snprintf(err, errlen, "%s is password-protected: set %s or run on a terminal", path,
                     TBK_PASSWORD_ENV);
        } else {
            ossl_err(err, errlen, "wrong password, or a damaged key");
        }
        ERR_clear_error();
        return NULL;
    }
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
        snprintf(err, errlen, "%s: unsupported: this key type (twinboot signs with ecdsa-p256, ecdsa-p384, "
                              "rsa-2048 or ed25519)",
                 path);
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
    k->encrypted = ask.asked;
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

bool tbk_was_encrypted(const struct tbk_key *k) { return k->encrypted; }

int tbk_bits(const struct tbk_key *k) { return EVP_PKEY_get_bits(k->pkey); }

static int take_der(unsigned char *buf, int n, uint8_t **der, size_t *len)
{
    if (n <= 0) {
        ERR_clear_error();
        return -1;
    }
    *der = malloc((size_t)n);
    if (*der == NULL) {
        OPENSSL_clear_free(buf, (size_t)n);
        return -1;
    }
    memcpy(*der, buf, (size_t)n);
    OPENSSL_clear_free(buf, (size_t)n);
    *len = (size_t)n;
    return 0;
}

int tbk_priv_der(const struct tbk_key *k, bool traditional, uint8_t **der, size_t *len)
{
    unsigned char *buf = NULL;
    if (!k->priv || (traditional && k->type == TB_KEY_ED25519)) {
        return -1;
    }
    if (traditional) {
        return take_der(buf, i2d_PrivateKey(k->pkey, &buf), der, len);
    }
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(k->pkey);
    if (p8 == NULL) {
        ERR_clear_error();
        return -1;
    }
    int n = i2d_PKCS8_PRIV_KEY_INFO(p8, &buf);
    PKCS8_PRIV_KEY_INFO_free(p8);
    return take_der(buf, n, der, len);
}

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

/* MCUboot's RSA-PSS: MGF1 with SHA-256, a 32-byte salt. */
static bool set_mcuboot_pss(EVP_PKEY_CTX *ctx)
{
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1;
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
        const EVP_MD *md = digest_len == 48 ? EVP_sha384() : EVP_sha256();
        if ((k->type == TB_KEY_ECDSA_P384) != (digest_len == 48) || (digest_len != 32 && digest_len != 48)) {
            return -1; /* P-384 signs SHA-384 digests, the others SHA-256 */
        }
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
        ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, md) == 1;
        if (ok && k->type == TB_KEY_RSA2048) {
            ok = set_mcuboot_pss(ctx);
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

int tbk_verify_digest(const struct tbk_key *k, const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                      size_t sig_len)
{
    int ok;
    if (k->type == TB_KEY_ED25519) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = md != NULL && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1 &&
             EVP_DigestVerify(md, sig, sig_len, digest, digest_len) == 1;
        EVP_MD_CTX_free(md);
    } else {
        size_t n = sig_len;
        if (k->type != TB_KEY_RSA2048 && sig_len > 2 && sig[1] < 0x80 && (size_t)sig[1] + 2 < sig_len) {
            n = (size_t)sig[1] + 2; /* a --pad-sig signature: the DER without its zeros */
        }
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
        ok = ctx != NULL && EVP_PKEY_verify_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx, digest_len == 48 ? EVP_sha384() : EVP_sha256()) == 1;
        if (ok && k->type == TB_KEY_RSA2048) {
            ok = set_mcuboot_pss(ctx);
        }
        ok = ok && EVP_PKEY_verify(ctx, sig, n, digest, digest_len) == 1;
        EVP_PKEY_CTX_free(ctx);
    }
    ERR_clear_error();
    return ok ? 0 : -1;
}
