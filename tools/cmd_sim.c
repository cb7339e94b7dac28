/* `twinboot sim ...`: a simulated nRF5340 DK kept in a directory, like a board
 * across resets. Each command loads the device, does what a board (or its
 * application) would do, and saves it again.
 *
 * A device directory holds: app.bin, net.bin, qspi.bin (the flashes),
 * trusted-N.pem (the bootloader's keys), device.conf (strategy options),
 * bootrec.bin (the boot record the bootloader hands the application, i.e.
 * RAM), and counters.txt (flash work and wear, summed over the device's life). */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 600
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "fileio.h"
#include "keyfile.h"
#include "pmlayout.h"
#include "qemu_run.h"
#include "smp_serial.h"
#include "twinboot/boot.h"
#include "twinboot/bootlog.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"
#include "twinboot/image.h"
#include "twinboot/layout.h"
#include "twinboot/sim.h"
#include "twinboot/smp.h"
#include "twinboot/trailer.h"

#ifndef TB_SOURCE_DIR
#define TB_SOURCE_DIR "."
#endif

#define MAX_TRUSTED 8

static const char *dev_keys[] = {"root-ecdsa-p256.pem", "root-rsa-2048.pem", "root-ed25519.pem"};

static const char sim_usage[] =
    "usage: twinboot sim <command> [options] DIR\n"
    "\n"
    "A simulated nRF5340 DK kept in directory DIR (app, net and QSPI flash).\n"
    "\n"
    "commands:\n"
    "  new      make a blank device that trusts the given keys\n"
    "  load     write a signed image into a slot, as an upload would; --test/--confirm request it\n"
    "  boot     reset the device: the bootloader runs (optionally with a power cut)\n"
    "  confirm  what the running application does to keep a test image\n"
    "  status   each slot's image, trailer and the last boot record (--json for scripts)\n"
    "  run      run the device: bootloaders, then the application's SMP server on UDP\n"
    "\n"
    "Exit codes: 0 success, 1 failure, 2 usage error, 3 no bootable image,\n"
    "4 the power was cut (sim boot --cut-after).\n"
    "Run 'twinboot sim <command> --help' for a command's options.\n";

static int usage_error(const char *cmd, const char *msg) { return cli_usage_error("sim", cmd, msg); }

/* ---- the device as the commands see it -------------------------------- */

struct conf {
    int strategy0;           /* image 0: TB_STRATEGY_SWAP or _OVERWRITE */
    int downgrade_prevention;
    int max_test_boots;
    int no_keys;             /* made with --no-keys: trusts no key, on purpose */
    int nkeys;               /* trusted-0.pem ... as made by 'sim new'; -1: not recorded */
    char key_sha[MAX_TRUSTED][65]; /* SHA-256 of each trusted key (DER), hex */
};

struct counters {
    uint64_t erases[TB_SIM_NFLASH], bytes[TB_SIM_NFLASH], busy_ns[TB_SIM_NFLASH];
    uint64_t boots;
};

struct sim {
    const char *dir;
    struct tb_simdev d;
    struct tb_simnet net; /* the net core and the shared RAM */
    struct tb_device dev;
    struct tb_layout lay;
    struct conf conf;
    struct tb_key keys[MAX_TRUSTED];
    uint8_t *der[MAX_TRUSTED];
    char key_names[MAX_TRUSTED][32];
    size_t nkeys;
    struct tb_boot_config cfg;
    struct counters life;
    int lock_fd;
};

static void path_of(char *out, size_t n, const char *dir, const char *file)
{
    snprintf(out, n, "%s/%s", dir, file);
}

static const char *strategy_name(int s) { return tb_strategy_name(s); }

/* device.conf's text, saved with the flashes (sim new) */
static int conf_text(const struct conf *c, char *out, size_t n)
{
    int k = snprintf(out, n,
                     "# twinboot simulated nRF5340 DK\nstrategy0=%s\ndowngrade_prevention=%d\nmax_test_boots=%d\n"
                     "no_keys=%d\ntrusted_keys=%d\n",
                     strategy_name(c->strategy0), c->downgrade_prevention, c->max_test_boots, c->no_keys, c->nkeys);
    for (int i = 0; i < c->nkeys && k > 0 && (size_t)k < n; i++) {
        k += snprintf(out + k, n - (size_t)k, "trusted_key_sha256=%s\n", c->key_sha[i]);
    }
    return k > 0 && (size_t)k < n ? k : -1;
}

static int conf_load(const char *dir, struct conf *c)
{
    char p[4096], line[256];
    memset(c, 0, sizeof(*c));
    c->strategy0 = TB_STRATEGY_SWAP;
    c->max_test_boots = 1;
    c->nkeys = -1;
    path_of(p, sizeof(p), dir, "device.conf");
    FILE *f = fopen(p, "r");
    if (f == NULL) {
        return errno == ENOENT ? 0 : -1;
    }
    int shas = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        char val[80];
        int n;
        if (sscanf(line, "trusted_key_sha256=%64s", val) == 1 && shas < MAX_TRUSTED) {
            snprintf(c->key_sha[shas++], sizeof(c->key_sha[0]), "%.64s", val);
        } else if (sscanf(line, "no_keys=%d", &n) == 1) {
            c->no_keys = n != 0;
        } else if (sscanf(line, "trusted_keys=%d", &n) == 1 && n >= 0 && n <= MAX_TRUSTED) {
            c->nkeys = n;
        } else
        if (sscanf(line, "strategy0=%63s", val) == 1) {
            c->strategy0 = strcmp(val, "overwrite") == 0 ? TB_STRATEGY_OVERWRITE : TB_STRATEGY_SWAP;
        } else if (sscanf(line, "downgrade_prevention=%d", &n) == 1) {
            c->downgrade_prevention = n != 0;
        } else if (sscanf(line, "max_test_boots=%d", &n) == 1 && n >= 1 && n <= 100) {
            c->max_test_boots = n;
        }
    }
    fclose(f);
    return 0;
}

static void life_load(struct sim *s)
{
    char p[4096], line[256];
    path_of(p, sizeof(p), s->dir, "counters.txt");
    memset(&s->life, 0, sizeof(s->life));
    FILE *f = fopen(p, "r");
    if (f == NULL) {
        return;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        int i;
        uint64_t a, b, c;
        if (sscanf(line, "flash %d %" SCNu64 " %" SCNu64 " %" SCNu64, &i, &a, &b, &c) == 4 && i >= 0 &&
            i < TB_SIM_NFLASH) {
            s->life.erases[i] = a;
            s->life.bytes[i] = b;
            s->life.busy_ns[i] = c;
        } else {
            (void)sscanf(line, "boots %" SCNu64, &s->life.boots);
        }
    }
    fclose(f);
}

/* counters.txt's text: the device's life so far plus this run's work */
static int life_text(const struct sim *s, char *out, size_t n)
{
    int k = snprintf(out, n, "# flash N erases bytes_programmed busy_ns (summed over the device's life)\n");
    for (int i = 0; i < TB_SIM_NFLASH && k > 0 && (size_t)k < n; i++) {
        k += snprintf(out + k, n - (size_t)k, "flash %d %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", i,
                      s->life.erases[i] + s->d.fl[i].cnt.erases, s->life.bytes[i] + s->d.fl[i].cnt.bytes_programmed,
                      s->life.busy_ns[i] + s->d.fl[i].cnt.busy_ns);
    }
    if (k > 0 && (size_t)k < n) {
        k += snprintf(out + k, n - (size_t)k, "boots %" PRIu64 "\n", s->life.boots);
    }
    return k > 0 && (size_t)k < n ? k : -1;
}

