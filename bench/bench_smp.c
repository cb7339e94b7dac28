/* Bench (not a test): SMP upload over the serial console transport, at
 * simulated 115200 and 1000000 baud, as a fraction of what the framing
 * allows. The server runs in-process on a simulated device; every request
 * and response is framed as on the wire and its bytes counted; the line time
 * is bytes x 10 bits (8N1) / baud, half duplex (a request, then its answer).
 * Flash time is left out: this measures the transport. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "bench_util.h"
#include "cborx.h"
#include "smp_serial.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"
#include "twinboot/sim.h"
#include "twinboot/smp.h"

int main(int argc, char **argv)
{
    const char *keyp = argc > 1 ? argv[1] : "keys/root-ecdsa-p256.pem";
    char err[256];
    struct tbk_key *k = tbk_load(keyp, err, sizeof(err));
    struct tb_signed img;
    if (k == NULL || bench_make_image(k, 2, 0xe0000, 200 * 1024, &img) != 0) {
        fprintf(stderr, "bench_smp: %s\n", k ? "sign failed" : err);
        return 1;
    }
    uint8_t sha[32];
    struct tb_hash_ctx hc;
    if (tb_hash_init(&hc, TB_HASH_SHA256) != TB_OK || tb_hash_update(&hc, img.data, img.len) != TB_OK ||
        tb_hash_finish(&hc, sha) != TB_OK) {
        return 1;
    }
    printf("SMP upload of a %zu-byte image over the serial console transport (base64 lines of <= 127 B)\n", img.len);
    printf("  %-6s %10s %10s %10s %12s %12s %9s\n", "chunk", "requests", "wire out", "wire in", "115200 B/s",
           "1000000 B/s", "of limit");
    static const size_t chunks[] = {64, 128, 256, 512, 1024};
    for (size_t ci = 0; ci < sizeof(chunks) / sizeof(chunks[0]); ci++) {
        struct tb_simdev d;
        struct tb_device dev = {.nflash = TB_SIM_NFLASH};
        struct tb_layout lay = tb_layout_nrf5340_dk;
        lay.image_count = 1;
        if (tb_simdev_init(&d) != TB_OK) {
            return 1;
        }
        for (int i = 0; i < TB_SIM_NFLASH; i++) {
            dev.flashes[i] = &d.fl[i].flash;
        }
        struct tb_boot_config cfg = {.layout = &lay, .dev = &dev};
        struct tb_boot_record rec;
        (void)tb_boot_go(&cfg, &rec);
        struct tb_smp_server srv;
        struct tb_smp_env env = {&cfg, &rec, 2048, 4, "bench"};
        tb_smp_init(&srv, &env);
        struct bench_tally t = {0};
        size_t off = 0;
        while (off < img.len) {
            size_t n = img.len - off < chunks[ci] ? img.len - off : chunks[ci];
            long next = bench_upload_step(&srv, img.data, img.len, off, n, sha, &t);
            if (next <= (long)off) {
                fprintf(stderr, "bench_smp: upload stalled at %zu\n", off);
                return 1;
            }
            off = (size_t)next;
        }
        /* the line's limit for this framing: requests only, back to back */
        double limit_frac = (double)t.payload / (double)t.req_wire;
        double r115 = (double)t.payload / ((double)(t.req_wire + t.rsp_wire) * 10.0 / 115200.0);
        double r1m = (double)t.payload / ((double)(t.req_wire + t.rsp_wire) * 10.0 / 1000000.0);
        printf("  %-6zu %10zu %10zu %10zu %12.0f %12.0f %8.1f%%\n", chunks[ci], t.requests, t.req_wire, t.rsp_wire, r115,
               r1m, 100.0 * r115 / (115200.0 / 10.0 * limit_frac));
        tb_simdev_free(&d);
    }
    printf("  'of limit': achieved rate / (baud/10 x payload share of a request frame): what the answers cost\n");
    printf("  raw line rate: 11520 B/s at 115200 baud, 100000 B/s at 1000000 baud (8N1); base64 alone keeps 3/4\n");
    tb_signed_free(&img);
    tbk_free(k);
    return 0;
}
