/* `twinboot sim ...`: a simulated nRF5340 DK kept in a directory, like a board
 * across resets. This first cut writes and inspects slots; the boot engine
 * (issue 4) adds boot, confirm and power cuts. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "fileio.h"
#include "keyfile.h"
#include "twinboot/error.h"
#include "twinboot/image.h"
#include "twinboot/sim.h"

#ifndef TB_SOURCE_DIR
#define TB_SOURCE_DIR "."
#endif

#define MAX_TRUSTED 8

/* The nRF5340 DK layout of NCS's Partition Manager (pm_static.yml in
 * shared/reference/nrf5340.md): app primary in internal flash, both
 * secondaries in the external QSPI NOR. */
struct slot_desc {
    int image, slot; /* slot 0 primary, 1 secondary */
    int flash;       /* TB_SIM_* */
    uint32_t off, size;
};
static const struct slot_desc dk_slots[] = {
    {0, 0, TB_SIM_APP, 0x10000, 0xe0000},
    {0, 1, TB_SIM_QSPI, 0x0, 0xe0000},
    {1, 1, TB_SIM_QSPI, 0xe0000, 0x40000},
};
#define N_SLOTS (sizeof(dk_slots) / sizeof(dk_slots[0]))

static const char *dev_keys[] = {"root-ecdsa-p256.pem", "root-rsa-2048.pem", "root-ed25519.pem"};

static const char sim_usage[] =
    "usage: twinboot sim <command> [options] DIR\n"
    "\n"
    "A simulated nRF5340 DK kept in directory DIR (app, net and QSPI flash).\n"
    "\n"
    "commands:\n"
    "  new     make a blank device that trusts the given keys\n"
    "  load    write a signed image into a slot, as an upload would\n"
    "  status  show each slot: image version, hash, validity\n"
    "\n"
    "Run 'twinboot sim <command> --help' for a command's options.\n";

static int usage_error(const char *cmd, const char *msg)
{
    fprintf(stderr, "twinboot sim %s: %s\nRun 'twinboot sim %s --help' for usage.\n", cmd, msg, cmd);
    return TB_EXIT_USAGE;
}

struct trusted {
    struct tb_key keys[MAX_TRUSTED];
    uint8_t *der[MAX_TRUSTED];
    char names[MAX_TRUSTED][32];
    size_t n;
};

static void trusted_free(struct trusted *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->der[i]);
    }
    t->n = 0;
}

/* A device trusts the public keys stored as DIR/trusted-N.pem. */
static int trusted_load(const char *dir, struct trusted *t)
{
    char path[4096], err[256];
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < MAX_TRUSTED; i++) {
        snprintf(path, sizeof(path), "%s/trusted-%d.pem", dir, i);
        struct stat st;
        if (stat(path, &st) != 0) {
            break;
        }
        struct tbk_key *k = tbk_load(path, err, sizeof(err));
        size_t len = 0;
        if (k == NULL || tbk_pub_der(k, &t->der[t->n], &len) != 0) {
            fprintf(stderr, "twinboot sim: %s: %s\n", path, k ? "cannot encode key" : err);
            tbk_free(k);
            trusted_free(t);
            return -1;
        }
        t->keys[t->n] = (struct tb_key){(uint16_t)tbk_type(k), t->der[t->n], (uint16_t)len};
        snprintf(t->names[t->n], sizeof(t->names[0]), "%s", tbk_type_name(tbk_type(k)));
        t->n++;
        tbk_free(k);
    }
    return 0;
}

static int open_device(const char *dir, struct tb_simdev *d)
{
    int rc = tb_simdev_init(d);
    if (rc == TB_OK) {
        rc = tb_simdev_load(d, dir);
    }
    if (rc != TB_OK) {
        fprintf(stderr, "twinboot sim: cannot open device %s: %s\n(make one with 'twinboot sim new %s')\n", dir,
                tb_strerror(rc), dir);
        tb_simdev_free(d);
        return -1;
    }
    return 0;
}