/* SHA-256 of a key's DER, as hex (what device.conf records of each trusted key) */
static int key_sha_hex(const uint8_t *der, size_t len, char out[65])
{
    struct tb_hash_ctx h;
    uint8_t d[32];
    if (tb_hash_init(&h, TB_HASH_SHA256) != TB_OK || tb_hash_update(&h, der, len) != TB_OK ||
        tb_hash_finish(&h, d) != TB_OK) {
        return -1;
    }
    cli_hex(d, 32, out);
    return 0;
}

static void sim_close(struct sim *s)
{
    for (size_t i = 0; i < s->nkeys; i++) {
        free(s->der[i]);
    }
    tb_simnet_free(&s->net);
    tb_simdev_free(&s->d);
    tb_simdev_unlock(s->lock_fd);
    s->lock_fd = -1;
}

/* Take dir for this command (one owner at a time). Prints why not. */
static int take_lock(const char *dir, int *fd)
{
    long pid;
    char q[4200];
    int rc = tb_simdev_lock(dir, fd, &pid);
    if (rc == TB_E_NOSPACE) {
        fprintf(stderr, "twinboot sim: device %s is in use by PID %ld: stop that process (or wait for it) first\n",
                cli_shq(dir, q, sizeof(q)), pid);
    } else if (rc != TB_OK) {
        fprintf(stderr, "twinboot sim: cannot lock device %s: %s\n", cli_shq(dir, q, sizeof(q)), strerror(errno));
    }
    return rc == TB_OK ? 0 : -1;
}

/* The keys the bootloader trusts: exactly those 'sim new' recorded. */
static int load_keys(struct sim *s, const char *dir)
{
    char p[4096], err[256], q[4200], sha[65];
    const char *qd = cli_shq(dir, q, sizeof(q));
    for (int i = 0; i < MAX_TRUSTED; i++) {
        struct stat st;
        snprintf(p, sizeof(p), "%s/trusted-%d.pem", dir, i);
        if (stat(p, &st) != 0) {
            break;
        }
        struct tbk_key *k = tbk_load(p, err, sizeof(err));
        size_t len = 0;
        if (k == NULL || tbk_pub_der(k, &s->der[s->nkeys], &len) != 0) {
            fprintf(stderr, "twinboot sim: device %s is damaged: %s: %s\n", qd, p, k ? "cannot encode key" : err);
            tbk_free(k);
            return -1;
        }
        s->keys[s->nkeys] = (struct tb_key){(uint16_t)tbk_type(k), s->der[s->nkeys], (uint16_t)len};
        snprintf(s->key_names[s->nkeys], sizeof(s->key_names[0]), "%s", tbk_type_name(tbk_type(k)));
        tbk_free(k);
        s->nkeys++;
        if (s->conf.nkeys >= 0 && (i >= s->conf.nkeys || key_sha_hex(s->der[i], len, sha) != 0 ||
                                   strcmp(sha, s->conf.key_sha[i]) != 0)) {
            fprintf(stderr, "twinboot sim: device %s is damaged: %s is not a key it was made to trust\n", qd, p);
            return -1;
        }
    }
    if (s->conf.nkeys >= 0 && (int)s->nkeys != s->conf.nkeys) {
        fprintf(stderr,
                "twinboot sim: device %s is damaged: it was made to trust %d key(s) and trusted-%zu.pem is missing\n"
                "make it again with 'twinboot sim new --force -k KEY.pem %s'\n",
                qd, s->conf.nkeys, s->nkeys, qd);
        return -1;
    }
    if (s->nkeys == 0 && !s->conf.no_keys) {
        fprintf(stderr,
                "twinboot sim: device %s trusts no key, so its bootloader would boot any unsigned image: refused\n"
                "make it again with 'twinboot sim new --force -k KEY.pem %s' (or --no-keys, for tests only)\n",
                qd, qd);
        return -1;
    }
    if (s->nkeys == 0) {
        fprintf(stderr, "twinboot sim: note: device %s trusts NO key (made with --no-keys): it boots unsigned images\n",
                qd);
    }
    return 0;
}

/* Lock and load flashes, keys and configuration. Prints what went wrong. */
static int sim_open(struct sim *s, const char *dir)
{
    char err[512], q[4200];
    struct stat st;
    memset(s, 0, sizeof(*s));
    s->dir = dir;
    s->lock_fd = -1;
    const char *qd = cli_shq(dir, q, sizeof(q));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "twinboot sim: no device in %s (make one with 'twinboot sim new %s')\n", qd, qd);
        return -1;
    }
    if (take_lock(dir, &s->lock_fd) != 0) {
        return -1;
    }
    int rc = tb_simdev_init(&s->d);
    if (rc == TB_OK) {
        rc = tb_simdev_load_err(&s->d, dir, err, sizeof(err));
    } else {
        snprintf(err, sizeof(err), "%s", tb_strerror(rc));
    }
    if (rc != TB_OK) {
        fprintf(stderr, "twinboot sim: cannot open device %s: %s\n(make one with 'twinboot sim new %s')\n", qd, err,
                qd);
        sim_close(s);
        return -1;
    }
    if (conf_load(dir, &s->conf) != 0) {
        fprintf(stderr, "twinboot sim: cannot read %s/device.conf\n", dir);
        sim_close(s);
        return -1;
    }
    if (load_keys(s, dir) != 0) {
        sim_close(s);
        return -1;
    }
    life_load(s);
    s->dev.nflash = TB_SIM_NFLASH;
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        s->dev.flashes[i] = &s->d.fl[i].flash;
    }
    if (tb_pm_sim_layout(dir, &s->lay, err, sizeof(err)) != TB_OK) {
        fprintf(stderr, "twinboot sim: %s\n", err);
        sim_close(s);
        return -1;
    }
    s->lay.img[0].strategy = (uint8_t)s->conf.strategy0;
    /* the net core, and the shared RAM whose window takes a whole net image */
    struct tb_area net_app;
    if (tb_region_area(&s->dev, &s->lay.img[1].primary, &net_app) != TB_OK ||
        tb_simnet_init(&s->net, &s->d, &net_app, TB_NC_WINDOW_OFF + s->lay.img[1].primary.size, 1) != TB_OK) {
        fprintf(stderr, "twinboot sim: cannot set up the net core\n");
        sim_close(s);
        return -1;
    }
    s->cfg = (struct tb_boot_config){
        .layout = &s->lay,
        .dev = &s->dev,
        .keys = {s->keys, s->nkeys},
        .downgrade_prevention = s->conf.downgrade_prevention != 0,
        .max_test_boots = (uint8_t)s->conf.max_test_boots,
        .net = &s->net.ctl,
        .shm = s->net.shm,
    };
    return 0;
}

/* Save the flashes, the counters and (rec != NULL) the boot record: all or
 * nothing. Prints what failed; never says ok after a failed save. */
