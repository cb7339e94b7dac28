/* Internal split of the crypto backend: Ed25519 lives in its own file because
 * it comes from a different library (libsodium) and is optional on the chip. */
#ifndef TB_CRYPTO_PRIV_H
#define TB_CRYPTO_PRIV_H

#include <stddef.h>
#include <stdint.h>

/* TB_OK, TB_E_IMG_BAD_SIGNATURE or TB_E_UNSUPPORTED. */
int tb_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t msg_len, const uint8_t sig[64]);

#endif
