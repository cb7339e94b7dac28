/* Helpers shared by the benchmarks. */
#ifndef TB_BENCH_UTIL_H
#define TB_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "imgbuild.h"
#include "keyfile.h"
#include "twinboot/layout.h"
#include "twinboot/smp.h"

/* A signed image of total bytes (header + payload + TLVs of an ECDSA or
 * Ed25519 key; a little less for RSA), pseudo-random payload per major. */
int bench_make_image(struct tbk_key *k, uint8_t major, uint32_t slot_size, size_t total, struct tb_signed *s);
/* Erase a region and write an image into it. */
int bench_put(const struct tb_device *dev, const struct tb_region *r, const struct tb_signed *s);

/* SMP upload over the serial console transport, counted on the wire. */
struct bench_tally {
    size_t req_wire, rsp_wire, payload, requests;
};
/* One upload request for img[off, off + n), framed; the server's answer
 * framed too. The next offset the server asks for, or -1. */
long bench_upload_step(struct tb_smp_server *srv, const uint8_t *img, size_t len, size_t off, size_t n,
                       const uint8_t sha[32], struct bench_tally *t);

#endif
