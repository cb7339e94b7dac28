/* Binary and Intel HEX file I/O for the host tools. */
#define _POSIX_C_SOURCE 200809L
#include "fileio.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool tb_is_hex_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot != NULL && strcasecmp(dot, ".hex") == 0;
}

void tb_blob_free(struct tb_blob *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

static int read_raw(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad) {
        free(buf);
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Two passes over the records: the first finds the address range, the second fills it. */
static int parse_hex(const char *path, const uint8_t *txt, size_t len, struct tb_blob *out, char *err,
                     size_t errlen)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t ext = 0;
        size_t i = 0;
        unsigned line = 0;
        bool eof = false;
        while (i < len && !eof) {
            while (i < len && isspace(txt[i])) {
                i++;
            }
            if (i >= len) {
                break;
            }
            line++;
            if (txt[i] != ':') {
                snprintf(err, errlen, "%s:%u: not an Intel HEX record", path, line);
                return -1;
            }
            i++;
            uint8_t rec[5 + 255];
            size_t n = 0;
            while (i + 1 < len && hexval(txt[i]) >= 0 && hexval(txt[i + 1]) >= 0 && n < sizeof(rec)) {
                rec[n++] = (uint8_t)(hexval(txt[i]) * 16 + hexval(txt[i + 1]));
                i += 2;
            }
            if (n < 5 || n != (size_t)rec[0] + 5) {
                snprintf(err, errlen, "%s:%u: bad record length", path, line);
                return -1;
            }
            uint8_t sum = 0;
            for (size_t k = 0; k < n; k++) {
                sum = (uint8_t)(sum + rec[k]);
            }
            if (sum != 0) {
                snprintf(err, errlen, "%s:%u: checksum error", path, line);
                return -1;
            }
            uint32_t addr = ext + (((uint32_t)rec[1] << 8) | rec[2]);
            switch (rec[3]) {
            case 0x00:
                if (pass == 0) {
                    lo = addr < lo ? addr : lo;
                    hi = (uint64_t)addr + rec[0] > hi ? (uint64_t)addr + rec[0] : hi;
                } else {
                    memcpy(out->data + (addr - out->base), rec + 4, rec[0]);
                }
                break;
            case 0x01: eof = true; break;
            case 0x02: ext = (((uint32_t)rec[4] << 8) | rec[5]) << 4; break;
            case 0x04: ext = (((uint32_t)rec[4] << 8) | rec[5]) << 16; break;
            case 0x03:
            case 0x05: break; /* start address: not needed for an image */
            default:
                snprintf(err, errlen, "%s:%u: unknown record type %u", path, line, rec[3]);
                return -1;
            }
        }
        if (pass == 0) {
            if (lo == UINT64_MAX) {
                snprintf(err, errlen, "%s: no data records", path);
                return -1;
            }
            if (hi - lo > (64u << 20)) {
                snprintf(err, errlen, "%s: spans more than 64 MiB", path);
                return -1;
            }
            out->base = (uint32_t)lo;
            out->len = (size_t)(hi - lo);
            out->data = malloc(out->len);
            if (out->data == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            memset(out->data, 0xff, out->len); /* gaps read as erased flash */
        }
    }
    return 0;
}

int tb_read_file(const char *path, struct tb_blob *out, char *err, size_t errlen)
{
    uint8_t *raw;
    size_t len;
    memset(out, 0, sizeof(*out));
    if (read_raw(path, &raw, &len, err, errlen) != 0) {
        return -1;
    }
    if (!tb_is_hex_path(path)) {
        out->data = raw;
        out->len = len;
        return 0;
    }
    int rc = parse_hex(path, raw, len, out, err, errlen);
    free(raw);
    if (rc != 0) {
        tb_blob_free(out);
    }
    return rc;
}

int tb_write_file(const char *path, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fwrite(data, 1, len, f);
    if (fclose(f) != 0 || n != len) {
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return 0;
}

static void put_record(FILE *f, uint8_t type, uint16_t addr, const uint8_t *d, size_t n)
{
    uint8_t sum = (uint8_t)(n + (addr >> 8) + (addr & 0xff) + type);
    fprintf(f, ":%02X%04X%02X", (unsigned)n, addr, type);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%02X", d[i]);
        sum = (uint8_t)(sum + d[i]);
    }
    fprintf(f, "%02X\n", (uint8_t)(0x100 - sum) & 0xff);
}

/* Records of up to 16 bytes; contiguous chunks run together and a record
 * never crosses a 64 KiB boundary, which is how imgtool's intelhex writes. */
struct hexw {
    FILE *f;
    int64_t ext;
    uint32_t addr; /* address of rec[0] */
    uint8_t rec[16];
    size_t n;
};

static void hexw_flush(struct hexw *w)
{
    if (w->n == 0) {
        return;
    }
    if ((int64_t)(w->addr >> 16) != w->ext) {
        uint8_t e[2] = {(uint8_t)(w->addr >> 24), (uint8_t)(w->addr >> 16)};
        put_record(w->f, 0x04, 0, e, 2);
        w->ext = w->addr >> 16;
    }
    put_record(w->f, 0x00, (uint16_t)(w->addr & 0xffff), w->rec, w->n);
    w->addr += (uint32_t)w->n;
    w->n = 0;
}

int tb_write_hex(const char *path, const struct tb_hex_chunk *chunks, size_t n, char *err,
                 size_t errlen)
{
    struct hexw w = {.f = fopen(path, "w"), .ext = -1};
    if (w.f == NULL) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    for (size_t c = 0; c < n; c++) {
        for (size_t i = 0; i < chunks[c].len; i++) {
            uint32_t a = chunks[c].addr + (uint32_t)i;
            if (w.n > 0 && a != w.addr + w.n) {
                hexw_flush(&w);
            }
            if (w.n == 0) {
                w.addr = a;
            }
            w.rec[w.n++] = chunks[c].data[i];
            if (w.n == sizeof(w.rec) || ((a + 1) & 0xffffu) == 0) {
                hexw_flush(&w);
            }
        }
    }
    hexw_flush(&w);
    put_record(w.f, 0x01, 0, NULL, 0);
    if (fclose(w.f) != 0) {
        snprintf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return 0;
}
