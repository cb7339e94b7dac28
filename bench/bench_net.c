/* Bench (not a test): updating a 200 KiB network-core image on the nRF5340
 * DK layout: twinboot's update with backup, its revert, and the plain
 * overwrite hand-over NCS does today (PCD: copy, no backup) as the
 * reference, from the simulator's flash counters and time model (the net
 * core on its own clock: see sim.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "twinboot/boot.h"
#include "twinboot/error.h"
#include "twinboot/sim.h"

struct fig {
    unsigned long long net_erases, qspi_erases, net_bytes, qspi_bytes;
    double busy_s, elapsed_s;
    unsigned sigs, hashed; /* image 1 in the app core's boot record */
};

static void measure(const struct tb_simdev *d, const struct tb_boot_record *rec, struct fig *f)
{
    f->sigs = rec->img[1].sig_checks;
    f->hashed = rec->img[1].hashed_bytes;
    const struct tb_simflash *n = &d->fl[TB_SIM_NET], *q = &d->fl[TB_SIM_QSPI], *a = &d->fl[TB_SIM_APP];
    f->net_erases = n->cnt.erases;
    f->qspi_erases = q->cnt.erases;
    f->net_bytes = n->cnt.bytes_programmed;
    f->qspi_bytes = q->cnt.bytes_programmed;
    f->busy_s = (double)(n->cnt.busy_ns + q->cnt.busy_ns + a->cnt.busy_ns) / 1e9;
    f->elapsed_s = (double)tb_simdev_elapsed_ns(d) / 1e9;
}

/* One reset from zeroed counters; image 1 must end with action. */
static int measured_boot(const struct tb_boot_config *cfg, struct tb_simdev *d, int action, const char *what,
                         struct fig *f)
{
    struct tb_boot_record rec;
    tb_simdev_reset_counters(d);
    if (tb_boot_go(cfg, &rec) != TB_OK || rec.img[1].action != action) {
        fprintf(stderr, "bench_net: %s: image 1 %s, expected %s\n", what, tb_boot_action_name(rec.img[1].action),
                tb_boot_action_name(action));
        return 1;
    }
    measure(d, &rec, f);
    return 0;
}

