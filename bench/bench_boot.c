/* Bench (not a test): the boot engine's flash cost on the nRF5340 DK layout
 * for 256 KiB and 768 KiB images, upgrade / confirm / revert, beside
 * MCUboot's measured figures for swap-move and swap-offset on the same
 * layout (docs/nrf5340-facts.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "twinboot/boot.h"
#include "twinboot/error.h"
#include "twinboot/sim.h"

struct figures {
    unsigned long long erases_int, erases_qspi, bytes_int, bytes_qspi;
    unsigned max_int, max_qspi;
    double busy_s, elapsed_s;
};

/* MCUboot @2d4bacc3 on the DK layout: erases pri/sec, bytes pri/sec, max erases on a primary sector, modelled s */
struct ref {
    const char *mode;
    unsigned kib;
    const char *phase;
    unsigned ep, es;
    unsigned long bp, bs;
    unsigned maxp;
    double s;
};
static const struct ref refs[] = {
    {"swap-move", 256, "upgrade", 129, 65, 525084, 262144, 2, 20.14},
    {"swap-move", 256, "revert", 129, 66, 525088, 262168, 2, 20.18},
    {"swap-offset", 256, "upgrade", 65, 65, 262688, 262144, 1, 11.85},
    {"swap-offset", 256, "revert", 65, 68, 262692, 262176, 1, 11.97},
    {"swap-move", 768, "upgrade", 385, 193, 1575196, 786432, 2, 60.16},
    {"swap-move", 768, "revert", 385, 194, 1575200, 786456, 2, 60.20},
    {"swap-offset", 768, "upgrade", 193, 193, 788000, 786432, 1, 35.30},
    {"swap-offset", 768, "revert", 193, 196, 788004, 786464, 1, 35.42},
};

static double ref_time(const char *mode, unsigned kib, const char *phase)
{
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        if (strcmp(refs[i].mode, mode) == 0 && refs[i].kib == kib && strcmp(refs[i].phase, phase) == 0) {
            return refs[i].s;
        }
    }
    return 0;
}

static unsigned max_in(const struct tb_simflash *f, uint32_t off, uint32_t size)
{
    unsigned m = 0;
    for (uint32_t s = off / f->flash.sector_size; s < (off + size) / f->flash.sector_size; s++) {
        m = f->sector_erases[s] > m ? f->sector_erases[s] : m;
    }
    return m;
}

static void measure(struct tb_simdev *d, const struct tb_layout *l, struct figures *f)
{
    const struct tb_simflash *a = &d->fl[TB_SIM_APP], *q = &d->fl[TB_SIM_QSPI];
    f->erases_int = a->cnt.erases;
    f->erases_qspi = q->cnt.erases;
    f->bytes_int = a->cnt.bytes_programmed;
    f->bytes_qspi = q->cnt.bytes_programmed;
    f->max_int = max_in(a, l->img[0].primary.off, l->img[0].primary.size);
    f->max_qspi = tb_simflash_max_sector_erases(q);
    f->busy_s = (double)(a->cnt.busy_ns + q->cnt.busy_ns) / 1e9;
    f->elapsed_s = (double)tb_simdev_elapsed_ns(d) / 1e9;
}

static void print_row(const char *what, const struct figures *f)
{
    printf("  %-9s %6llu %6llu %9llu %9llu %5u %5u %9.2f %9.2f\n", what, f->erases_int, f->erases_qspi, f->bytes_int,
           f->bytes_qspi, f->max_int, f->max_qspi, f->busy_s, f->elapsed_s);
}

