/* Signing keys for the host tools: the PEM files imgtool reads and writes
 * (PKCS#8 private keys, SubjectPublicKeyInfo public keys), through OpenSSL. */
#ifndef TB_TOOLS_KEYFILE_H
#define TB_TOOLS_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct tbk_key;

/* Key type names as imgtool spells them; enum tb_key_type (image.h) or 0. */
int tbk_type_from_name(const char *name);
const char *tbk_type_name(int type);

/* The environment variable that gives scripts the password of encrypted
 * keys (imgtool itself only prompts); without it the password is asked for
 * on the terminal (/dev/tty), echo off. */
#define TBK_PASSWORD_ENV "TWINBOOT_KEY_PASSWORD"

/* Make a new key and write it as a PKCS#8 PEM (mode 0600): unencrypted, or
 * with password != NULL encrypted as imgtool keygen -p does (AES-256-CBC,
 * PBKDF2: OpenSSL's PKCS#8 default). */
int tbk_keygen(int type, const char *path, const char *password, char *err, size_t errlen);
/* A new password for keygen -p: the environment variable, else asked twice
 * on the terminal. 0, or -1 with a message. */
int tbk_new_password(char *pw, size_t pwlen, char *err, size_t errlen);
/* A private (PKCS#8, encrypted PKCS#8 or traditional) or public PEM key.
 * NULL on error, with a message. */
struct tbk_key *tbk_load(const char *path, char *err, size_t errlen);
void tbk_free(struct tbk_key *k);
int tbk_type(const struct tbk_key *k);
bool tbk_is_private(const struct tbk_key *k);
/* The file was password-protected. */
bool tbk_was_encrypted(const struct tbk_key *k);
/* Key size in bits (curve size for EC). */
int tbk_bits(const struct tbk_key *k);
/* The private key as DER, for getpriv: PKCS#8 (pkcs8) or the traditional
 * SEC1 / PKCS#1 form (openssl; not for Ed25519). malloc'd; 0 or -1. */
int tbk_priv_der(const struct tbk_key *k, bool traditional, uint8_t **der, size_t *len);
/* The DER `imgtool getpub` emits (SPKI; PKCS#1 RSAPublicKey for RSA); malloc'd. */
int tbk_pub_der(const struct tbk_key *k, uint8_t **der, size_t *len);
int tbk_write_pub_pem(const struct tbk_key *k, FILE *out);
/* Sign an image digest as imgtool does: ECDSA (DER; SHA-256 digests for
 * P-256, SHA-384 for P-384), RSA-PSS (MGF1-SHA256, salt 32), Ed25519 (over
 * the given bytes: the digest, or the whole image for --pure).
 * *sig_len in: room, out: length. */
int tbk_sign_digest(const struct tbk_key *k, const uint8_t *digest, size_t digest_len, uint8_t *sig,
                    size_t *sig_len);
/* Check a signature made the same way (for --fix-sig): 0 if it verifies. */
int tbk_verify_digest(const struct tbk_key *k, const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                      size_t sig_len);

#endif
