/* The crypto backend twinboot's device code calls (lib/crypto_*.c).
 *
 * Only this file names the algorithms; the backends wrap Debian's mbedTLS
 * (SHA-2, ECDSA-P256, RSA-PSS) and libsodium (Ed25519). A build without
 * Ed25519 (the Cortex-M33 build, by default) answers TB_E_UNSUPPORTED.
 */
#ifndef TWINBOOT_CRYPTO_H
#define TWINBOOT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum tb_hash_alg { TB_HASH_SHA256 = 1, TB_HASH_SHA384 = 2, TB_HASH_SHA512 = 3 };

/* Opaque, big enough for the backend's SHA-256 or SHA-512 context (checked at
 * compile time in the backend). Lives on the caller's stack: no heap. */
struct tb_hash_ctx {
    int alg;
    union {
        uint64_t u64[64];
        void *ptr;
    } opaque;
};

/* Digest length of alg, 0 if unknown. */
size_t tb_hash_len(int alg);
int tb_hash_init(struct tb_hash_ctx *c, int alg);
int tb_hash_update(struct tb_hash_ctx *c, const void *data, size_t len);
/* out must hold tb_hash_len(alg) bytes. Frees the context. */
int tb_hash_finish(struct tb_hash_ctx *c, uint8_t *out);
/* Release a context without a result (error paths). */
void tb_hash_abort(struct tb_hash_ctx *c);

/* Verify sig over digest with a key given as imgtool's getpub DER.
 * key_type: enum tb_key_type (image.h). Returns TB_OK, TB_E_IMG_BAD_SIGNATURE,
 * TB_E_IMG_KEY (key DER not parseable), TB_E_UNSUPPORTED or TB_E_CRYPTO. */
int tb_sig_verify(uint16_t key_type, const uint8_t *key_der, size_t key_len,
                  const uint8_t *digest, size_t digest_len, const uint8_t *sig, size_t sig_len);

/* Work this backend has done since start-up: signatures verified (calls of
 * tb_sig_verify) and bytes hashed (tb_hash_update). Read before and after a
 * piece of work to know what it cost: the boot record's per-image figures
 * are counted here, where the work happens. */
struct tb_crypto_counts {
    uint32_t sig_checks;
    uint64_t bytes_hashed;
};
void tb_crypto_counts(struct tb_crypto_counts *out);

#ifdef __cplusplus
}
#endif
#endif