static int cmd_new(int argc, char **argv)
{
    static const struct option opts[] = {
        {"key", required_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *keys[MAX_TRUSTED];
    size_t nkeys = 0;
    int c;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (nkeys == MAX_TRUSTED) {
                return usage_error("new", "too many keys");
            }
            keys[nkeys++] = optarg;
            break;
        case 'h':
            printf("usage: twinboot sim new [-k KEY.pem ...] DIR\n\n"
                   "Make a blank nRF5340 DK in DIR (all flash erased) whose bootloader trusts\n"
                   "the public part of each given key. Without -k: the development keys in\n"
                   "keys/ (not for production).\n");
            return TB_EXIT_OK;
        default: return usage_error("new", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("new", "needs DIR");
    }
    const char *dir = argv[optind];
    char defpaths[3][4096];
    if (nkeys == 0) {
        for (size_t i = 0; i < 3; i++) {
            snprintf(defpaths[i], sizeof(defpaths[i]), "%s/keys/%s", TB_SOURCE_DIR, dev_keys[i]);
            keys[nkeys++] = defpaths[i];
        }
    }
    struct tb_simdev d;
    int rc = tb_simdev_init(&d);
    if (rc == TB_OK) {
        rc = tb_simdev_save(&d, dir);
    }
    tb_simdev_free(&d);
    if (rc != TB_OK) {
        fprintf(stderr, "twinboot sim new: cannot create %s: %s\n", dir, tb_strerror(rc));
        return TB_EXIT_FAIL;
    }
    for (size_t i = 0; i < nkeys; i++) {
        char err[256], path[4096];
        struct tbk_key *k = tbk_load(keys[i], err, sizeof(err));
        if (k == NULL) {
            fprintf(stderr, "twinboot sim new: %s\n", err);
            return TB_EXIT_FAIL;
        }
        snprintf(path, sizeof(path), "%s/trusted-%zu.pem", dir, i);
        FILE *f = fopen(path, "w");
        int ok = f != NULL && tbk_write_pub_pem(k, f) == 0;
        ok = (f != NULL && fclose(f) == 0) && ok;
        tbk_free(k);
        if (!ok) {
            fprintf(stderr, "twinboot sim new: cannot write %s\n", path);
            return TB_EXIT_FAIL;
        }
    }
    printf("new nRF5340 DK in %s: app flash 1 MiB, net flash 256 KiB, QSPI 8 MiB, all erased; "
           "trusts %zu key(s)\n",
           dir, nkeys);
    return TB_EXIT_OK;
}

static const struct slot_desc *find_slot(int image, int slot)
{
    for (size_t i = 0; i < N_SLOTS; i++) {
        if (dk_slots[i].image == image && dk_slots[i].slot == slot) {
            return &dk_slots[i];
        }
    }
    return NULL;
}

static void print_counters(const struct tb_simdev *d)
{
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        const struct tb_sim_counters *c = &d->fl[i].cnt;
        if (c->erases == 0 && c->bytes_programmed == 0) {
            continue;
        }
        printf("  %-4s flash: %llu erases, %llu bytes programmed, %.3f s modelled\n", d->fl[i].flash.name,
               (unsigned long long)c->erases, (unsigned long long)c->bytes_programmed, (double)c->busy_ns / 1e9);
    }
}

static int cmd_load(int argc, char **argv)
{
    static const struct option opts[] = {{"image", required_argument, NULL, 'n'},
                                         {"slot", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    uint32_t image = 0;
    int slot = 1, c;
    while ((c = getopt_long(argc, argv, "n:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (cli_parse_u32(optarg, &image) != 0 || image > 1) {
                return usage_error("load", "--image is 0 (app core) or 1 (net core)");
            }
            break;
        case 's':
            if (strcmp(optarg, "primary") == 0) {
                slot = 0;
            } else if (strcmp(optarg, "secondary") == 0) {
                slot = 1;
            } else {
                return usage_error("load", "--slot is primary or secondary");
            }
            break;
        case 'h':
            printf("usage: twinboot sim load DIR [--image N] [--slot primary|secondary] FILE\n\n"
                   "Erase the slot and write FILE (an MCUboot image, .bin or .hex) into it,\n"
                   "as a debugger or an upload would. Defaults: image 0, secondary slot.\n");
            return TB_EXIT_OK;
        default: return usage_error("load", "unknown option");
        }
    }
    if (optind + 2 != argc) {
        return usage_error("load", "needs DIR and FILE");
    }
    const struct slot_desc *sd = find_slot((int)image, slot);
    if (sd == NULL) {
        fprintf(stderr, "twinboot sim load: image 1's primary slot is the net core's own flash, which the "
                        "app core cannot write; load image 1 into its secondary slot\n");
        return TB_EXIT_FAIL;
    }
    const char *dir = argv[optind], *file = argv[optind + 1];
    char err[512];
    struct tb_blob b;
    if (tb_read_file(file, &b, err, sizeof(err)) != 0) {
        fprintf(stderr, "twinboot sim load: %s\n", err);
        return TB_EXIT_FAIL;
    }
    struct tb_simdev d;
    if (open_device(dir, &d) != 0) {
        tb_blob_free(&b);
        return TB_EXIT_FAIL;
    }
    int exit_code = TB_EXIT_FAIL;
    struct tb_area a = {&d.fl[sd->flash].flash, sd->off, sd->size};
    uint32_t ws = a.flash->write_size, ss = a.flash->sector_size;
    if (b.len > sd->size) {
        fprintf(stderr, "twinboot sim load: %s is %zu bytes, the slot holds %u\n", file, b.len, (unsigned)sd->size);
        goto out;
    }
    /* Erase what the file covers, then program it padded to the write size. */
    size_t padded = (b.len + ws - 1) / ws * ws;
    uint8_t *buf = malloc(padded ? padded : 1);
    if (buf == NULL) {
        goto out;
    }
    memset(buf, 0xff, padded);
    memcpy(buf, b.data, b.len);
    int rc = tb_area_erase(&a, 0, (uint32_t)((padded + ss - 1) / ss * ss));
    if (rc == TB_OK) {
        rc = tb_area_program(&a, 0, buf, (uint32_t)padded);
    }
    free(buf);
    if (rc == TB_OK) {
        rc = tb_simdev_save(&d, dir);
    }
    if (rc != TB_OK) {
        fprintf(stderr, "twinboot sim load: %s\n", tb_strerror(rc));
        goto out;
    }
    printf("wrote %s (%zu bytes) to image %u %s slot (%s flash at 0x%x)\n", file, b.len, (unsigned)image,
           slot ? "secondary" : "primary", a.flash->name, (unsigned)sd->off);
    print_counters(&d);
    exit_code = TB_EXIT_OK;
out:
    tb_blob_free(&b);
    tb_simdev_free(&d);
    return exit_code;
}

static int cmd_status(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: twinboot sim status DIR\n\n"
               "Validate every slot with the device's trusted keys and print what it holds.\n");
        return TB_EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-') {
        return usage_error("status", "needs DIR");
    }
    const char *dir = argv[1];
    struct tb_simdev d;
    struct trusted t;
    if (trusted_load(dir, &t) != 0) {
        return TB_EXIT_FAIL;
    }
    if (open_device(dir, &d) != 0) {
        trusted_free(&t);
        return TB_EXIT_FAIL;
    }
    struct tb_keyring ring = {t.keys, t.n};
    printf("device %s (trusts %zu key(s))\n", dir, t.n);
    for (size_t i = 0; i < N_SLOTS; i++) {
        const struct slot_desc *sd = &dk_slots[i];
        struct tb_area a = {&d.fl[sd->flash].flash, sd->off, sd->size};
        struct tb_image_info info;
        int rc = tb_image_validate(&a, &ring, &info);
        printf("image %d %-9s %-4s 0x%06x: ", sd->image, sd->slot ? "secondary" : "primary", a.flash->name,
               (unsigned)sd->off);
        if (rc == TB_E_IMG_EMPTY) {
            printf("empty\n");
            continue;
        }
        if (rc != TB_OK) {
            printf("INVALID (%s)\n", tb_strerror(rc));
            continue;
        }
        char hex[129];
        cli_hex(info.hash, 8, hex);
        printf("valid, version %u.%u.%u+%u, hash %s..., signed by %s\n", info.hdr.ver.major, info.hdr.ver.minor,
               info.hdr.ver.revision, (unsigned)info.hdr.ver.build, hex,
               info.key_index >= 0 ? t.names[info.key_index] : "(no key required)");
    }
    tb_simdev_free(&d);
    trusted_free(&t);
    return TB_EXIT_OK;
}

int cmd_sim(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(sim_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? TB_EXIT_USAGE : TB_EXIT_OK;
    }
    const char *cmd = argv[1];
    argc--;
    argv++;
    optind = 0;
    if (strcmp(cmd, "new") == 0) return cmd_new(argc, argv);
    if (strcmp(cmd, "load") == 0) return cmd_load(argc, argv);
    if (strcmp(cmd, "status") == 0) return cmd_status(argc, argv);
    fprintf(stderr, "twinboot sim: unknown command '%s'\n\n%s", cmd, sim_usage);
    return TB_EXIT_USAGE;
}
