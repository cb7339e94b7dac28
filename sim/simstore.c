/* The device directory of a simulated DK (host only): the flashes as files,
 * saved all or nothing, and a lock so that one process owns a device.
 *
 * A save writes a redo log (save.log.tmp: every flash sector that differs
 * from what is on disk, and the small files saved with it), syncs it, and
 * commits it with one rename to save.log. Only then are the files written in
 * place, synced, and the log removed. A save cut short before the rename
 * leaves the files as they were (the temp log is dropped at the next open);
 * after it, the next open replays the log. So the files always hold either
 * the state before a save or the state after it, never a mix of the two: a
 * mix is a flash no power cut could leave, and the engine cannot be asked to
 * survive it. The log holds only what changed, so saving after every SMP
 * request costs a few KiB, not the 9 MiB of the three flashes. */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "twinboot/error.h"
#include "twinboot/sim.h"

#define LOG_NAME "save.log"
#define LOG_TMP "save.log.tmp"
#define LOCK_NAME "lock"
static const char log_head[8] = {'T', 'B', 'S', 'L', 'O', 'G', '0', '1'};
static const char log_tail[8] = {'T', 'B', 'S', 'L', 'E', 'N', 'D', '!'};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static void path_of(char *out, size_t n, const char *dir, const char *file)
{
    snprintf(out, n, "%s/%s", dir, file);
}

/* mkdir -p: a device directory may be given as a fresh nested path. */
static int mkdirs(const char *dir)
{
    char s[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(s)) {
        return TB_E_INVAL;
    }
    memcpy(s, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (s[i] != '/' && s[i] != '\0') {
            continue;
        }
        char c = s[i];
        s[i] = '\0';
        (void)mkdir(s, 0777); /* EEXIST, or EACCES on a parent that exists: judged below */
        s[i] = c;
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? TB_OK : TB_E_IO;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return TB_E_IO;
    }
    int rc = fsync(fd) == 0 ? TB_OK : TB_E_IO;
    close(fd);
    return rc;
}

/* ---- the log --------------------------------------------------------------- */

struct logw {
    struct tb_simdev *d; /* fault injection: d->save_fault_at */
    int fd;
    uint32_t crc, count;
};

/* One step that changes the disk: a test may make it the one that never happens. */
static bool fault(struct tb_simdev *d)
{
    return d != NULL && d->save_fault_at != 0 && ++d->save_steps >= d->save_fault_at;
}

/* CRC-32 (zlib's), over any length */
static uint32_t log_crc(uint32_t crc, const void *p, size_t len)
{
    const uint8_t *b = p;
    while (len > 0) {
        uInt n = len > 0x40000000U ? 0x40000000U : (uInt)len;
        crc = (uint32_t)crc32(crc, b, n);
        b += n;
        len -= n;
    }
    return crc;
}

static int put(struct logw *w, const void *p, size_t len)
{
    const uint8_t *b = p;
    if (fault(w->d)) {
        return TB_E_POWER;
    }
    w->crc = log_crc(w->crc, b, len);
    while (len > 0) {
        ssize_t n = write(w->fd, b, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return TB_E_IO;
        }
        b += n;
        len -= (size_t)n;
    }
    return TB_OK;
}

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static uint32_t rd32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* An entry: name, the file's whole size, then len bytes at off. */
static int put_entry(struct logw *w, const char *name, uint32_t file_size, uint32_t off, const void *data, uint32_t len)
{
    uint8_t h[14];
    size_t nl = strlen(name);
    h[0] = (uint8_t)nl;
    h[1] = (uint8_t)(nl >> 8);
    le32(h + 2, file_size);
    le32(h + 6, off);
    le32(h + 10, len);
    int rc = put(w, h, sizeof(h));
    if (rc == TB_OK) {
        rc = put(w, name, nl);
    }
    if (rc == TB_OK) {
        rc = put(w, data, len);
    }
    w->count++;
    return rc;
}

/* What the files of d->disk_dir hold once a log entry is applied. */
static void shadow_note(struct tb_simdev *d, const char *name, uint32_t off, const uint8_t *data, uint32_t len)
{
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        if (d->disk[i] != NULL && strcmp(name, tb_sim_nrf5340_parts[i].file) == 0 && off <= d->fl[i].flash.size &&
            len <= d->fl[i].flash.size - off) {
            memcpy(d->disk[i] + off, data, len);
        }
    }
}

