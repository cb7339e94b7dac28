/* Bench (not a test): compressed images (LZMA2 + ARM-Thumb, MCUboot's format
 * as imgtool writes it) on the nRF5340 DK layout, for a real linked Thumb-2
 * image of >= 256 KiB (bench/run.sh links twinboot + mbedTLS + the LZMA
 * decoder + newlib for the Cortex-M33 and passes its flash contents):
 *  - compressed size and ratio (lzma2 and lzma2armthumb);
 *  - SMP upload time over the serial console transport at 115200 and
 *    1000000 baud, compressed vs plain (bench_smp's wire model);
 *  - modelled install and revert time (flash model of the simulator) for
 *    the compressed and the plain image, and the decoder's work (bytes
 *    decoded, stream starts; bench/run.sh adds its instruction count).
 * With --decode-only FILE it only validates the rebuilt image of a
 * compressed image (run.sh counts that function's instructions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "fileio.h"
#include "imgcompress.h"
#include "memflash.h"
#include "twinboot/boot.h"
#include "twinboot/crypto.h"
#include "twinboot/decompress.h"
#include "twinboot/error.h"
#include "twinboot/sim.h"

#define SLOT 0xe0000U
#define CHUNK 512U

static int sign(struct tbk_key *k, const struct tb_blob *in, uint8_t major, enum tb_compression comp,
                struct tb_signed *out)
{
    char err[256];
    bool compressed;
    struct tb_sign_opts o;
    tb_sign_opts_default(&o);
    o.header_size = 0x200;
    o.pad_header = true;
    o.slot_size = SLOT;
    o.align = 4;
    o.version = (struct tb_image_version){major, 0, 0, 0};
    if (tb_sign_compressed(&o, k, in->data, in->len, comp, out, &compressed, err, sizeof(err)) != 0 ||
        compressed != (comp != TB_COMP_NONE)) {
        fprintf(stderr, "bench_lzma: sign: %s\n", compressed ? err : "not compressed");
        return -1;
    }
    return 0;
}

struct dk {
    struct tb_simdev d;
    struct tb_device dev;
    struct tb_layout lay;
    struct tb_boot_config cfg;
};

static int dk_init(struct dk *k, const struct tb_key *key)
{
    memset(k, 0, sizeof(*k));
    if (tb_simdev_init(&k->d) != TB_OK) {
        return -1;
    }
    k->dev.nflash = TB_SIM_NFLASH;
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        k->dev.flashes[i] = &k->d.fl[i].flash;
    }
    k->lay = tb_layout_nrf5340_dk;
    k->lay.image_count = 1;
    k->cfg = (struct tb_boot_config){.layout = &k->lay, .dev = &k->dev, .keys = {key, key != NULL ? 1 : 0}};
    return 0;
}

/* Upload time of img over the serial transport: seconds at 115200 and 1000000 baud. */
static int upload_time(const struct tb_signed *img, double *s115, double *s1m)
{
    struct dk k;
    struct tb_boot_record rec;
    uint8_t sha[32];
    struct tb_hash_ctx hc;
    if (dk_init(&k, NULL) != 0 || tb_hash_init(&hc, TB_HASH_SHA256) != TB_OK ||
        tb_hash_update(&hc, img->data, img->len) != TB_OK || tb_hash_finish(&hc, sha) != TB_OK) {
        return -1;
    }
    (void)tb_boot_go(&k.cfg, &rec);
    struct tb_smp_server srv;
    struct tb_smp_env env = {&k.cfg, &rec, 2048, 4, "bench"};
    tb_smp_init(&srv, &env);
    struct bench_tally t = {0};
    size_t off = 0;
    while (off < img->len) {
        size_t n = img->len - off < CHUNK ? img->len - off : CHUNK;
        long next = bench_upload_step(&srv, img->data, img->len, off, n, sha, &t);
        if (next <= (long)off) {
            fprintf(stderr, "bench_lzma: upload stalled at %zu\n", off);
            return -1;
        }
        off = (size_t)next;
    }
    double bits = (double)(t.req_wire + t.rsp_wire) * 10.0;
    *s115 = bits / 115200.0;
    *s1m = bits / 1000000.0;
    tb_simdev_free(&k.d);
    return 0;
}

