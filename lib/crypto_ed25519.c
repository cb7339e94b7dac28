/* Ed25519 verification from libsodium (mbedTLS 2.28 has none). MCUboot signs
 * the image digest, so msg is the 32-byte SHA-256, not the image. */
#include "crypto_priv.h"

#include "twinboot/error.h"

#ifndef TB_CONFIG_NO_ED25519
#include <sodium.h>

int tb_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t msg_len, const uint8_t sig[64])
{
    /* sodium_init() only picks implementations and seeds its RNG; verifying needs
     * neither, but the library asks for it before any other call. */
    if (sodium_init() < 0) {
        return TB_E_CRYPTO;
    }
    return crypto_sign_verify_detached(sig, msg, msg_len, pk) == 0 ? TB_OK : TB_E_IMG_BAD_SIGNATURE;
}
#else
int tb_ed25519_verify(const uint8_t pk[32], const uint8_t *msg, size_t msg_len, const uint8_t sig[64])
{
    (void)pk;
    (void)msg;
    (void)msg_len;
    (void)sig;
    return TB_E_UNSUPPORTED;
}
#endif