/* Apply a committed log (a whole file in memory) to the files of dir. */
static int replay(struct tb_simdev *d, const char *dir, const uint8_t *log, size_t n, char *err, size_t errlen)
{
    char p[4096];
    if (n < sizeof(log_head) + 16 || memcmp(log, log_head, 8) != 0 || memcmp(log + n - 8, log_tail, 8) != 0 ||
        log_crc(0, log, n - 12) != rd32(log + n - 12)) {
        return fail(err, errlen, TB_E_IO, "%s/%s is damaged (not a complete save log): the device cannot be trusted",
                    dir, LOG_NAME);
    }
    uint32_t count = rd32(log + n - 16);
    size_t at = 8, end = n - 16;
    for (uint32_t e = 0; e < count; e++) {
        if (end - at < 14) {
            return fail(err, errlen, TB_E_IO, "%s/%s is damaged", dir, LOG_NAME);
        }
        const uint8_t *h = log + at;
        uint32_t nl = h[0] | (uint32_t)h[1] << 8, fsz = rd32(h + 2), off = rd32(h + 6), len = rd32(h + 10);
        at += 14;
        if (nl == 0 || nl > 255 || end - at < nl || end - at - nl < len || off > fsz || len > fsz - off) {
            return fail(err, errlen, TB_E_IO, "%s/%s is damaged", dir, LOG_NAME);
        }
        char name[256];
        memcpy(name, log + at, nl);
        name[nl] = '\0';
        at += nl;
        if (strchr(name, '/') != NULL) {
            return fail(err, errlen, TB_E_IO, "%s/%s is damaged", dir, LOG_NAME);
        }
        path_of(p, sizeof(p), dir, name);
        if (d != NULL) {
            shadow_note(d, name, off, log + at, len);
        }
        if (fault(d)) {
            return fail(err, errlen, TB_E_POWER, "save stopped (fault injected)");
        }
        int fd = open(p, O_RDWR | O_CREAT, 0666);
        struct stat st;
        int rc = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? TB_OK : TB_E_IO;
        if (rc == TB_OK && st.st_size != (off_t)fsz && ftruncate(fd, (off_t)fsz) != 0) {
            rc = TB_E_IO;
        }
        for (uint32_t done = 0; rc == TB_OK && done < len;) {
            ssize_t w = pwrite(fd, log + at + done, len - done, (off_t)(off + done));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                rc = TB_E_IO;
                break;
            }
            done += (uint32_t)w;
        }
        if (rc == TB_OK && fsync(fd) != 0) {
            rc = TB_E_IO;
        }
        int e2 = errno;
        if (fd >= 0) {
            close(fd);
        }
        if (rc != TB_OK) {
            return fail(err, errlen, rc, "cannot write %s: %s", p, strerror(e2));
        }
        at += len;
    }
    path_of(p, sizeof(p), dir, LOG_NAME);
    if (fault(d)) {
        return fail(err, errlen, TB_E_POWER, "save stopped (fault injected)");
    }
    /* not synced: a log that comes back after a crash is replayed again, to the same result */
    if (unlink(p) != 0) {
        return fail(err, errlen, TB_E_IO, "cannot remove %s: %s", p, strerror(errno));
    }
    return TB_OK;
}

/* Read n bytes, or fewer at the end of the file or on an error: how many. */
static size_t read_full(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    return got;
}

static int read_whole(const char *path, uint8_t **out, size_t *n)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0) {
            close(fd);
        }
        return TB_E_IO;
    }
    uint8_t *b = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    size_t got = b != NULL ? read_full(fd, b, (size_t)st.st_size) : 0;
    close(fd);
    if (b == NULL || got != (size_t)st.st_size) {
        free(b);
        return TB_E_IO;
    }
    *out = b;
    *n = got;
    return TB_OK;
}

int tb_simdev_recover(const char *dir, char *err, size_t errlen)
{
    char p[4096];
    struct stat st;
    path_of(p, sizeof(p), dir, LOG_TMP);
    if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
        (void)unlink(p); /* a save that never committed: the files are as before it */
    }
    path_of(p, sizeof(p), dir, LOG_NAME);
    if (lstat(p, &st) != 0) {
        return TB_OK;
    }
    uint8_t *log;
    size_t n;
    if (read_whole(p, &log, &n) != TB_OK) {
        return fail(err, errlen, TB_E_IO, "cannot read %s: %s", p, strerror(errno));
    }
    int rc = replay(NULL, dir, log, n, err, errlen);
    free(log);
    return rc;
}

/* ---- save ------------------------------------------------------------------ */

static void shadow_drop(struct tb_simdev *d)
{
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        free(d->disk[i]);
        d->disk[i] = NULL;
    }
    free(d->disk_dir);
    d->disk_dir = NULL;
}