struct phase {
    double busy_s, elapsed_s;
    unsigned long long erases, programmed;
};

static void measure(struct dk *k, struct phase *p)
{
    const struct tb_simflash *a = &k->d.fl[TB_SIM_APP], *q = &k->d.fl[TB_SIM_QSPI];
    p->busy_s = (double)(a->cnt.busy_ns + q->cnt.busy_ns) / 1e9;
    p->elapsed_s = (double)tb_simdev_elapsed_ns(&k->d) / 1e9;
    p->erases = a->cnt.erases + q->cnt.erases;
    p->programmed = a->cnt.bytes_programmed + q->cnt.bytes_programmed;
}

/* v1 runs; v2 (compressed or plain) is installed for test, then reverted. */
static int install_revert(const struct tb_key *key, const struct tb_signed *v1, const struct tb_signed *v2,
                          struct phase *up, struct phase *rev, struct tb_decomp_stats *st)
{
    struct dk k;
    struct tb_boot_record rec;
    if (dk_init(&k, key) != 0 || bench_put(&k.dev, &k.lay.img[0].primary, v1) != 0 ||
        tb_boot_go(&k.cfg, &rec) != TB_OK || bench_put(&k.dev, &k.lay.img[0].secondary, v2) != 0 ||
        tb_boot_request(&k.cfg, 0, false) != TB_OK) {
        return -1;
    }
    tb_simdev_reset_counters(&k.d);
    if (tb_boot_go(&k.cfg, &rec) != TB_OK || rec.img[0].action != TB_ACT_UPGRADE_TEST) {
        fprintf(stderr, "bench_lzma: install failed (%s)\n", tb_strerror(rec.img[0].reason));
        return -1;
    }
    measure(&k, up);
    tb_decomp_get_stats(st);
    tb_simdev_reset_counters(&k.d);
    if (tb_boot_go(&k.cfg, &rec) != TB_OK || rec.img[0].action != TB_ACT_REVERT) {
        fprintf(stderr, "bench_lzma: revert failed\n");
        return -1;
    }
    measure(&k, rev);
    tb_simdev_free(&k.d);
    return 0;
}

/* Validate the image a compressed image rebuilds: one full decode (and a
 * SHA-256 of the rebuilt image and a signature check). */