static int sim_save(struct sim *s, const struct tb_boot_record *rec)
{
    char life[1024], err[600], q[4200];
    struct tb_sim_file extra[2];
    size_t n = 0;
    int len = life_text(s, life, sizeof(life));
    if (len > 0) {
        extra[n++] = (struct tb_sim_file){"counters.txt", life, (uint32_t)len};
    }
    if (rec != NULL) {
        extra[n++] = (struct tb_sim_file){"bootrec.bin", rec, (uint32_t)sizeof(*rec)};
    }
    if (tb_simdev_save_files(&s->d, s->dir, extra, n, err, sizeof(err)) != TB_OK) {
        fprintf(stderr, "twinboot sim: cannot save device %s: %s\n", cli_shq(s->dir, q, sizeof(q)), err);
        return -1;
    }
    return 0;
}

static int record_load(const char *dir, struct tb_boot_record *rec)
{
    char p[4096];
    path_of(p, sizeof(p), dir, "bootrec.bin");
    FILE *f = fopen(p, "rb");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(rec, 1, sizeof(*rec), f);
    fclose(f);
    return n == sizeof(*rec) && rec->magic == TB_BOOT_RECORD_MAGIC ? 0 : -1;
}

static void print_work(const struct tb_simdev *d, const char *indent)
{
    double busy = 0;
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        const struct tb_sim_counters *c = &d->fl[i].cnt;
        busy += (double)c->busy_ns;
        if (c->erases == 0 && c->bytes_programmed == 0) {
            continue;
        }
        printf("%s%-4s flash: %" PRIu64 " erases (at most %u on one sector), %" PRIu64 " bytes programmed, %.3f s\n",
               indent, d->fl[i].flash.name, c->erases, (unsigned)tb_simflash_max_sector_erases(&d->fl[i]),
               c->bytes_programmed, (double)c->busy_ns / 1e9);
    }
    if (busy > 0) {
        printf("%smodelled flash time: %.3f s erase+program; %.3f s elapsed (QSPI reads included, QSPI erases "
               "overlapping internal-flash work)\n",
               indent,
               busy / 1e9, (double)tb_simdev_elapsed_ns(d) / 1e9);
    }
}

/* ---- new ---------------------------------------------------------------- */

/* A directory that already holds (part of) a device. */
static bool populated(const char *dir)
{
    static const char *files[] = {"app.bin", "net.bin", "qspi.bin", "device.conf", "trusted-0.pem", "save.log"};
    char p[4096];
    struct stat st;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        path_of(p, sizeof(p), dir, files[i]);
        if (lstat(p, &st) == 0) {
            return true;
        }
    }
    return false;
}

