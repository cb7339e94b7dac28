/* Validation inside the boot engine, with the work it costs counted in the
 * boot record (signatures checked, bytes hashed: what the crypto backend
 * counted while it ran).
 *
 * One signature check per image per boot: once a signature has been
 * verified over a digest, any other copy of that image in the same boot
 * (the primary after an install from the secondary, after a revert from
 * the backup) is proved by its hash alone. The signature covers the digest,
 * so a copy that hashes to it is as authentic as the image that was checked. */
#include <string.h>

#include "boot_priv.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"

int tb_boot_validate(struct tb_boot_ctx *c, const struct tb_area *a, bool sig, struct tb_image_info *info)
{
    static const struct tb_keyring no_keys = {NULL, 0};
    struct tb_crypto_counts before, after;
    tb_crypto_counts(&before);
    int rc = tb_image_validate(a, &no_keys, info);
    bool known = c->trusted_len != 0 && c->trusted_len == info->hash_len &&
                 memcmp(c->trusted, info->hash, c->trusted_len) == 0;
    if (rc == TB_OK && sig && !known) {
        rc = tb_image_verify_signature(a, &c->cfg->keys, info);
        if (rc == TB_OK && info->hash_len <= sizeof(c->trusted)) {
            memcpy(c->trusted, info->hash, info->hash_len);
            c->trusted_len = info->hash_len;
        }
    }
    tb_crypto_counts(&after);
    if (c->rec != NULL) {
        c->rec->sig_checks = (uint16_t)(c->rec->sig_checks + (after.sig_checks - before.sig_checks));
        c->rec->hashed_bytes += (uint32_t)(after.bytes_hashed - before.bytes_hashed);
    }
    return rc;
}
