/* The simulated nRF5340 DK: three flashes on one power supply, saved to and
 * loaded from a directory of raw images (one file per part, exactly its size).
 */
#define _POSIX_C_SOURCE 200809L

#include "twinboot/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "twinboot/error.h"

int tb_simdev_init(struct tb_simdev *d)
{
    if (d == NULL)
        return TB_E_INVAL;
    memset(d, 0, sizeof(*d));
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        const struct tb_sim_part *p = &tb_sim_nrf5340_parts[i];
        int rc = tb_simflash_init(&d->fl[i], p->name, p->size, p->sector_size, p->write_size,
                                  &p->timing, &d->power);
        if (rc != TB_OK) {
            tb_simdev_free(d);
            return rc;
        }
    }
    return TB_OK;
}

void tb_simdev_free(struct tb_simdev *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        tb_simflash_free(&d->fl[i]);
}

/* "dir/file" + suffix in a fresh allocation; NULL when out of memory. */
static char *tb_simdev_path(const char *dir, const char *file, const char *suffix)
{
    int n = snprintf(NULL, 0, "%s/%s%s", dir, file, suffix);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    if (snprintf(s, (size_t)n + 1, "%s/%s%s", dir, file, suffix) != n) {
        free(s);
        return NULL;
    }
    return s;
}

/* mkdir -p: a device directory may be given as a fresh nested path. */
static int tb_simdev_mkdirs(const char *dir)
{
    size_t n = strlen(dir);
    char *s = malloc(n + 1);
    if (s == NULL)
        return TB_E_NOSPACE;
    memcpy(s, dir, n + 1);
    int rc = TB_OK;
    for (size_t i = 1; i <= n && rc == TB_OK; i++) {
        if (s[i] != '/' && s[i] != '\0')
            continue;
        char c = s[i];
        s[i] = '\0';
        if (mkdir(s, 0777) != 0 && errno != EEXIST) {
            /* e.g. EACCES on a parent that exists: fine if it is a directory */
            struct stat st;
            if (stat(s, &st) != 0 || !S_ISDIR(st.st_mode))
                rc = TB_E_IO;
        }
        s[i] = c;
    }
    free(s);
    if (rc != TB_OK)
        return rc;
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return TB_E_IO;
    return TB_OK;
}

static int tb_simdev_write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return TB_E_IO;
        }
        p += w;
        len -= (size_t)w;
    }
    return TB_OK;
}

/* Write to a temp file, fsync, then rename over the target: a crash leaves
 * either the old file or the new one, never half of one. */
static int tb_simdev_save_one(const char *dir, const char *file, const uint8_t *mem, uint32_t size)
{
    char *path = tb_simdev_path(dir, file, "");
    char *tmp = tb_simdev_path(dir, file, ".tmp");
    int rc = TB_E_NOSPACE;

    if (path == NULL || tmp == NULL)
        goto out;
    rc = TB_E_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0)
        goto out;
    rc = tb_simdev_write_all(fd, mem, size);
    if (rc == TB_OK && fsync(fd) != 0)
        rc = TB_E_IO;
    if (close(fd) != 0 && rc == TB_OK)
        rc = TB_E_IO;
    if (rc == TB_OK && rename(tmp, path) != 0)
        rc = TB_E_IO;
    if (rc != TB_OK)
        (void)unlink(tmp); /* best effort: the error being reported is rc */
out:
    free(path);
    free(tmp);
    return rc;
}

int tb_simdev_save(const struct tb_simdev *d, const char *dir)
{
    if (d == NULL || dir == NULL || dir[0] == '\0')
        return TB_E_INVAL;
    int rc = tb_simdev_mkdirs(dir);
    for (int i = 0; i < TB_SIM_NFLASH && rc == TB_OK; i++)
        rc = tb_simdev_save_one(dir, tb_sim_nrf5340_parts[i].file, d->fl[i].mem,
                                d->fl[i].flash.size);
    return rc;
}

/* Read exactly size bytes from dir/file into buf; any other size is TB_E_IO. */
static int tb_simdev_load_one(const char *dir, const char *file, uint8_t *buf, uint32_t size)
{
    char *path = tb_simdev_path(dir, file, "");
    if (path == NULL)
        return TB_E_NOSPACE;
    int fd = open(path, O_RDONLY);
    free(path);
    if (fd < 0)
        return TB_E_IO;

    int rc = TB_OK;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != (off_t)size)
        rc = TB_E_IO;
    size_t got = 0;
    while (rc == TB_OK && got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) /* error, or the file shrank under us */
            rc = TB_E_IO;
        else
            got += (size_t)r;
    }
    if (close(fd) != 0 && rc == TB_OK)
        rc = TB_E_IO;
    return rc;
}

int tb_simdev_load(struct tb_simdev *d, const char *dir)
{
    uint8_t *buf[TB_SIM_NFLASH] = {NULL};
    int rc = TB_OK;

    if (d == NULL || dir == NULL)
        return TB_E_INVAL;
    /* read everything first: a failed load leaves the device untouched */
    for (int i = 0; i < TB_SIM_NFLASH && rc == TB_OK; i++) {
        buf[i] = malloc(d->fl[i].flash.size);
        if (buf[i] == NULL)
            rc = TB_E_NOSPACE;
        else
            rc = tb_simdev_load_one(dir, tb_sim_nrf5340_parts[i].file, buf[i],
                                    d->fl[i].flash.size);
    }
    for (int i = 0; i < TB_SIM_NFLASH && rc == TB_OK; i++) {
        struct tb_simflash *sf = &d->fl[i];
        uint32_t ws = sf->flash.write_size;
        memcpy(sf->mem, buf[i], sf->flash.size);
        /* the files hold no flags: any block that is not erased counts as
         * programmed, so device code must erase it before writing there */
        for (uint32_t b = 0; b < sf->flash.size / ws; b++) {
            uint8_t w = 0;
            for (uint32_t k = 0; k < ws; k++)
                if (sf->mem[b * ws + k] != sf->flash.erased_val)
                    w = 1;
            sf->written[b] = w;
        }
    }
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        free(buf[i]);
    return rc;
}

void tb_simdev_arm_cut(struct tb_simdev *d, uint64_t op, uint64_t seed)
{
    d->power.cut_at = op == 0 ? 0 : d->power.ops + op;
    d->power.seed = seed;
}

/* Back to time 0: no operation running, none pending. */
static void tb_simdev_reset_clock(struct tb_simdev *d)
{
    d->power.now_ns = 0;
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        d->fl[i].busy_until_ns = 0;
}

void tb_simdev_power_on(struct tb_simdev *d)
{
    d->power.off = false;
    d->power.cut_at = 0;
    d->power.ops = 0;
    tb_simdev_reset_clock(d);
}

void tb_simdev_reset_counters(struct tb_simdev *d)
{
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        tb_simflash_reset_counters(&d->fl[i]);
    tb_simdev_reset_clock(d);
}

uint64_t tb_simdev_elapsed_ns(const struct tb_simdev *d)
{
    uint64_t t = d->power.now_ns;
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        if (d->fl[i].busy_until_ns > t)
            t = d->fl[i].busy_until_ns;
    return t;
}