/* Remember what the files of dir now hold (mem of every flash). */
static int shadow_take(struct tb_simdev *d, const char *dir)
{
    if (d->disk_dir == NULL || strcmp(d->disk_dir, dir) != 0) {
        shadow_drop(d);
        d->disk_dir = strdup(dir);
        if (d->disk_dir == NULL) {
            return TB_E_NOSPACE;
        }
    }
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        if (d->disk[i] == NULL && (d->disk[i] = malloc(d->fl[i].flash.size)) == NULL) {
            shadow_drop(d);
            return TB_E_NOSPACE;
        }
        memcpy(d->disk[i], d->fl[i].mem, d->fl[i].flash.size);
    }
    return TB_OK;
}

/* Every run of sectors of flash i that differs from the disk. */
static int log_flash(struct logw *w, const struct tb_simdev *d, int i, bool whole)
{
    const struct tb_simflash *f = &d->fl[i];
    const uint32_t ss = f->flash.sector_size, n = f->flash.size / ss;
    const char *name = tb_sim_nrf5340_parts[i].file;
    for (uint32_t s = 0; s < n;) {
        if (!whole && memcmp(f->mem + s * ss, d->disk[i] + s * ss, ss) == 0) {
            s++;
            continue;
        }
        uint32_t e = s + 1;
        while (e < n && (whole || memcmp(f->mem + e * ss, d->disk[i] + e * ss, ss) != 0)) {
            e++;
        }
        int rc = put_entry(w, name, f->flash.size, s * ss, f->mem + s * ss, (e - s) * ss);
        if (rc != TB_OK) {
            return rc;
        }
        s = e;
    }
    return TB_OK;
}

int tb_simdev_save_files(struct tb_simdev *d, const char *dir, const struct tb_sim_file *extra, size_t nextra,
                         char *err, size_t errlen)
{
    char tmp[4096], log[4096];
    if (d == NULL || dir == NULL || dir[0] == '\0') {
        return fail(err, errlen, TB_E_INVAL, "no device directory");
    }
    if (mkdirs(dir) != TB_OK) {
        return fail(err, errlen, TB_E_IO, "cannot make directory %s: %s", dir, strerror(errno));
    }
    /* the shadow speaks for this directory only; elsewhere every sector is written */
    bool whole = d->disk_dir == NULL || strcmp(d->disk_dir, dir) != 0 || d->disk[0] == NULL;
    d->save_steps = 0;
    path_of(tmp, sizeof(tmp), dir, LOG_TMP);
    path_of(log, sizeof(log), dir, LOG_NAME);
    struct logw w = {d, -1, 0, 0};
    w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (w.fd < 0) {
        return fail(err, errlen, TB_E_IO, "cannot write %s: %s (nothing was saved)", tmp, strerror(errno));
    }
    int rc = put(&w, log_head, sizeof(log_head));
    for (int i = 0; i < TB_SIM_NFLASH && rc == TB_OK; i++) {
        rc = log_flash(&w, d, i, whole);
    }
    for (size_t k = 0; k < nextra && rc == TB_OK; k++) {
        rc = put_entry(&w, extra[k].name, extra[k].len, 0, extra[k].data, extra[k].len);
    }
    if (rc == TB_OK) {
        /* count, then the check value over everything before it, then the end mark */
        uint8_t t[16];
        le32(t, w.count);
        le32(t + 4, log_crc(w.crc, t, 4));
        memcpy(t + 8, log_tail, 8);
        rc = put(&w, t, sizeof(t));
    }
    if (rc == TB_OK) {
        rc = fault(d) ? TB_E_POWER : fsync(w.fd) == 0 ? TB_OK : TB_E_IO;
    }
    int e1 = errno;
    if (close(w.fd) != 0 && rc == TB_OK) {
        rc = TB_E_IO;
    }
    /* the commit point */
    if (rc == TB_OK) {
        rc = fault(d) ? TB_E_POWER : rename(tmp, log) == 0 ? TB_OK : TB_E_IO;
        e1 = errno;
    }
    if (rc == TB_E_POWER) {
        return fail(err, errlen, rc, "save stopped (fault injected)"); /* as a crash leaves it */
    }
    if (rc != TB_OK) {
        (void)unlink(tmp);
        return fail(err, errlen, rc,
                    "cannot write %s: %s (nothing was saved: the device is as it was before this command)", tmp,
                    strerror(e1));
    }
    (void)sync_dir(dir);
    uint8_t *buf;
    size_t n;
    rc = read_whole(log, &buf, &n);
    if (rc != TB_OK) {
        return fail(err, errlen, rc, "cannot read back %s (the save completes at the next open)", log);
    }
    /* the shadow follows the entries as they are applied; a fresh one starts from the whole */
    if (whole && shadow_take(d, dir) != TB_OK) {
        free(buf);
        return fail(err, errlen, TB_E_NOSPACE, "out of memory");
    }
    rc = replay(d, dir, buf, n, err, errlen);
    free(buf);
    if (rc != TB_OK) {
        shadow_drop(d); /* the files are between two states until the log is replayed */
    }
    return rc;
}

