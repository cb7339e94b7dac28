#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twinboot/error.h"

int bench_make_image(struct tbk_key *k, uint8_t major, uint32_t slot_size, size_t total, struct tb_signed *s)
{
    char err[256];
    struct tb_sign_opts o;
    tb_sign_opts_default(&o);
    o.header_size = 0x200;
    o.slot_size = slot_size;
    o.align = 4;
    o.version = (struct tb_image_version){major, 0, 0, 0};
    /* TLVs: info 4, SHA256 36, KEYHASH 36, signature 4 + at most 72 */
    size_t len = total - 4 - 36 - 36 - 4 - 72;
    uint8_t *in = calloc(1, len);
    if (in == NULL) {
        return -1;
    }
    uint32_t x = 0x12345u + major;
    for (size_t i = 0x200; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        in[i] = (uint8_t)x;
    }
    int rc = tb_sign_image(&o, k, in, len, s, err, sizeof(err));
    free(in);
    if (rc != 0) {
        fprintf(stderr, "bench: %s\n", err);
    }
    return rc;
}

int bench_put(const struct tb_device *dev, const struct tb_region *r, const struct tb_signed *s)
{
    struct tb_area a;
    size_t padded = (s->len + 3) & ~(size_t)3;
    uint8_t *buf = malloc(padded);
    int rc = buf == NULL ? TB_E_NOSPACE : tb_region_area(dev, r, &a);
    if (rc == TB_OK) {
        memset(buf, 0xff, padded);
        memcpy(buf, s->data, s->len);
        rc = tb_area_erase(&a, 0, a.size);
    }
    if (rc == TB_OK) {
        rc = tb_area_program(&a, 0, buf, (uint32_t)padded);
    }
    free(buf);
    return rc;
}
