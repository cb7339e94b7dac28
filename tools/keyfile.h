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

/* Make a new key and write it as an unencrypted PKCS#8 PEM (mode 0600). */
int tbk_keygen(int type, const char *path, char *err, size_t errlen);
/* A private (PKCS#8 or traditional) or public PEM key. NULL on error, with a message. */
struct tbk_key *tbk_load(const char *path, char *err, size_t errlen);
void tbk_free(struct tbk_key *k);
int tbk_type(const struct tbk_key *k);
bool tbk_is_private(const struct tbk_key *k);
/* The DER `imgtool getpub` emits (SPKI; PKCS#1 RSAPublicKey for RSA); malloc'd. */
int tbk_pub_der(const struct tbk_key *k, uint8_t **der, size_t *len);
int tbk_write_pub_pem(const struct tbk_key *k, FILE *out);
/* Sign an image digest as imgtool does: ECDSA (DER), RSA-PSS (MGF1-SHA256,
 * salt 32), Ed25519 (over the digest bytes). *sig_len in: room, out: length. */
int tbk_sign_digest(const struct tbk_key *k, const uint8_t *digest, size_t digest_len, uint8_t *sig,
                    size_t *sig_len);

#endif