int main(int argc, char **argv)
{
    const char *keyp = argc > 1 ? argv[1] : "keys/root-ecdsa-p256.pem";
    char err[256];
    struct tbk_key *k = tbk_load(keyp, err, sizeof(err));
    uint8_t *der;
    size_t der_len;
    if (k == NULL || tbk_pub_der(k, &der, &der_len) != 0) {
        fprintf(stderr, "bench_boot: %s\n", err);
        return 1;
    }
    struct tb_key key = {(uint16_t)tbk_type(k), der, (uint16_t)der_len};
    printf("twinboot boot engine on the nRF5340 DK layout (app primary 896 KiB in NVMC, secondary and backup in "
           "QSPI)\n");
    printf("time model: docs/nrf5340-facts.md; 'busy' = erase + program as MCUboot's figures; 'elapsed' adds "
           "QSPI reads and lets QSPI erases run during NVMC work\n\n");
    for (int size = 0; size < 2; size++) {
        unsigned kib = size ? 768 : 256;
        struct tb_simdev d;
        struct tb_device dev = {.nflash = TB_SIM_NFLASH};
        struct tb_signed v1, v2;
        if (tb_simdev_init(&d) != TB_OK || bench_make_image(k, 1, 0xe0000, kib * 1024u, &v1) != 0 ||
            bench_make_image(k, 2, 0xe0000, kib * 1024u, &v2) != 0) {
            return 1;
        }
        for (int i = 0; i < TB_SIM_NFLASH; i++) {
            dev.flashes[i] = &d.fl[i].flash;
        }
        struct tb_layout lay = tb_layout_nrf5340_dk;
        struct tb_boot_config cfg = {.layout = &lay, .dev = &dev, .keys = {&key, 1}};
        struct tb_boot_record rec;
        struct figures up, conf, rev;
        if (bench_put(&dev, &lay.img[0].primary, &v1) != 0 || tb_boot_go(&cfg, &rec) != TB_OK ||
            bench_put(&dev, &lay.img[0].secondary, &v2) != 0 || tb_boot_request(&cfg, 0, false) != TB_OK) {
            return 1;
        }
        tb_simdev_reset_counters(&d);
        if (tb_boot_go(&cfg, &rec) != TB_OK || rec.img[0].action != TB_ACT_UPGRADE_TEST) {
            fprintf(stderr, "bench_boot: upgrade failed\n");
            return 1;
        }
        measure(&d, &lay, &up);
        unsigned sig_up = rec.img[0].sig_checks, hash_up = rec.img[0].hashed_bytes;
        /* revert: the next reset without confirm */
        tb_simdev_reset_counters(&d);
        if (tb_boot_go(&cfg, &rec) != TB_OK || rec.img[0].action != TB_ACT_REVERT) {
            fprintf(stderr, "bench_boot: revert failed\n");
            return 1;
        }
        measure(&d, &lay, &rev);
        unsigned sig_rev = rec.img[0].sig_checks, hash_rev = rec.img[0].hashed_bytes;
        /* confirm: test again, then the application confirms and resets */
        if (tb_boot_request(&cfg, 0, false) != TB_OK || tb_boot_go(&cfg, &rec) != TB_OK) {
            return 1;
        }
        tb_simdev_reset_counters(&d);
        if (tb_boot_confirm(&cfg, 0) != TB_OK || tb_boot_go(&cfg, &rec) != TB_OK || rec.img[0].action != TB_ACT_NONE) {
            fprintf(stderr, "bench_boot: confirm failed\n");
            return 1;
        }
        measure(&d, &lay, &conf);
        unsigned sig_conf = rec.img[0].sig_checks, hash_conf = rec.img[0].hashed_bytes;

        printf("== %u KiB image (%zu bytes, %u sectors)\n", kib, v2.image_len, (unsigned)((v2.image_len + 4095) / 4096));
        printf("  %-9s %6s %6s %9s %9s %5s %5s %9s %9s\n", "phase", "e.int", "e.qspi", "b.int", "b.qspi", "max.i",
               "max.q", "busy s", "elapsed s");
        print_row("upgrade", &up);
        print_row("confirm", &conf);
        print_row("revert", &rev);
        printf("  signatures checked / bytes hashed per boot: upgrade %u / %u, confirm %u / %u, revert %u / %u;\n"
               "  MCUboot checks 2 signatures on an upgrade boot (secondary, then primary): upgrade x%.2f\n",
               sig_up, hash_up, sig_conf, hash_conf, sig_rev, hash_rev, sig_up / 2.0);
        printf("  MCUboot, same layout (erase+program s):\n");
        for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
            if (refs[i].kib == kib) {
                printf("  %-11s %-8s %4u/%-4u erases, %7lu/%-7lu bytes, max %u per primary sector, %6.2f s\n",
                       refs[i].mode, refs[i].phase, refs[i].ep, refs[i].es, refs[i].bp, refs[i].bs, refs[i].maxp,
                       refs[i].s);
            }
        }
        double so = ref_time("swap-offset", kib, "upgrade") + ref_time("swap-offset", kib, "revert");
        double sm = ref_time("swap-move", kib, "upgrade") + ref_time("swap-move", kib, "revert");
        double tw_busy = up.busy_s + rev.busy_s, tw_el = up.elapsed_s + rev.elapsed_s;
        printf("  upgrade + revert: twinboot %.2f s busy, %.2f s elapsed; swap-offset %.2f s, swap-move %.2f s\n",
               tw_busy, tw_el, so, sm);
        printf("  ratio to swap-offset: %.3f (busy), %.3f (elapsed); to swap-move: %.3f (busy), %.3f (elapsed)\n",
               tw_busy / so, tw_el / so, tw_busy / sm, tw_el / sm);
        if (kib == 768) {
            printf("  target: upgrade + revert <= 0.75 x 70.7 s = %.2f s -> %s (elapsed %.2f s)\n", 0.75 * 70.7,
                   tw_el <= 0.75 * 70.7 ? "met" : "NOT met", tw_el);
        }
        printf("\n");
        tb_signed_free(&v1);
        tb_signed_free(&v2);
        tb_simdev_free(&d);
    }
    free(der);
    tbk_free(k);
    return 0;
}
