/* The an521 port's pieces both CPUs and all four images use: the command
 * line, the file-backed flashes, the console, faults. */
#include <string.h>

#include "an521.h"
#include "semihost.h"
#include "tb_m33.h"
#include "twinboot/bootlog.h"
#include "twinboot/error.h"

static uint32_t parse_u32(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9') {
        v = v * 10u + (uint32_t)(*s++ - '0');
    }
    return v;
}

int tb_q_args(struct tb_q_args *a)
{
    static char line[512];
    memset(a, 0, sizeof(*a));
    if (tb_sh_cmdline(line, sizeof(line)) != 0) {
        return TB_E_INVAL;
    }
    char *p = line;
    for (int n = 0; *p != '\0'; n++) {
        while (*p == ' ') {
            p++;
        }
        char *w = p;
        while (*p != '\0' && *p != ' ') {
            p++;
        }
        if (*p == ' ') {
            *p++ = '\0';
        }
        if (*w == '\0') {
            break;
        }
        if (n == 0) {
            if (strlen(w) >= sizeof(a->dir)) {
                return TB_E_INVAL;
            }
            memcpy(a->dir, w, strlen(w) + 1);
        } else if (strncmp(w, "cut=", 4) == 0) {
            a->cut_ticks = parse_u32(w + 4);
        } else if (strcmp(w, "confirm=0") == 0) {
            a->confirm0 = 1;
        } else if (strcmp(w, "confirm=1") == 0) {
            a->confirm1 = 1;
        } else if (strcmp(w, "confirm=all") == 0) {
            a->confirm0 = a->confirm1 = 1;
        } else if (strcmp(w, "stats") == 0) {
            a->stats = 1;
        }
    }
    return a->dir[0] != '\0' ? TB_OK : TB_E_INVAL;
}

/* ---- flash ------------------------------------------------------------- */

static int q_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    const struct tb_q_flash *q = f->ctx;
    if (off > f->size || len > f->size - off) {
        return TB_E_RANGE;
    }
    return len == 0 || tb_sh_read_at(q->fd, off, buf, len) == 0 ? TB_OK : TB_E_IO;
}

/* NOR: programming only clears bits, in whole write blocks. Written through
 * to the file at once, so a cut leaves the file as the flash was. */
static int q_program(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    const struct tb_q_flash *q = f->ctx;
    uint8_t old[256];
    const uint8_t *src = buf;
    if (off > f->size || len > f->size - off) {
        return TB_E_RANGE;
    }
    if (off % f->write_size != 0 || len % f->write_size != 0) {
        return TB_E_ALIGN;
    }
    while (len > 0) {
        uint32_t n = len < sizeof(old) ? len : (uint32_t)sizeof(old);
        if (tb_sh_read_at(q->fd, off, old, n) != 0) {
            return TB_E_IO;
        }
        for (uint32_t i = 0; i < n; i++) {
            old[i] &= src[i];
        }
        if (tb_sh_write_at(q->fd, off, old, n) != 0) {
            return TB_E_IO;
        }
        off += n;
        src += n;
        len -= n;
    }
    return TB_OK;
}

static int q_erase(const struct tb_flash *f, uint32_t off)
{
    const struct tb_q_flash *q = f->ctx;
    static uint8_t ones[4096];
    if (off % f->sector_size != 0 || off >= f->size) {
        return TB_E_ALIGN;
    }
    if (ones[0] != 0xff) {
        memset(ones, 0xff, sizeof(ones));
    }
    for (uint32_t done = 0; done < f->sector_size; done += sizeof(ones)) {
        uint32_t n = f->sector_size - done < sizeof(ones) ? f->sector_size - done : (uint32_t)sizeof(ones);
        if (tb_sh_write_at(q->fd, off + done, ones, n) != 0) {
            return TB_E_IO;
        }
    }
    return TB_OK;
}

void tb_q_flash_attach(struct tb_q_flash *q, int fd, const char *name, uint32_t size, uint32_t sector,
                       uint32_t mirror)
{
    q->fd = fd;
    q->mirror = mirror;
    q->flash = (struct tb_flash){.name = name, .size = size, .sector_size = sector, .write_size = 4,
                                 .erased_val = 0xff, .read = q_read, .program = q_program, .erase = q_erase,
                                 .ctx = q};
}

int tb_q_flash_open(struct tb_q_flash *q, const char *dir, const char *file, const char *name, uint32_t size,
                    uint32_t sector, uint32_t mirror)
{
    char path[256];
    size_t d = strlen(dir), f = strlen(file);
    if (d + 1 + f + 1 > sizeof(path)) {
        return TB_E_INVAL;
    }
    memcpy(path, dir, d);
    path[d] = '/';
    memcpy(path + d + 1, file, f + 1);
    int fd = tb_sh_open(path, 3 /* "r+b" */);
    if (fd < 0) {
        return TB_E_IO;
    }
    tb_q_flash_attach(q, fd, name, size, sector, mirror);
    return TB_OK;
}

int tb_q_flash_mirror(const struct tb_q_flash *q, uint32_t off, uint32_t len)
{
    if (q->mirror == 0 || off > q->flash.size || len > q->flash.size - off) {
        return TB_E_RANGE;
    }
    return tb_sh_read_at(q->fd, off, (void *)(uintptr_t)(q->mirror + off), len) == 0 ? TB_OK : TB_E_IO;
}

/* ---- console and faults -------------------------------------------------- */

static void q_write(void *ctx, const char *s, uint32_t len)
{
    (void)ctx;
    tb_sh_write(s, len);
}

const struct tb_log tb_q_log = {q_write, NULL};

void tb_m33_fault(uint32_t ipsr, const uint32_t *frame)
{
    tb_log_str(&tb_q_log, "fault: exception ");
    tb_log_u32(&tb_q_log, ipsr & 0x1ffu);
    tb_log_str(&tb_q_log, " at pc ");
    tb_log_hex32(&tb_q_log, frame[6]);
    tb_log_str(&tb_q_log, " on CPU");
    tb_log_u32(&tb_q_log, TB_Q_CPU_IDENTITY);
    tb_log_str(&tb_q_log, "\n");
    tb_sh_exit(TB_Q_EXIT_FAIL);
}
