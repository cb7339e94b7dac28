/* `twinboot sim boot --qemu`: runs the firmware (build/fw/qemu, or
 * $TWINBOOT_FW_DIR) on qemu-system-arm -M mps2-an521. One run is one reset:
 * the console lines are the run's output, QEMU's exit status the verdict
 * (the firmware's codes are the CLI's). Instructions are counted with
 * -icount shift=0: 1 ns of virtual time per instruction, both CPUs summed. */
#define _DEFAULT_SOURCE
#include "qemu_run.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "twinboot/layout.h"

#ifndef TB_FW_DIR
#define TB_FW_DIR "build/fw/qemu"
#endif

#define INSNS_PER_TICK 50u  /* SysTick at 20 MHz, 1 instruction per ns */
#define RUN_TIMEOUT_S 120    /* a run that hangs is a failure, not a wait */

/* DIR/trusted.bin: per key u16 type, u16 length (little-endian), the DER. */
static int write_keys(const char *dir, const struct tb_key *keys, size_t nkeys)
{
    char p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/trusted.bin", dir);
    FILE *f = fopen(p, "wb");
    if (f == NULL) {
        return -1;
    }
    for (size_t i = 0; i < nkeys; i++) {
        uint8_t h[4] = {(uint8_t)keys[i].type, (uint8_t)(keys[i].type >> 8), (uint8_t)keys[i].der_len,
                        (uint8_t)(keys[i].der_len >> 8)};
        if (fwrite(h, 1, 4, f) != 4 || fwrite(keys[i].der, 1, keys[i].der_len, f) != keys[i].der_len) {
            fclose(f);
            return -1;
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

static bool same_region(const struct tb_region *a, const struct tb_region *b)
{
    return a->flash == b->flash && a->off == b->off && a->size == b->size;
}

/* What the firmware was built with: the DK layout and MCUboot's defaults. */
static bool firmware_config(const struct tb_boot_config *cfg)
{
    const struct tb_layout *l = cfg->layout, *dk = &tb_layout_nrf5340_dk;
    if (l->image_count != dk->image_count || l->max_align != dk->max_align || cfg->downgrade_prevention ||
        cfg->max_test_boots > 1) {
        return false;
    }
    for (int i = 0; i < dk->image_count; i++) {
        const struct tb_image_layout *a = &l->img[i], *b = &dk->img[i];
        if (a->strategy != b->strategy || !same_region(&a->primary, &b->primary) ||
            !same_region(&a->secondary, &b->secondary) || !same_region(&a->backup, &b->backup) ||
            !same_region(&a->status, &b->status)) {
            return false;
        }
    }
    return true;
}

int tb_qemu_boot(const char *dir, const struct tb_boot_config *cfg, const struct tb_qemu_opts *o)
{
    char absdir[PATH_MAX], app[PATH_MAX], net[PATH_MAX], loader[PATH_MAX + 32], shcfg[PATH_MAX + 160];
    const char *fw = getenv("TWINBOOT_FW_DIR");
    if (fw == NULL || *fw == '\0') {
        fw = TB_FW_DIR;
    }
    if (realpath(dir, absdir) == NULL || strlen(absdir) > 190 || strchr(absdir, ' ') || strchr(absdir, ',')) {
        fprintf(stderr, "twinboot sim boot --qemu: %s: needs an existing directory whose absolute path has at most "
                        "190 characters, no spaces or commas\n", dir);
        return TB_EXIT_FAIL;
    }
    snprintf(app, sizeof(app), "%s/twinboot-app.elf", fw);
    snprintf(net, sizeof(net), "%s/twinboot-net.elf", fw);
    if (access(app, R_OK) != 0 || access(net, R_OK) != 0) {
        fprintf(stderr, "twinboot sim boot --qemu: no firmware in %s (build it with 'make firmware', or set "
                        "TWINBOOT_FW_DIR)\n", fw);
        return TB_EXIT_FAIL;
    }
    if (!firmware_config(cfg)) {
        fprintf(stderr, "twinboot sim boot --qemu: %s is not configured as the firmware is built (the DK layout, "
                        "strategy swap for image 0, one test boot, no downgrade prevention)\n", dir);
        return TB_EXIT_FAIL;
    }
    if (write_keys(absdir, cfg->keys.keys, cfg->keys.count) != 0) {
        fprintf(stderr, "twinboot sim boot --qemu: cannot write %s/trusted.bin\n", absdir);
        return TB_EXIT_FAIL;
    }
    int n = snprintf(shcfg, sizeof(shcfg), "enable=on,target=native,arg=%s", absdir);
    if (o->cut_insns != 0) {
        uint64_t ticks = (o->cut_insns + INSNS_PER_TICK - 1) / INSNS_PER_TICK;
        n += snprintf(shcfg + n, sizeof(shcfg) - (size_t)n, ",arg=cut=%llu",
                      (unsigned long long)(ticks > UINT32_MAX ? UINT32_MAX : ticks));
    }
    if (o->confirm != NULL) {
        n += snprintf(shcfg + n, sizeof(shcfg) - (size_t)n, ",arg=confirm=%s", o->confirm);
    }
    if (o->stats) {
        snprintf(shcfg + n, sizeof(shcfg) - (size_t)n, ",arg=stats");
    }
    snprintf(loader, sizeof(loader), "loader,file=%s", net);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "twinboot sim boot --qemu: fork: %s\n", strerror(errno));
        return TB_EXIT_FAIL;
    }
    if (pid == 0) {
        char *argv[] = {"qemu-system-arm", "-M", "mps2-an521", "-display", "none", "-monitor", "none", "-serial",
                        "none", "-icount", "shift=0,sleep=off", "-semihosting-config", shcfg, "-kernel", app,
                        "-device", loader, NULL};
        execvp(argv[0], argv);
        fprintf(stderr, "twinboot sim boot --qemu: cannot run qemu-system-arm: %s (apt-get install qemu-system-arm)\n",
                strerror(errno));
        _exit(127);
    }
    int status = 0;
    time_t start = time(NULL);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (r < 0 && errno != EINTR) {
            fprintf(stderr, "twinboot sim boot --qemu: waitpid: %s\n", strerror(errno));
            return TB_EXIT_FAIL;
        }
        if (time(NULL) - start > RUN_TIMEOUT_S) {
            kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            fprintf(stderr, "twinboot sim boot --qemu: the run did not end within %d s: stopped\n", RUN_TIMEOUT_S);
            return TB_EXIT_FAIL;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status)) {
        fprintf(stderr, "twinboot sim boot --qemu: QEMU ended on signal %d (a CPU locked up, e.g. a fault in a fault "
                        "handler, or QEMU failed)\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return TB_EXIT_FAIL;
    }
    switch (WEXITSTATUS(status)) {
    case 0:
        if (o->cut_insns != 0) {
            printf("(the run ended in fewer than %llu instructions: no cut happened)\n",
                   (unsigned long long)o->cut_insns);
        }
        return TB_EXIT_OK;
    case TB_EXIT_NO_BOOTABLE: return TB_EXIT_NO_BOOTABLE;
    case TB_EXIT_POWER_CUT:
        printf("power cut after %llu instructions: the device is off, its flash as the cut left it\n"
               "power it on again with 'twinboot sim boot %s --qemu'\n",
               (unsigned long long)o->cut_insns, dir);
        return TB_EXIT_POWER_CUT;
    case 127: return TB_EXIT_FAIL;
    default:
        fprintf(stderr, "twinboot sim boot --qemu: the firmware failed (QEMU status %d)\n", WEXITSTATUS(status));
        return TB_EXIT_FAIL;
    }
}