int bench_decode(const struct tb_area *src, const struct tb_keyring *ring, struct tb_image_info *info);
int bench_decode(const struct tb_area *src, const struct tb_keyring *ring, struct tb_image_info *info)
{
    struct tb_area view;
    int rc = tb_decomp_open(src, SLOT - 0x1000, 0x1000, 4, 0xff, &view);
    return rc == TB_OK ? tb_image_validate(&view, ring, info) : rc;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_lzma KEY.pem THUMB2.bin | bench_lzma --decode-only KEY.pem IMAGE\n");
        return 2;
    }
    bool decode_only = strcmp(argv[1], "--decode-only") == 0;
    const char *keyp = argv[decode_only ? 2 : 1], *path = argv[decode_only ? 3 : 2];
    char err[256];
    struct tbk_key *k = tbk_load(keyp, err, sizeof(err));
    uint8_t *der;
    size_t der_len;
    struct tb_blob in;
    if (k == NULL || tbk_pub_der(k, &der, &der_len) != 0 || tb_read_file(path, &in, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_lzma: %s\n", err);
        return 1;
    }
    struct tb_key key = {(uint16_t)tbk_type(k), der, (uint16_t)der_len};
    if (decode_only) {
        struct tb_flash f;
        struct tb_area a;
        struct tb_image_info info;
        struct tb_keyring ring = {&key, 1};
        int rc = tb_memflash_init(&f, &a, in.data, in.len);
        rc = rc == TB_OK ? bench_decode(&a, &ring, &info) : rc;
        printf("decoded_bytes=%u\nresult=%s\n", info.hdr.img_size, tb_strerror(rc));
        return rc == TB_OK ? 0 : 1;
    }
    struct tb_signed plain1, plain2, z2, lz2;
    if (sign(k, &in, 1, TB_COMP_NONE, &plain1) != 0 || sign(k, &in, 2, TB_COMP_NONE, &plain2) != 0 ||
        sign(k, &in, 2, TB_COMP_LZMA2_ARMTHUMB, &z2) != 0 || sign(k, &in, 2, TB_COMP_LZMA2, &lz2) != 0) {
        return 1;
    }
    printf("compressed images on the nRF5340 DK layout; payload: %s, %zu bytes of linked Cortex-M33 Thumb-2 code\n",
           path, in.len);
    printf("  %-24s %9s %7s\n", "image", "bytes", "ratio");
    printf("  %-24s %9zu %7.3f\n", "plain (signed)", plain2.len, 1.0);
    printf("  %-24s %9zu %7.3f\n", "lzma2", lz2.len, (double)lz2.len / (double)plain2.len);
    printf("  %-24s %9zu %7.3f\n", "lzma2armthumb", z2.len, (double)z2.len / (double)plain2.len);
    printf("  (byte-identical to imgtool 2.4.0 --compression for Ed25519 keys: tests/test_decomp.c)\n\n");

    double p115, p1m, z115, z1m;
    if (upload_time(&plain2, &p115, &p1m) != 0 || upload_time(&z2, &z115, &z1m) != 0) {
        return 1;
    }
    printf("SMP upload over the serial console transport (%u-byte chunks, bench_smp's wire model, 8N1)\n", CHUNK);
    printf("  %-14s %12s %12s\n", "", "115200 baud", "1000000 baud");
    printf("  %-14s %10.1f s %10.2f s\n", "plain", p115, p1m);
    printf("  %-14s %10.1f s %10.2f s\n", "lzma2armthumb", z115, z1m);
    printf("  %-14s %12.3f %12.3f\n\n", "ratio", z115 / p115, z1m / p1m);

    struct phase pu, pr, zu, zr;
    struct tb_decomp_stats pst, zst;
    if (install_revert(&key, &plain1, &plain2, &pu, &pr, &pst) != 0 ||
        install_revert(&key, &plain1, &z2, &zu, &zr, &zst) != 0) {
        return 1;
    }
    printf("install (test) and revert, modelled flash time (docs/nrf5340-facts.md timings)\n");
    printf("  %-22s %8s %10s %9s %11s\n", "", "erases", "programmed", "busy s", "elapsed s");
    printf("  %-22s %8llu %10llu %9.2f %11.2f\n", "install plain", pu.erases, pu.programmed, pu.busy_s, pu.elapsed_s);
    printf("  %-22s %8llu %10llu %9.2f %11.2f\n", "install compressed", zu.erases, zu.programmed, zu.busy_s,
           zu.elapsed_s);
    printf("  %-22s %8llu %10llu %9.2f %11.2f\n", "revert plain", pr.erases, pr.programmed, pr.busy_s, pr.elapsed_s);
    printf("  %-22s %8llu %10llu %9.2f %11.2f\n", "revert compressed", zr.erases, zr.programmed, zr.busy_s,
           zr.elapsed_s);
    printf("  ratio compressed / plain: install %.3f, revert %.3f (elapsed)\n", zu.elapsed_s / pu.elapsed_s,
           zr.elapsed_s / pr.elapsed_s);
    printf("  decoder work in the compressed install: %u stream start(s), %llu bytes decoded, %llu compressed bytes "
           "read\n",
           (unsigned)zst.starts, (unsigned long long)zst.decoded, (unsigned long long)zst.read);
    printf("  (the validation pass before writing decodes too: its cost is counted by bench/run.sh)\n");
    tb_signed_free(&plain1);
    tb_signed_free(&plain2);
    tb_signed_free(&z2);
    tb_signed_free(&lz2);
    tb_blob_free(&in);
    free(der);
    tbk_free(k);
    return 0;
}