static void row(const char *what, const struct fig *f, const struct fig *ref)
{
    printf("  %-26s %6llu %6llu %8llu %8llu %4u %7u %8.2f %9.2f", what, f->net_erases, f->qspi_erases, f->net_bytes,
           f->qspi_bytes, f->sigs, f->hashed, f->busy_s, f->elapsed_s);
    if (ref != NULL) {
        printf("   x%.2f", f->elapsed_s / ref->elapsed_s);
    }
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *keyp = argc > 1 ? argv[1] : "keys/root-ecdsa-p256.pem";
    char err[256];
    uint8_t *der;
    size_t der_len;
    struct tbk_key *k = tbk_load(keyp, err, sizeof(err));
    if (k == NULL || tbk_pub_der(k, &der, &der_len) != 0) {
        fprintf(stderr, "bench_net: %s\n", err);
        return 1;
    }
    struct tb_key key = {(uint16_t)tbk_type(k), der, (uint16_t)der_len};
    struct tb_simdev d;
    struct tb_simnet net;
    struct tb_device dev = {.nflash = TB_SIM_NFLASH};
    struct tb_layout lay = tb_layout_nrf5340_dk;
    struct tb_signed n1, n2, app;
    struct tb_area net_app;
    if (tb_simdev_init(&d) != TB_OK || bench_make_image(k, 1, 0x40000, 200 * 1024, &n1) != 0 ||
        bench_make_image(k, 2, 0x40000, 200 * 1024, &n2) != 0 || bench_make_image(k, 9, 0xe0000, 64 * 1024, &app) != 0) {
        return 1;
    }
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        dev.flashes[i] = &d.fl[i].flash;
    }
    if (tb_region_area(&dev, &lay.img[1].primary, &net_app) != TB_OK ||
        tb_simnet_init(&net, &d, &net_app, TB_NC_WINDOW_OFF + lay.img[1].primary.size, 1) != TB_OK) {
        return 1;
    }
    struct tb_boot_config cfg = {.layout = &lay, .dev = &dev, .keys = {&key, 1}, .net = &net.ctl, .shm = net.shm};
    struct fig plain, up, rev, idle, rt;

    /* the app image is only there so the app core has something to boot */
    if (bench_put(&dev, &lay.img[0].primary, &app) != TB_OK || bench_put(&dev, &lay.img[1].secondary, &n1) != TB_OK ||
        tb_boot_request(&cfg, 1, true) != TB_OK) {
        return 1;
    }
    /* reference: the NCS way, a hand-over onto an empty net core (nothing to back up) */
    if (measured_boot(&cfg, &d, TB_ACT_UPGRADE_PERM, "first install", &plain) != 0 ||
        measured_boot(&cfg, &d, TB_ACT_NONE, "idle boot", &idle) != 0) {
        return 1;
    }
    /* twinboot: a test update with a backup of the installed image, and its revert */
    if (bench_put(&dev, &lay.img[1].secondary, &n2) != TB_OK || tb_boot_request(&cfg, 1, false) != TB_OK ||
        measured_boot(&cfg, &d, TB_ACT_UPGRADE_TEST, "update", &up) != 0 ||
        measured_boot(&cfg, &d, TB_ACT_REVERT, "revert", &rev) != 0) {
        return 1;
    }
    /* the same update when QSPI holds no copy of the net image (the first
     * update after a debugger flash): the backup by BACKUP round trips */
    const struct tb_region *bk = &lay.img[1].backup;
    const struct tb_flash *qf = dev.flashes[bk->flash];
    if (qf->erase(qf, bk->off) != TB_OK || qf->erase(qf, bk->off + bk->size / 2) != TB_OK ||
        bench_put(&dev, &lay.img[1].secondary, &n2) != TB_OK || tb_boot_request(&cfg, 1, false) != TB_OK ||
        measured_boot(&cfg, &d, TB_ACT_UPGRADE_TEST, "update without a copy", &rt) != 0) {
        return 1;
    }

    printf("network-core image of %zu bytes (%zu net pages of 2 KiB) on the nRF5340 DK layout\n", n2.image_len,
           (n2.image_len + 2047) / 2048);
    printf("  %-26s %6s %6s %8s %8s %4s %7s %8s %9s   %s\n", "", "e.net", "e.qspi", "b.net", "b.qspi", "sig",
           "hashed", "busy s", "elapsed s", "vs NCS");
    row("NCS-style hand-over (ref)", &plain, NULL);
    row("twinboot update + backup", &up, &plain);
    row("twinboot revert", &rev, &plain);
    row("update, no copy in QSPI", &rt, &plain);
    row("boot, nothing to do", &idle, NULL);
    printf("  the backup adds %.2f s (%.0f%%) to an update, and buys a revert that NCS cannot do:\n"
           "  it is the copy of the net image that the previous install wrote to QSPI while the net core\n"
           "  copied it (hidden in the reference's time too); without that copy (first update after a\n"
           "  debugger flash) the backup goes through BACKUP round trips and adds %.2f s (%.0f%%)\n",
           up.elapsed_s - plain.elapsed_s, 100.0 * (up.elapsed_s - plain.elapsed_s) / plain.elapsed_s,
           rt.elapsed_s - plain.elapsed_s, 100.0 * (rt.elapsed_s - plain.elapsed_s) / plain.elapsed_s);
    printf("  sig, hashed: signatures checked and bytes hashed by the app core for image 1 in that boot\n"
           "  (the net core hashes what it receives and installs besides); MCUboot checks 2 signatures per\n"
           "  image on an upgrade boot: update with backup %u (x%.2f)\n",
           up.sigs, up.sigs / 2.0);
    tb_signed_free(&n1);
    tb_signed_free(&n2);
    tb_signed_free(&app);
    tb_simnet_free(&net);
    tb_simdev_free(&d);
    free(der);
    tbk_free(k);
    return 0;
}