int tb_simdev_save(struct tb_simdev *d, const char *dir)
{
    return tb_simdev_save_files(d, dir, NULL, 0, NULL, 0);
}

/* ---- load ------------------------------------------------------------------ */

static int load_one(const char *dir, const char *file, uint8_t *buf, uint32_t size, char *err, size_t errlen)
{
    char p[4096];
    path_of(p, sizeof(p), dir, file);
    struct stat st;
    if (stat(p, &st) != 0) {
        return fail(err, errlen, TB_E_IO, "%s is missing (%s)", p, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(err, errlen, TB_E_IO, "%s is not a regular file", p);
    }
    if (st.st_size != (off_t)size) {
        return fail(err, errlen, TB_E_IO, "%s is %lld bytes; this flash is %u bytes", p, (long long)st.st_size,
                    (unsigned)size);
    }
    int fd = open(p, O_RDONLY);
    if (fd < 0) {
        return fail(err, errlen, TB_E_IO, "cannot read %s: %s", p, strerror(errno));
    }
    size_t got = read_full(fd, buf, size);
    close(fd);
    return got == size ? TB_OK : fail(err, errlen, TB_E_IO, "%s shrank while it was read", p);
}

int tb_simdev_load_err(struct tb_simdev *d, const char *dir, char *err, size_t errlen)
{
    uint8_t *buf[TB_SIM_NFLASH] = {NULL};
    if (d == NULL || dir == NULL) {
        return fail(err, errlen, TB_E_INVAL, "no device directory");
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return fail(err, errlen, TB_E_IO, "%s is not a device directory", dir);
    }
    int rc = tb_simdev_recover(dir, err, errlen);
    /* read everything first: a failed load leaves the device untouched */
    for (int i = 0; i < TB_SIM_NFLASH && rc == TB_OK; i++) {
        buf[i] = malloc(d->fl[i].flash.size);
        rc = buf[i] == NULL ? fail(err, errlen, TB_E_NOSPACE, "out of memory")
                            : load_one(dir, tb_sim_nrf5340_parts[i].file, buf[i], d->fl[i].flash.size, err, errlen);
    }
    for (int i = 0; i < TB_SIM_NFLASH && rc == TB_OK; i++) {
        struct tb_simflash *sf = &d->fl[i];
        uint32_t ws = sf->flash.write_size;
        memcpy(sf->mem, buf[i], sf->flash.size);
        /* the files hold no flags: any block that is not erased counts as
         * programmed, so device code must erase it before writing there */
        for (uint32_t b = 0; b < sf->flash.size / ws; b++) {
            uint8_t w = 0;
            for (uint32_t k = 0; k < ws; k++) {
                w |= sf->mem[b * ws + k] != sf->flash.erased_val;
            }
            sf->written[b] = w;
        }
    }
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        free(buf[i]);
    }
    if (rc == TB_OK && shadow_take(d, dir) != TB_OK) {
        rc = fail(err, errlen, TB_E_NOSPACE, "out of memory");
    }
    return rc;
}

int tb_simdev_load(struct tb_simdev *d, const char *dir) { return tb_simdev_load_err(d, dir, NULL, 0); }

void tb_simdev_forget_disk(struct tb_simdev *d) { shadow_drop(d); }

/* ---- lock ------------------------------------------------------------------ */

int tb_simdev_lock(const char *dir, int *fd, long *holder)
{
    char p[4096];
    *fd = -1;
    *holder = 0;
    path_of(p, sizeof(p), dir, LOCK_NAME);
    int f = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (f < 0) {
        return TB_E_IO;
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        char b[32] = {0};
        if (pread(f, b, sizeof(b) - 1, 0) > 0) {
            *holder = strtol(b, NULL, 10);
        }
        close(f);
        return TB_E_NOSPACE; /* taken */
    }
    char b[32];
    int n = snprintf(b, sizeof(b), "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, b, (size_t)n, 0) != n) {
        close(f);
        return TB_E_IO;
    }
    *fd = f;
    return TB_OK;
}

void tb_simdev_unlock(int fd)
{
    if (fd >= 0) {
        close(fd); /* the lock goes with the descriptor, as it does when the process dies */
    }
}
