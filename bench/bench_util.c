#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "cborx.h"
#include "smp_serial.h"
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

/* One upload request for data[off, off+n), framed; the server's answer framed too. */
long bench_upload_step(struct tb_smp_server *srv, const uint8_t *img, size_t len, size_t off, size_t n,
                       const uint8_t sha[32], struct bench_tally *t)
{
    cbor_item_t *m = cbor_new_definite_map(off == 0 ? 5 : 2);
    if (off == 0) {
        tb_cbor_add(m, "image", cbor_build_uint8(0));
        tb_cbor_add(m, "len", cbor_build_uint32((uint32_t)len));
        tb_cbor_add(m, "sha", cbor_build_bytestring(sha, 32));
    }
    tb_cbor_add(m, "off", cbor_build_uint32((uint32_t)off));
    tb_cbor_add(m, "data", cbor_build_bytestring(img + off, n));
    uint8_t msg[4096], rsp[2048], frame[8192];
    unsigned char *body = NULL;
    size_t cap = 0, bl = cbor_serialize_alloc(m, &body, &cap), rn;
    cbor_decref(&m);
    struct tb_smp_hdr h = {TB_SMP_OP_WRITE, 1, 0, (uint16_t)bl, TB_SMP_GROUP_IMAGE, (uint8_t)t->requests, 1};
    tb_smp_hdr_encode(&h, msg);
    memcpy(msg + 8, body, bl);
    free(body);
    t->req_wire += tb_serial_encode(msg, bl + 8, frame, sizeof(frame));
    if (tb_smp_handle(srv, msg, bl + 8, rsp, sizeof(rsp), &rn) != TB_OK) {
        return -1;
    }
    t->rsp_wire += tb_serial_encode(rsp, rn, frame, sizeof(frame));
    t->payload += n;
    t->requests++;
    struct cbor_load_result res;
    cbor_item_t *r = cbor_load(rsp + 8, rn - 8, &res);
    cbor_item_t *o = tb_cbor_get(r, "off");
    long next = o != NULL && cbor_isa_uint(o) ? (long)cbor_get_int(o) : -1;
    if (r != NULL) {
        cbor_decref(&r);
    }
    return next;
}