static int cmd_new(int argc, char **argv)
{
    enum { OPT_STRATEGY = 256, OPT_DOWNGRADE, OPT_MAXBOOTS, OPT_FORCE, OPT_NO_KEYS, OPT_LAYOUT };
    static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
                                         {"layout", required_argument, NULL, OPT_LAYOUT},
                                         {"strategy", required_argument, NULL, OPT_STRATEGY},
                                         {"downgrade-prevention", no_argument, NULL, OPT_DOWNGRADE},
                                         {"max-test-boots", required_argument, NULL, OPT_MAXBOOTS},
                                         {"force", no_argument, NULL, OPT_FORCE},
                                         {"no-keys", no_argument, NULL, OPT_NO_KEYS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *keys[MAX_TRUSTED], *layout = NULL;
    size_t nkeys = 0;
    struct conf conf;
    memset(&conf, 0, sizeof(conf));
    conf.strategy0 = TB_STRATEGY_SWAP;
    conf.max_test_boots = 1;
    bool force = false;
    uint32_t v;
    int c;
    while ((c = getopt_long(argc, argv, "k:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (nkeys == MAX_TRUSTED) {
                return usage_error("new", "too many keys");
            }
            keys[nkeys++] = optarg;
            break;
        case OPT_STRATEGY:
            if (strcmp(optarg, "swap") == 0) {
                conf.strategy0 = TB_STRATEGY_SWAP;
            } else if (strcmp(optarg, "overwrite") == 0) {
                conf.strategy0 = TB_STRATEGY_OVERWRITE;
            } else {
                return usage_error("new", "--strategy is swap or overwrite");
            }
            break;
        case OPT_DOWNGRADE: conf.downgrade_prevention = 1; break;
        case OPT_MAXBOOTS:
            if (cli_parse_u32(optarg, &v) != 0 || v < 1 || v > 100) {
                return usage_error("new", "--max-test-boots is 1..100");
            }
            conf.max_test_boots = (int)v;
            break;
        case OPT_FORCE: force = true; break;
        case OPT_NO_KEYS: conf.no_keys = 1; break;
        case OPT_LAYOUT: layout = optarg; break;
        case 'h':
            printf("usage: twinboot sim new [-k KEY.pem ...] [--strategy swap|overwrite]\n"
                   "                        [--downgrade-prevention] [--max-test-boots N]\n"
                   "                        [--force] [--no-keys] [--layout partitions.yml] DIR\n\n"
                   "Make a blank nRF5340 DK in DIR (all flash erased) whose bootloader trusts\n"
                   "the public part of each given key. Without -k: the development keys in\n"
                   "keys/ (not for production). Every key is read before anything is written.\n\n"
                   "  --strategy S              image 0 (app core): swap (test/confirm/revert,\n"
                   "                            default) or overwrite (no revert)\n"
                   "  --downgrade-prevention    refuse images older than the running one\n"
                   "  --max-test-boots N        resets an unconfirmed test image survives\n"
                   "                            before it is reverted (default 1, as MCUboot)\n"
                   "  --force                   erase the device already in DIR\n"
                   "  --no-keys                 trust no key: the bootloader boots unsigned\n"
                   "                            images (tests only; it says so at every open)\n"
                   "  --layout FILE             the partitions of an NCS Partition Manager file\n"
                   "                            (see 'twinboot layout'; default: the DK layout)\n");
            return TB_EXIT_OK;
        default: return usage_error("new", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("new", "needs DIR");
    }
    if (conf.no_keys && nkeys > 0) {
        return usage_error("new", "--no-keys and -k exclude each other");
    }
    const char *dir = argv[optind];
    char defpaths[3][4096], q[4200];
    const char *qd = cli_shq(dir, q, sizeof(q));
    if (nkeys == 0 && !conf.no_keys) {
        for (size_t i = 0; i < 3; i++) {
            snprintf(defpaths[i], sizeof(defpaths[i]), "%s/keys/%s", TB_SOURCE_DIR, dev_keys[i]);
            keys[nkeys++] = defpaths[i];
        }
    }
    /* every input first: nothing is touched unless all of it is good */
    char *pem[MAX_TRUSTED] = {NULL};
    size_t pem_len[MAX_TRUSTED] = {0};
    int exit_code = TB_EXIT_FAIL;
    struct tb_blob layout_yml = {0};
    for (size_t i = 0; i < nkeys; i++) {
        char err[256];
        uint8_t *der = NULL;
        size_t dlen = 0;
        struct tbk_key *k = tbk_load(keys[i], err, sizeof(err));
        FILE *m = k != NULL ? open_memstream(&pem[i], &pem_len[i]) : NULL;
        int ok = m != NULL && tbk_write_pub_pem(k, m) == 0;
        ok = (m != NULL && fclose(m) == 0) && ok;
        ok = ok && tbk_pub_der(k, &der, &dlen) == 0 && key_sha_hex(der, dlen, conf.key_sha[i]) == 0;
        free(der);
        tbk_free(k);
        if (!ok) {
            fprintf(stderr, "twinboot sim new: %s (nothing was changed)\n", k == NULL ? err : "cannot encode the key");
            goto out;
        }
    }
    conf.nkeys = (int)nkeys;
    char lerr[600];
    if (layout != NULL && tb_pm_sim_read(layout, &layout_yml, lerr, sizeof(lerr)) != TB_OK) {
        fprintf(stderr, "twinboot sim new: %s (nothing was changed)\n", lerr);
        goto out;
    }
    if (populated(dir) && !force) {
        fprintf(stderr, "twinboot sim new: %s already holds a device; to erase it, add --force\n", qd);
        goto out;
    }
    struct stat st;
    if (stat(dir, &st) != 0 && mkdir(dir, 0777) != 0) {
        fprintf(stderr, "twinboot sim new: cannot make %s: %s\n", qd, strerror(errno));
        goto out;
    }
    struct sim s;
    memset(&s, 0, sizeof(s));
    s.dir = dir;
    s.lock_fd = -1;
    if (take_lock(dir, &s.lock_fd) != 0) {
        goto out;
    }
    int rc = tb_simdev_init(&s.d);
    char p[4096], conftext[2048], names[MAX_TRUSTED][40], err[600] = "out of memory";
    struct tb_sim_file files[MAX_TRUSTED + 2];
    int clen = conf_text(&conf, conftext, sizeof(conftext));
    files[0] = (struct tb_sim_file){"device.conf", conftext, (uint32_t)(clen > 0 ? clen : 0)};
    for (size_t i = 0; i < nkeys; i++) {
        snprintf(names[i], sizeof(names[i]), "trusted-%zu.pem", i);
        files[1 + i] = (struct tb_sim_file){names[i], pem[i], (uint32_t)pem_len[i]};
    }
    size_t nfiles = 1 + nkeys;
    if (layout != NULL) {
        files[nfiles++] = (struct tb_sim_file){TB_PM_SIM_FILE, layout_yml.data, (uint32_t)layout_yml.len};
    }
    if (rc == TB_OK && clen <= 0) {
        rc = TB_E_NOSPACE;
    }
    if (rc == TB_OK) {
        rc = tb_simdev_save_files(&s.d, dir, files, nfiles, err, sizeof(err));
    }
    if (rc == TB_OK) {
        /* what an earlier device left and this one does not have: its record,
         * counters, layout and further keys (after the save: a failed one
         * leaves the earlier device whole) */
        static const char *old[] = {"counters.txt", "bootrec.bin", TB_PM_SIM_FILE};
        for (size_t i = 0; i < 3; i++) {
            if (i < 2 || layout == NULL) {
                path_of(p, sizeof(p), dir, old[i]);
                (void)remove(p);
            }
        }
        for (size_t i = nkeys; i < MAX_TRUSTED; i++) {
            snprintf(p, sizeof(p), "%s/trusted-%zu.pem", dir, i);
            (void)remove(p);
        }
    }
    tb_simdev_free(&s.d);
    tb_simdev_unlock(s.lock_fd);
    if (rc != TB_OK) {
        fprintf(stderr, "twinboot sim new: cannot create %s: %s\n", qd, err);
        goto out;
    }
    printf("new nRF5340 DK in %s: app flash 1 MiB, net flash 256 KiB, QSPI 8 MiB, all erased\n"
           "bootloader: image 0 strategy %s%s, trusts %zu key(s)\n",
           dir, strategy_name(conf.strategy0), conf.downgrade_prevention ? ", downgrade prevention" : "", nkeys);
    printf("layout: %s\n", layout != NULL ? layout : "the DK's (twinboot layout show tests/layouts/nrf5340dk-partitions.yml)");
    if (conf.no_keys) {
        printf("WARNING: this device trusts NO key: its bootloader boots unsigned images and images\n"
               "signed by anyone. Use it for tests only.\n");
    }
    exit_code = TB_EXIT_OK;
out:
    for (size_t i = 0; i < MAX_TRUSTED; i++) {
        free(pem[i]);
    }
    tb_blob_free(&layout_yml);
    return exit_code;
}

/* ---- load --------------------------------------------------------------- */

static int cmd_load(int argc, char **argv)
{
    enum { OPT_TEST = 256, OPT_CONFIRM };
    static const struct option opts[] = {{"image", required_argument, NULL, 'n'},
                                         {"slot", required_argument, NULL, 's'},
                                         {"test", no_argument, NULL, OPT_TEST},
                                         {"confirm", no_argument, NULL, OPT_CONFIRM},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    uint32_t image = 0;
    int slot = 1, c, request = 0; /* 1 test, 2 permanent */
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
        case OPT_TEST:
        case OPT_CONFIRM:
            if (request != 0) {
                return usage_error("load", "--test and --confirm exclude each other");
            }
            request = c == OPT_TEST ? 1 : 2;
            break;
        case 'h':
            printf("usage: twinboot sim load DIR [--image N] [--slot primary|secondary] [--test|--confirm] FILE\n\n"
                   "Erase the slot and write FILE (an MCUboot image, .bin or .hex) into it, as\n"
                   "an upload (secondary) or a debugger (primary) would. Defaults: image 0,\n"
                   "secondary slot.\n\n"
                   "  --test      then request a test upgrade, as 'mcumgr image test' does\n"
                   "  --confirm   then request a permanent upgrade, as 'image upload' + confirm\n");
            return TB_EXIT_OK;
        default: return usage_error("load", "unknown option");
        }
    }
    if (optind + 2 != argc) {
        return usage_error("load", "needs DIR and FILE");
    }
    if (request && slot == 0) {
        return usage_error("load", "--test/--confirm apply to the secondary slot (what an upload writes)");
    }
    if (image == 1 && slot == 0) {
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
    struct sim s;
    if (sim_open(&s, dir) != 0) {
        tb_blob_free(&b);
        return TB_EXIT_FAIL;
    }
    int exit_code = TB_EXIT_FAIL;
    const struct tb_region *r = slot ? &s.lay.img[image].secondary : &s.lay.img[image].primary;
    struct tb_area a;
    int rc = tb_region_area(&s.dev, r, &a);
    uint32_t ws = a.flash->write_size, ss = a.flash->sector_size;
    if (rc != TB_OK || b.len > a.size - ss) {
        fprintf(stderr, "twinboot sim load: %s is %zu bytes; the slot takes %u (its last sector holds the trailer)\n",
                file, b.len, (unsigned)(a.size - ss));
        goto out;
    }
    /* erase what the image covers and the trailer sector (an old request must
     * not survive a new upload), then write */
    size_t padded = (b.len + ws - 1) / ws * ws;
    uint8_t *buf = malloc(padded ? padded : 1);
    if (buf == NULL) {
        goto out;
    }
    memset(buf, 0xff, padded);
    memcpy(buf, b.data, b.len);
    rc = tb_area_erase(&a, 0, (uint32_t)((padded + ss - 1) / ss * ss));
    if (rc == TB_OK) {
        rc = tb_area_erase(&a, a.size - ss, ss);
    }
    if (rc == TB_OK) {
        rc = tb_area_program(&a, 0, buf, (uint32_t)padded);
    }
    free(buf);
    if (rc == TB_OK && request) {
        rc = tb_boot_request(&s.cfg, (int)image, request == 2);
    }
    if (rc != TB_OK) {
        fprintf(stderr, "twinboot sim load: %s\n", tb_strerror(rc));
        goto out;
    }
    if (sim_save(&s, NULL) != 0) {
        goto out;
    }
    printf("wrote %s (%zu bytes) to image %u %s slot (%s flash at 0x%x)\n", file, b.len, (unsigned)image,
           slot ? "secondary" : "primary", a.flash->name, (unsigned)r->off);
    print_work(&s.d, "  ");
    if (request) {
        char q[4200];
        printf("image %u is pending %s; reset ('twinboot sim boot %s') to apply\n", (unsigned)image,
               request == 2 ? "a permanent upgrade" : "test", cli_shq(dir, q, sizeof(q)));
    }
    exit_code = TB_EXIT_OK;
out:
    tb_blob_free(&b);
    sim_close(&s);
    return exit_code;
}

/* ---- boot --------------------------------------------------------------- */

static void out_stdout(void *ctx, const char *s, uint32_t len)
{
    (void)ctx;
    fwrite(s, 1, len, stdout);
}

static const struct tb_log log_stdout = {out_stdout, NULL};

/* The same lines the firmware bootloaders print on their console (lib/bootlog.c). */
static void print_record(const struct tb_boot_record *rec, const struct tb_layout *lay)
{
    tb_bootlog_record(&log_stdout, rec, lay);
}

static int cmd_boot(int argc, char **argv)
{
    enum { OPT_CUT = 256, OPT_SEED, OPT_QEMU, OPT_CUT_INSNS, OPT_CONFIRM, OPT_STATS };
    static const struct option opts[] = {{"cut-after", required_argument, NULL, OPT_CUT},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {"qemu", no_argument, NULL, OPT_QEMU},
                                         {"cut-insns", required_argument, NULL, OPT_CUT_INSNS},
                                         {"confirm", required_argument, NULL, OPT_CONFIRM},
                                         {"stats", no_argument, NULL, OPT_STATS},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    uint32_t cut = 0, seed = 1;
    int qemu = 0;
    struct tb_qemu_opts qo = {0, NULL, 0};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_CUT:
            if (cli_parse_u32(optarg, &cut) != 0 || cut == 0) {
                return usage_error("boot", "--cut-after needs an operation number >= 1");
            }
            break;
        case OPT_SEED:
            if (cli_parse_u32(optarg, &seed) != 0) {
                return usage_error("boot", "bad --seed");
            }
            break;
        case OPT_QEMU: qemu = 1; break;
        case OPT_CUT_INSNS:
            if (cli_parse_u32(optarg, &cut) != 0 || cut == 0) {
                return usage_error("boot", "--cut-insns needs an instruction count >= 1");
            }
            qo.cut_insns = cut;
            cut = 0;
            break;
        case OPT_CONFIRM:
            if (strcmp(optarg, "0") != 0 && strcmp(optarg, "1") != 0 && strcmp(optarg, "all") != 0) {
                return usage_error("boot", "--confirm is 0, 1 or all");
            }
            qo.confirm = optarg;
            break;
        case OPT_STATS: qo.stats = 1; break;
        case 'h':
            printf("usage: twinboot sim boot DIR [--cut-after N] [--seed S]\n"
                   "       twinboot sim boot DIR --qemu [--cut-insns N] [--confirm 0|1|all] [--stats]\n\n"
                   "Reset the device: the bootloader applies or resumes what is pending and\n"
                   "says what boots. With --cut-after N the power fails during the N-th flash\n"
                   "operation (program or erase, counted over all flashes), which is torn\n"
                   "reproducibly from the seed; boot again to power it back on.\n\n"
                   "With --qemu the reset runs on QEMU's mps2-an521 instead: the firmware\n"
                   "bootloaders of both cores (build/fw/qemu, or $TWINBOOT_FW_DIR) on DIR's\n"
                   "flash files, then the test applications; --cut-insns N cuts the power\n"
                   "after N guest instructions (both cores, within 50); --confirm makes the\n"
                   "test application confirm image 0, 1 or all; --stats prints instruction\n"
                   "and stack figures.\n\n"
                   "Exit: 0 an image boots, 3 no bootable image, 4 the power was cut, 1 error.\n");
            return TB_EXIT_OK;
        default: return usage_error("boot", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("boot", "needs DIR");
    }
    const char *dir = argv[optind];
    if (!qemu && (qo.cut_insns != 0 || qo.confirm != NULL || qo.stats)) {
        return usage_error("boot", "--cut-insns, --confirm and --stats go with --qemu");
    }
    if (qemu && cut != 0) {
        return usage_error("boot", "--cut-after is the host model's; with --qemu use --cut-insns");
    }
    struct sim s;
    if (sim_open(&s, dir) != 0) {
        return TB_EXIT_FAIL;
    }
    if (qemu) {
        int e = tb_qemu_boot(dir, &s.cfg, &qo);
        sim_close(&s);
        return e;
    }
    struct tb_boot_record rec;
    if (cut) {
        tb_simdev_arm_cut(&s.d, cut, seed);
    }
    int rc = tb_boot_go(&s.cfg, &rec);
    s.life.boots++;
    int exit_code;
    char q[4200];
    const char *qd = cli_shq(dir, q, sizeof(q));
    if (rc == TB_E_POWER) {
        printf("power cut during flash operation %u (seed %u): the device is off, its flash as the cut left it\n"
               "power it on again with 'twinboot sim boot %s'\n",
               (unsigned)cut, (unsigned)seed, qd);
        print_work(&s.d, "  before the cut: ");
        exit_code = sim_save(&s, NULL) == 0 ? TB_EXIT_POWER_CUT : TB_EXIT_FAIL;
        sim_close(&s);
        return exit_code;
    }
    if (cut) {
        printf("(the bootloader finished in fewer than %u flash operations: no cut happened)\n", (unsigned)cut);
    }
    print_record(&rec, &s.lay);
    print_work(&s.d, "  ");
    if (rc == TB_OK) {
        tb_bootlog_boots(&log_stdout, &rec);
        /* the net core, released at the end of the app core's bootloader */
        int ns = tb_simnet_settle(&s.net, 2000000);
        tb_bootlog_net(&log_stdout, &rec, ns == TB_NB_JUMP);
        exit_code = TB_EXIT_OK;
    } else if (rc == TB_E_BOOT_NO_IMAGE) {
        printf("no bootable image: the bootloader waits for a recovery upload (serial recovery); it does not "
               "reset-loop.\nload a signed image ('twinboot sim load %s --slot primary FILE') and boot again\n",
               qd);
        exit_code = TB_EXIT_NO_BOOTABLE;
    } else {
        fprintf(stderr, "twinboot sim boot: %s\n", tb_strerror(rc));
        exit_code = TB_EXIT_FAIL;
    }
    if ((rc == TB_OK || rc == TB_E_BOOT_NO_IMAGE) && sim_save(&s, &rec) != 0) {
        exit_code = TB_EXIT_FAIL;
    }
    sim_close(&s);
    return exit_code;
}

/* ---- confirm ------------------------------------------------------------ */

static int cmd_confirm(int argc, char **argv)
{
    static const struct option opts[] = {
        {"image", required_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    uint32_t image = 0;
    int c;
    while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (cli_parse_u32(optarg, &image) != 0 || image > 1) {
                return usage_error("confirm", "--image is 0 or 1");
            }
            break;
        case 'h':
            printf("usage: twinboot sim confirm DIR [--image N]\n\n"
                   "What the running application does once it is happy with a test image\n"
                   "(Zephyr's boot_write_img_confirmed): image_ok in the primary trailer.\n");
            return TB_EXIT_OK;
        default: return usage_error("confirm", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("confirm", "needs DIR");
    }
    const char *dir = argv[optind];
    struct tb_boot_record rec;
    struct sim s;
    if (sim_open(&s, dir) != 0) {
        return TB_EXIT_FAIL;
    }
    if (record_load(dir, &rec) != 0 || rec.result != TB_OK) {
        char q[4200];
        fprintf(stderr, "twinboot sim confirm: no application is running on %s: boot it first ('twinboot sim boot "
                        "%s')\n",
                dir, cli_shq(dir, q, sizeof(q)));
        sim_close(&s);
        return TB_EXIT_FAIL;
    }
    int rc = tb_boot_confirm(&s.cfg, (int)image);
    int exit_code = TB_EXIT_FAIL;
    if (rc != TB_OK) {
        fprintf(stderr, "twinboot sim confirm: %s\n", tb_strerror(rc));
    } else if (sim_save(&s, NULL) == 0) {
        char v[32];
        cli_version_str(&rec.img[image].to, v, sizeof(v));
        printf("image %u version %s confirmed: it stays at the next reset\n", (unsigned)image, v);
        exit_code = TB_EXIT_OK;
    }
    sim_close(&s);
    return exit_code;
}

/* ---- status ------------------------------------------------------------- */

static const char *magic_name(int m) { return m == TB_MAGIC_GOOD ? "good" : m == TB_MAGIC_UNSET ? "unset" : "bad"; }
static const char *flag_name(int f) { return f == TB_FLAG_STATE_SET ? "set" : f == TB_FLAG_STATE_UNSET ? "unset" : "bad"; }
static const char *swap_name(int t)
{
    switch (t) {
    case TB_SWAP_TEST: return "test";
    case TB_SWAP_PERM: return "permanent";
    case TB_SWAP_REVERT: return "revert";
    default: return "none";
    }
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            printf("\\%c", *s);
        } else if ((unsigned char)*s < 0x20) {
            printf("\\u%04x", (unsigned char)*s);
        } else {
            putchar(*s);
        }
    }
    putchar('"');
}

struct slot_view {
    int image, slot;
    const char *flash;
    uint32_t off, size;
    int rc; /* validation */
    struct tb_image_info info;
    int has_trailer;
    struct tb_trailer_state tr;
};

static void view_slot(struct sim *s, int image, int slot, struct slot_view *v)
{
    const struct tb_image_layout *im = &s->lay.img[image];
    const struct tb_region *r = slot == 0 ? &im->primary : slot == 1 ? &im->secondary : &im->backup;
    struct tb_area a;
    memset(v, 0, sizeof(*v));
    v->image = image;
    v->slot = slot;
    v->off = r->off;
    v->size = r->size;
    if (tb_region_area(&s->dev, r, &a) != TB_OK) {
        v->rc = TB_E_INVAL;
        return;
    }
    v->flash = a.flash->name;
    bool net_primary = im->strategy == TB_STRATEGY_HANDOVER && slot == 0;
    /* the net slot has no trailer: its state is in the app core's journal */
    v->has_trailer = slot != 2 && !net_primary && tb_trailer_read(&a, s->lay.max_align, &v->tr) == TB_OK;
    if (!net_primary) {
        a.size -= a.flash->sector_size;
    }
    /* the net core checks its own image by hash: the app core checked the signature */
    struct tb_keyring none = {NULL, 0};
    v->rc = tb_image_validate(&a, net_primary ? &none : &s->cfg.keys, &v->info);
}

static int cmd_status(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int json = 0, c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h':
            printf("usage: twinboot sim status DIR [--json]\n\n"
                   "Per image and slot: version, hash, validity (with the device's trusted keys)\n"
                   "and trailer state; the last boot record; flash work and wear over the\n"
                   "device's life. --json prints the same as one JSON object.\n");
            return TB_EXIT_OK;
        default: return usage_error("status", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("status", "needs DIR");
    }
    const char *dir = argv[optind];
    struct sim s;
    if (sim_open(&s, dir) != 0) {
        return TB_EXIT_FAIL;
    }
    struct slot_view views[8];
    size_t nv = 0;
    static const char *slot_names[3] = {"primary", "secondary", "backup"};
    for (int i = 0; i < s.lay.image_count; i++) {
        for (int k = 0; k < 3; k++) {
            if (k == 2 && s.lay.img[i].backup.size == 0) {
                continue;
            }
            view_slot(&s, i, k, &views[nv++]);
        }
    }
    struct tb_boot_record rec;
    int have_rec = record_load(dir, &rec) == 0;
    if (json) {
        printf("{\"device\":");
        json_str(dir);
        printf(",\"strategy0\":\"%s\",\"trusted_keys\":%zu,\"slots\":[", strategy_name(s.conf.strategy0), s.nkeys);
        for (size_t i = 0; i < nv; i++) {
            const struct slot_view *v = &views[i];
            char hex[65];
            printf("%s{\"image\":%d,\"slot\":\"%s\",\"flash\":\"%s\",\"offset\":%u,\"size\":%u,", i ? "," : "",
                   v->image, slot_names[v->slot], v->flash, (unsigned)v->off, (unsigned)v->size);
            if (v->rc == TB_E_IMG_EMPTY) {
                printf("\"state\":\"empty\"");
            } else if (v->rc != TB_OK) {
                printf("\"state\":\"invalid\",\"reason\":");
                json_str(tb_strerror(v->rc));
            } else {
                char ver[32];
                cli_version_str(&v->info.hdr.ver, ver, sizeof(ver));
                cli_hex(v->info.hash, 32, hex);
                printf("\"state\":\"valid\",\"version\":\"%s\",\"hash\":\"%s\",\"size_bytes\":%u", ver, hex,
                       (unsigned)v->info.tlv_end);
            }
            if (v->has_trailer) {
                printf(",\"trailer\":{\"magic\":\"%s\",\"image_ok\":\"%s\",\"copy_done\":\"%s\",\"swap_type\":\"%s\"}",
                       magic_name(v->tr.magic), flag_name(v->tr.image_ok), flag_name(v->tr.copy_done),
                       swap_name(v->tr.swap_type));
            }
            printf("}");
        }
        printf("],\"boot_record\":");
        if (have_rec) {
            printf("{\"result\":\"%s\",\"images\":[", rec.result == TB_OK ? "boot" : "no-bootable-image");
            for (int i = 0; i < rec.image_count && i < TB_MAX_IMAGES; i++) {
                const struct tb_boot_image_record *r = &rec.img[i];
                char from[32], to[32], fh[65], th[65];
                cli_version_str(&r->from, from, sizeof(from));
                cli_version_str(&r->to, to, sizeof(to));
                cli_hex(r->from_hash, 32, fh);
                cli_hex(r->to_hash, 32, th);
                printf("%s{\"image\":%d,\"action\":\"%s\",\"resumed\":%s,\"valid\":%s,\"confirmed\":%s,"
                       "\"reason\":%d,\"reason_text\":",
                       i ? "," : "", i, tb_boot_action_name(r->action), r->resumed ? "true" : "false",
                       r->valid ? "true" : "false", r->confirmed ? "true" : "false", (int)r->reason);
                json_str(tb_strerror(r->reason));
                printf(",\"from_version\":\"%s\",\"from_hash\":\"%s\",\"to_version\":\"%s\",\"to_hash\":\"%s\"}", from,
                       fh, to, th);
            }
            printf("]}");
        } else {
            printf("null");
        }
        printf(",\"flash\":[");
        for (int i = 0; i < TB_SIM_NFLASH; i++) {
            printf("%s{\"name\":\"%s\",\"erases\":%" PRIu64 ",\"bytes_programmed\":%" PRIu64 ",\"busy_ns\":%" PRIu64 "}",
                   i ? "," : "", s.d.fl[i].flash.name, s.life.erases[i], s.life.bytes[i], s.life.busy_ns[i]);
        }
        printf("],\"boots\":%" PRIu64 "}\n", s.life.boots);
    } else {
        printf("device %s: image 0 strategy %s, trusts %zu key(s)\n", dir, strategy_name(s.conf.strategy0), s.nkeys);
        for (size_t i = 0; i < nv; i++) {
            const struct slot_view *v = &views[i];
            printf("image %d %-9s %-4s 0x%06x: ", v->image, slot_names[v->slot], v->flash, (unsigned)v->off);
            if (v->rc == TB_E_IMG_EMPTY) {
                printf("empty");
            } else if (v->rc != TB_OK) {
                printf("INVALID (%s)", tb_strerror(v->rc));
            } else {
                char ver[32], hex[65];
                cli_version_str(&v->info.hdr.ver, ver, sizeof(ver));
                cli_hex(v->info.hash, 8, hex);
                printf("valid, version %s, hash %s...", ver, hex);
            }
            if (v->has_trailer && v->tr.magic != TB_MAGIC_UNSET) {
                printf("; trailer magic %s, image_ok %s, copy_done %s, swap %s", magic_name(v->tr.magic),
                       flag_name(v->tr.image_ok), flag_name(v->tr.copy_done), swap_name(v->tr.swap_type));
            }
            printf("\n");
        }
        if (have_rec) {
            printf("last boot:\n");
            print_record(&rec, &s.lay);
            if (rec.result == TB_OK) {
                char v[32];
                cli_version_str(&rec.img[0].to, v, sizeof(v));
                printf("running: image 0 version %s (%s)\n", v, rec.img[0].confirmed ? "confirmed" : "test, not confirmed");
            } else {
                printf("running: nothing (no bootable image)\n");
            }
        } else {
            printf("last boot: none yet\n");
        }
        printf("flash work over the device's life (%" PRIu64 " boots):\n", s.life.boots);
        for (int i = 0; i < TB_SIM_NFLASH; i++) {
            printf("  %-4s flash: %" PRIu64 " erases, %" PRIu64 " bytes programmed, %.3f s\n", s.d.fl[i].flash.name,
                   s.life.erases[i], s.life.bytes[i], (double)s.life.busy_ns[i] / 1e9);
        }
    }
    sim_close(&s);
    return TB_EXIT_OK;
}

/* ---- run: the device with its application's SMP server ------------------ */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* A reset of the simulated board: the bootloaders run, then both cores boot.
 * With cut, the power fails at that flash operation of the bootloaders (torn
 * from seed) and the board powers up again; a cut beyond their work changes
 * nothing (the boot that ran is the reset). Saved before anything is said. */
static int run_reset(struct sim *s, struct tb_boot_record *rec, uint32_t cut, uint32_t seed)
{
    if (cut) {
        tb_simdev_arm_cut(&s->d, cut, seed);
    }
    int rc = tb_boot_go(&s->cfg, rec);
    s->life.boots++;
    if (cut && rc == TB_E_POWER) {
        printf("[power] cut during flash operation %u of the bootloaders (seed %u): powering up again\n",
               (unsigned)cut, (unsigned)seed);
        tb_simdev_power_on(&s->d);
        tb_simnet_power_loss(&s->net, seed);
        if (sim_save(s, NULL) != 0) { /* the flash as the cut left it */
            return TB_E_IO;
        }
        rc = tb_boot_go(&s->cfg, rec);
        s->life.boots++;
    } else if (cut) {
        s->d.power.cut_at = 0;
        printf("[power] no cut: the bootloaders needed fewer than %u flash operations\n", (unsigned)cut);
    }
    int ns = -1;
    if (rc == TB_OK || rc == TB_E_BOOT_NO_IMAGE) {
        ns = tb_simnet_settle(&s->net, 2000000);
        if (sim_save(s, rec) != 0) {
            return TB_E_IO;
        }
    }
    printf("[bootloader] ");
    fflush(stdout);
    print_record(rec, &s->lay);
    char v[32];
    if (rc == TB_OK) {
        cli_version_str(&rec->img[0].to, v, sizeof(v));
        printf("[app] image 0 version %s runs (%s); SMP server up\n", v, rec->img[0].confirmed ? "confirmed" : "test");
    } else if (rc == TB_E_BOOT_NO_IMAGE) {
        printf("[bootloader] no bootable image: serving SMP for a recovery upload\n");
    } else {
        printf("[bootloader] failed: %s\n", tb_strerror(rc));
    }
    if (ns == TB_NB_JUMP && rec->img[1].valid) {
        cli_version_str(&rec->img[1].to, v, sizeof(v));
        printf("[net] image 1 version %s runs (%s)\n", v, rec->img[1].confirmed ? "confirmed" : "test");
    } else if (ns >= 0) {
        printf("[net] no valid image: the net core's bootloader waits for one\n");
    }
    fflush(stdout);
    return rc == TB_E_BOOT_NO_IMAGE ? TB_OK : rc;
}

static int parse_addr(const char *spec, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    uint32_t port;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    if (colon == NULL || (size_t)(colon - spec) >= sizeof(host) || cli_parse_u32(colon + 1, &port) != 0 ||
        port == 0 || port > 65535) {
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    sa->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &sa->sin_addr) == 1 ? 0 : -1;
}

static int cmd_run(int argc, char **argv)
{
    enum { OPT_UDP = 256, OPT_FOR, OPT_DROP, OPT_SERIAL, OPT_CUT, OPT_SEED };
    static const struct option opts[] = {{"udp", required_argument, NULL, OPT_UDP},
                                         {"serial", no_argument, NULL, OPT_SERIAL},
                                         {"cut-after", required_argument, NULL, OPT_CUT},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {"for", required_argument, NULL, OPT_FOR},
                                         {"drop", required_argument, NULL, OPT_DROP},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *udp = "127.0.0.1:1337";
    uint32_t seconds = 0, drop_at = 0, drop_n = 0, cut = 0, seed = 1;
    bool serial = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_UDP: udp = optarg; break;
        case OPT_FOR:
            if (cli_parse_u32(optarg, &seconds) != 0) {
                return usage_error("run", "--for takes seconds");
            }
            break;
        case OPT_SERIAL: serial = true; break;
        case OPT_CUT:
            if (cli_parse_u32(optarg, &cut) != 0 || cut == 0) {
                return usage_error("run", "--cut-after needs an operation number >= 1");
            }
            break;
        case OPT_SEED:
            if (cli_parse_u32(optarg, &seed) != 0) {
                return usage_error("run", "bad --seed");
            }
            break;
        case OPT_DROP: {
            /* a link that drops requests N..N+K-1 (counted from 1): tests of resume */
            char *colon = strchr(optarg, ':');
            if (colon == NULL || (*colon = '\0', cli_parse_u32(optarg, &drop_at) != 0) ||
                cli_parse_u32(colon + 1, &drop_n) != 0) {
                return usage_error("run", "--drop is N:K");
            }
            break;
        }
        case 'h':
            printf("usage: twinboot sim run DIR [--udp ADDR:PORT] [--serial] [--cut-after N [--seed S]]\n"
                   "                        [--for SECONDS]\n\n"
                   "Run the simulated device: the bootloader at power-on, then the application's\n"
                   "SMP server (as Zephyr's mcumgr) on UDP, loopback port 1337 by default.\n"
                   "An SMP 'reset' runs the bootloaders again, exactly as on the board. What the\n"
                   "device acknowledges is in DIR before the answer goes out. Stops on\n"
                   "Ctrl-C / SIGTERM, or after --for SECONDS.\n\n"
                   "  --serial        also serve SMP on a pseudo-terminal, with the console\n"
                   "                  framing of a UART (its path is printed)\n"
                   "  --cut-after N   the first reset asked for over SMP loses power at flash\n"
                   "                  operation N of the bootloaders; the board powers up again\n"
                   "  --seed S        how that operation is torn (default 1)\n"
                   "  --drop N:K      lose requests N to N+K-1 (a flaky link, for resume tests)\n");
            return TB_EXIT_OK;
        default: return usage_error("run", "unknown option");
        }
    }
    if (optind + 1 != argc) {
        return usage_error("run", "needs DIR");
    }
    struct sockaddr_in sa;
    if (parse_addr(udp, &sa) != 0) {
        return usage_error("run", "--udp is ADDR:PORT, e.g. 127.0.0.1:1337");
    }
    struct sim s;
    if (sim_open(&s, argv[optind]) != 0) {
        return TB_EXIT_FAIL;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "twinboot sim run: cannot listen on udp %s: %s\n", udp, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        sim_close(&s);
        return TB_EXIT_FAIL;
    }
    int pty = -1, pty_slave = -1;
    struct tb_serial_rx rx;
    memset(&rx, 0, sizeof(rx));
    if (serial) {
        pty = posix_openpt(O_RDWR | O_NOCTTY);
        if (pty < 0 || grantpt(pty) != 0 || unlockpt(pty) != 0 || ptsname(pty) == NULL) {
            fprintf(stderr, "twinboot sim run: cannot open a pseudo-terminal: %s\n", strerror(errno));
            close(fd);
            sim_close(&s);
            return TB_EXIT_FAIL;
        }
        struct termios t;
        /* held open for the run: with no one on the line, the master then sees
         * no hang-up, so poll() waits instead of waking at once */
        pty_slave = open(ptsname(pty), O_RDWR | O_NOCTTY);
        if (pty_slave >= 0 && tcgetattr(pty_slave, &t) == 0) {
            cfmakeraw(&t); /* a UART: bytes as they are */
            (void)tcsetattr(pty_slave, TCSANOW, &t);
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct tb_boot_record rec;
    struct tb_smp_server srv;
    int exit_code = TB_EXIT_OK;
    int brc = run_reset(&s, &rec, 0, 0);
    if (brc != TB_OK) {
        printf("[sim] stopped: the bootloader failed (%s)\n", tb_strerror(brc));
        exit_code = TB_EXIT_FAIL;
        goto out;
    }
    struct tb_smp_env env = {&s.cfg, &rec, 2048, 4, "twinboot simulated nRF5340 DK"};
    tb_smp_init(&srv, &env);
    printf("[app] SMP over UDP on %s\n", udp);
    if (pty >= 0) {
        printf("[app] SMP over serial on %s\n", ptsname(pty));
    }
    fflush(stdout);
    time_t until = seconds ? time(NULL) + (time_t)seconds : 0;
    static uint8_t req[2048], rsp[2048];
    uint32_t received = 0;
    static uint8_t in[512];
    size_t in_len = 0, in_off = 0;
    while (!stop_requested && (until == 0 || time(NULL) < until)) {
        struct pollfd pfd[2] = {{fd, POLLIN, 0}, {pty, POLLIN, 0}};
        /* bytes already read from the line may hold another frame: no waiting then */
        bool serial_ready = pty >= 0 && in_off < in_len;
        if (!serial_ready && poll(pfd, pty >= 0 ? 2 : 1, 200) <= 0) {
            continue;
        }
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = -1;
        size_t rn;
        bool via_serial = false;
        if (pfd[0].revents & POLLIN) {
            n = recvfrom(fd, req, sizeof(req), 0, (struct sockaddr *)&from, &fl);
        } else if (serial_ready || (pty >= 0 && (pfd[1].revents & POLLIN))) {
            /* bytes from the line: a frame may take several reads */
            if (in_off == in_len) {
                ssize_t r = read(pty, in, sizeof(in));
                in_len = r > 0 ? (size_t)r : 0;
                in_off = 0;
            }
            size_t used = 0;
            size_t got = tb_serial_feed(&rx, in + in_off, in_len - in_off, &used, req, sizeof(req));
            in_off += used;
            n = (ssize_t)got;
            via_serial = true;
        } else if (pty >= 0 && (pfd[1].revents & (POLLHUP | POLLERR))) {
            usleep(50000); /* nobody on the line yet */
            continue;
        }
        if (drop_n > 0 && n > 0 && ++received >= drop_at && received < drop_at + drop_n) {
            continue;
        }
        if (n <= 0 || tb_smp_handle(&srv, req, (size_t)n, rsp, sizeof(rsp), &rn) != TB_OK) {
            continue;
        }
        /* durable before acknowledged: a write request's effect is in DIR before its answer goes out */
        if ((req[0] & 7U) == TB_SMP_OP_WRITE && sim_save(&s, NULL) != 0) {
            printf("[sim] stopped: the device could not be saved (see above); the request was not answered\n");
            exit_code = TB_EXIT_FAIL;
            break;
        }
        if (via_serial) {
            static uint8_t frame[8192];
            size_t fn = tb_serial_encode(rsp, rn, frame, sizeof(frame));
            if (fn > 0 && write(pty, frame, fn) != (ssize_t)fn) {
                fprintf(stderr, "[app] serial write failed\n");
            }
        } else {
            (void)sendto(fd, rsp, rn, 0, (struct sockaddr *)&from, fl);
        }
        if (srv.reset_requested) {
            /* the answer went out: now the board resets and the bootloaders run */
            printf("[app] reset requested over SMP\n");
            brc = run_reset(&s, &rec, cut, seed);
            cut = 0; /* the power fails once */
            if (brc != TB_OK) {
                printf("[sim] stopped: the bootloader failed (%s)\n", tb_strerror(brc));
                exit_code = TB_EXIT_FAIL;
                break;
            }
            tb_smp_init(&srv, &env);
        }
    }
    if (exit_code == TB_EXIT_OK) {
        printf("[sim] stopped\n");
    }
out:
    if (pty_slave >= 0) {
        close(pty_slave);
    }
    if (pty >= 0) {
        close(pty);
    }
    close(fd);
    sim_close(&s);
    return exit_code;
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
    if (strcmp(cmd, "boot") == 0) return cmd_boot(argc, argv);
    if (strcmp(cmd, "confirm") == 0) return cmd_confirm(argc, argv);
    if (strcmp(cmd, "status") == 0) return cmd_status(argc, argv);
    if (strcmp(cmd, "run") == 0) return cmd_run(argc, argv);
    fprintf(stderr, "twinboot sim: unknown command '%s'\n\n%s", cmd, sim_usage);
    return TB_EXIT_USAGE;
}
