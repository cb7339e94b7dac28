/* Bench (not a test): validating a 512 KiB image from the simulated app
 * flash with SHA-256 + ECDSA-P256, against bare SHA-256 over the same bytes.
 * Run under callgrind by bench/run.sh, which counts instructions inside
 * bench_validate() and bench_sha256() separately. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imgbuild.h"
#include "keyfile.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"
#include "twinboot/image.h"
#include "twinboot/sim.h"

#define SLOT_OFF 0x10000u
#define SLOT_SIZE 0xe0000u

/* noinline: callgrind toggles collection on these symbols */
__attribute__((noinline)) int bench_validate(const struct tb_area *slot, const struct tb_keyring *kr,
                                             struct tb_image_info *info);
__attribute__((noinline)) int bench_sha256(const uint8_t *d, size_t len, uint8_t out[32]);

int bench_validate(const struct tb_area *slot, const struct tb_keyring *kr, struct tb_image_info *info)
{
    return tb_image_validate(slot, kr, info);
}

int bench_sha256(const uint8_t *d, size_t len, uint8_t out[32])
{
    struct tb_hash_ctx c;
    int rc = tb_hash_init(&c, TB_HASH_SHA256);
    if (rc == TB_OK) {
        rc = tb_hash_update(&c, d, len);
    }
    return rc == TB_OK ? tb_hash_finish(&c, out) : rc;
}

int main(int argc, char **argv)
{
    const char *keyp = argc > 1 ? argv[1] : "keys/root-ecdsa-p256.pem";
    /* header + payload size in KiB (default 512) */
    const size_t IMG_SIZE = (argc > 2 ? (size_t)strtoul(argv[2], NULL, 0) : 512u) * 1024u;
    if (IMG_SIZE < 1024 || IMG_SIZE > 768u * 1024u) {
        fprintf(stderr, "usage: bench_validate [KEY.pem] [KiB: 1..768]\n");
        return 2;
    }
    char err[256];
    struct tbk_key *k = tbk_load(keyp, err, sizeof(err));
    if (k == NULL) {
        fprintf(stderr, "bench_validate: %s\n", err);
        return 1;
    }
    /* a deterministic pseudo-random payload behind 0x200 bytes of header room */
    uint8_t *app = calloc(1, IMG_SIZE);
    uint32_t x = 2463534242u;
    for (size_t i = 0x200; i < IMG_SIZE; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        app[i] = (uint8_t)x;
    }
    struct tb_sign_opts o;
    struct tb_signed s;
    tb_sign_opts_default(&o);
    o.header_size = 0x200;
    o.slot_size = SLOT_SIZE;
    o.align = 4;
    o.version = (struct tb_image_version){1, 0, 0, 0};
    if (app == NULL || tb_sign_image(&o, k, app, IMG_SIZE, &s, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_validate: sign: %s\n", err);
        return 1;
    }
    uint8_t *der;
    size_t der_len;
    if (tbk_pub_der(k, &der, &der_len) != 0) {
        return 1;
    }
    struct tb_key key = {(uint16_t)tbk_type(k), der, (uint16_t)der_len};
    struct tb_keyring kr = {&key, 1};

    struct tb_simdev d;
    if (tb_simdev_init(&d) != TB_OK) {
        return 1;
    }
    struct tb_area slot = {&d.fl[TB_SIM_APP].flash, SLOT_OFF, SLOT_SIZE};
    size_t padded = (s.len + 3) & ~(size_t)3;
    uint8_t *buf = calloc(1, padded);
    memset(buf, 0xff, padded);
    memcpy(buf, s.data, s.len);
    if (tb_area_program(&slot, 0, buf, (uint32_t)padded) != TB_OK) {
        return 1;
    }
    tb_simdev_reset_counters(&d);

    struct tb_image_info info;
    int rc = bench_validate(&slot, &kr, &info);
    uint8_t h[32];
    size_t hashed = info.tlv_off; /* header + payload: what SHA-256 covers here */
    int rc2 = bench_sha256(s.data, hashed, h);
    if (rc != TB_OK || rc2 != TB_OK || memcmp(h, info.hash, 32) != 0) {
        fprintf(stderr, "bench_validate: validation failed: %s\n", tb_strerror(rc));
        return 1;
    }
    const struct tb_sim_counters *c = &d.fl[TB_SIM_APP].cnt;
    printf("image: %zu bytes (header+payload %zu), signed ECDSA-P256, in app flash at 0x%x\n", s.image_len,
           hashed, SLOT_OFF);
    printf("flash reads during validation: %llu calls, %llu bytes\n", (unsigned long long)c->read_ops,
           (unsigned long long)c->bytes_read);
    printf("hashed_bytes=%zu\n", hashed);
    free(buf);
    free(app);
    free(der);
    tb_signed_free(&s);
    tbk_free(k);
    tb_simdev_free(&d);
    return 0;
}
