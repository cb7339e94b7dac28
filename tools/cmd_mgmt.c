/* The SMP client side of `twinboot`: mcumgr's verbs (image list / upload /
 * test / confirm / erase, reset, echo) over UDP, with a progress bar and an
 * upload that resumes by itself after a dropped connection. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <termios.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cbor.h>

#include "cborx.h"
#include "cli.h"
#include "fileio.h"
#include "smp_serial.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"
#include "twinboot/smp.h"

#define CHUNK 1024U      /* upload data per request: well inside a 1500-byte datagram */
#define TIMEOUT_MS 2500  /* as smpclient's later upload chunks */
#define RETRIES 5

struct conn {
    int fd;
    bool serial;
    struct tb_serial_rx rx;
    uint8_t seq;
    int timeout_ms;
    size_t chunk; /* upload data per request */
    bool json;
};

static speed_t baud_of(uint32_t b)
{
    switch (b) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    case 1000000: return B1000000;
    default: return 0;
    }
}

/* serial:DEV[,baud=N] */
static int serial_open(struct conn *c, const char *spec)
{
    char dev[256];
    uint32_t baud = 115200;
    const char *comma = strchr(spec, ',');
    size_t dl = comma ? (size_t)(comma - spec) : strlen(spec);
    if (dl == 0 || dl >= sizeof(dev) || (comma && (strncmp(comma, ",baud=", 6) != 0 ||
                                                   cli_parse_u32(comma + 6, &baud) != 0 || baud_of(baud) == 0))) {
        fprintf(stderr, "twinboot: bad --conn serial:%s (serial:DEV[,baud=N])\n", spec);
        return -1;
    }
    memcpy(dev, spec, dl);
    dev[dl] = '\0';
    c->fd = open(dev, O_RDWR | O_NOCTTY);
    struct termios t;
    if (c->fd < 0 || tcgetattr(c->fd, &t) != 0) {
        fprintf(stderr, "twinboot: cannot open %s: %s\n", dev, strerror(errno));
        return -1;
    }
    cfmakeraw(&t);
    cfsetispeed(&t, baud_of(baud));
    cfsetospeed(&t, baud_of(baud));
    if (tcsetattr(c->fd, TCSANOW, &t) != 0) {
        fprintf(stderr, "twinboot: cannot set up %s: %s\n", dev, strerror(errno));
        return -1;
    }
    c->serial = true;
    c->chunk = 256; /* small frames, as console buffers are small */
    return 0;
}

static int conn_open(struct conn *c, const char *spec)
{
    char host[64];
    uint32_t port = TB_SMP_UDP_PORT;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->timeout_ms = TIMEOUT_MS;
    c->chunk = CHUNK;
    c->seq = (uint8_t)time(NULL);
    if (strncmp(spec, "serial:", 7) == 0) {
        return serial_open(c, spec + 7);
    }
    if (strncmp(spec, "udp:", 4) != 0) {
        fprintf(stderr, "twinboot: --conn %s: use udp:HOST:PORT or serial:DEV[,baud=N]\n", spec);
        return -1;
    }
    const char *h = spec + 4, *colon = strrchr(h, ':');
    size_t hl = colon ? (size_t)(colon - h) : strlen(h);
    if (hl >= sizeof(host) || (colon && (cli_parse_u32(colon + 1, &port) != 0 || port == 0 || port > 65535))) {
        fprintf(stderr, "twinboot: bad --conn %s (udp:HOST:PORT)\n", spec);
        return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0 || host[0] == '\0') {
        strcpy(host, "127.0.0.1");
    }
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "twinboot: --conn %s: give an IPv4 address\n", spec);
        return -1;
    }
    c->fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "twinboot: cannot open %s: %s\n", spec, strerror(errno));
        return -1;
    }
    return 0;
}

/* Send one SMP message on the connection. */
static int conn_send(struct conn *c, const uint8_t *msg, size_t len)
{
    if (!c->serial) {
        return send(c->fd, msg, len, 0) < 0 ? -1 : 0;
    }
    uint8_t frame[8192];
    size_t n = tb_serial_encode(msg, len, frame, sizeof(frame));
    return n > 0 && write(c->fd, frame, n) == (ssize_t)n ? 0 : -1;
}

/* Receive one SMP message (waiting at most timeout_ms): its length, 0 on timeout, <0 on error. */
static ssize_t conn_recv(struct conn *c, uint8_t *buf, size_t cap)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    if (!c->serial) {
        if (poll(&p, 1, c->timeout_ms) <= 0) {
            return 0;
        }
        return recv(c->fd, buf, cap, 0);
    }
    static uint8_t in[512];
    static size_t in_len, in_off;
    for (;;) {
        if (in_off < in_len) {
            size_t used = 0, got = tb_serial_feed(&c->rx, in + in_off, in_len - in_off, &used, buf, cap);
            in_off += used;
            if (got > 0) {
                return (ssize_t)got;
            }
            continue;
        }
        if (poll(&p, 1, c->timeout_ms) <= 0) {
            return 0;
        }
        ssize_t r = read(c->fd, in, sizeof(in));
        if (r <= 0) {
            return -1;
        }
        in_len = (size_t)r;
        in_off = 0;
    }
}

/* One request, one response, with retries. Only a response (op 1 or 3) to
 * this very request (sequence number, group, command) counts: an echo of the
 * request or a stray datagram is no answer. Returns the response's CBOR map
 * (caller frees), or NULL when the device did not answer. */
static cbor_item_t *transact(struct conn *c, int op, int group, int id, cbor_item_t *map, int retries)
{
    uint8_t msg[2048], rsp[2048];
    unsigned char *body = NULL;
    size_t cap = 0, n = cbor_serialize_alloc(map, &body, &cap);
    if (n == 0 || n + TB_SMP_HDR_SIZE > sizeof(msg)) {
        free(body);
        return NULL;
    }
    struct tb_smp_hdr h = {(uint8_t)op, 1, 0, (uint16_t)n, (uint16_t)group, ++c->seq, (uint8_t)id};
    tb_smp_hdr_encode(&h, msg);
    memcpy(msg + TB_SMP_HDR_SIZE, body, n);
    free(body);
    for (int attempt = 0; attempt <= retries; attempt++) {
        if (conn_send(c, msg, n + TB_SMP_HDR_SIZE) != 0) {
            continue;
        }
        ssize_t got;
        while ((got = conn_recv(c, rsp, sizeof(rsp))) > 0) {
            struct tb_smp_hdr rh;
            if (got < (ssize_t)TB_SMP_HDR_SIZE) {
                break; /* refused (nobody listening) or junk */
            }
            tb_smp_hdr_decode(rsp, &rh);
            if (rh.op != (h.op | 1U) || rh.seq != h.seq || rh.group != h.group || rh.id != h.id ||
                rh.len != got - (ssize_t)TB_SMP_HDR_SIZE) {
                continue; /* not an answer to this request: a late one, or our own request echoed */
            }
            struct cbor_load_result res;
            cbor_item_t *it = cbor_load(rsp + TB_SMP_HDR_SIZE, rh.len, &res);
            if (it != NULL && cbor_isa_map(it)) {
                return it;
            }
            if (it != NULL) {
                cbor_decref(&it);
            }
        }
    }
    return NULL;
}

static const char *img_err_text(uint64_t rc)
{
    switch (rc) {
    case TB_IMG_ERR_HASH_NOT_FOUND: return "no image with that hash on the device";
    case TB_IMG_ERR_INVALID_SLOT: return "not a slot that can be written (never the running one)";
    case TB_IMG_ERR_INVALID_IMAGE_HEADER: return "not an MCUboot image (header too short, or sizes that do not add up)";
    case TB_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC: return "not an MCUboot image (no image magic); sign it with 'twinboot image sign'";
    case TB_IMG_ERR_INVALID_HASH: return "the uploaded data does not match its SHA-256";
    case TB_IMG_ERR_CURRENT_VERSION_IS_NEWER: return "the running version is not older";
    case TB_IMG_ERR_IMAGE_ALREADY_PENDING: return "that slot is already pending for the next reset: reset first";
    case TB_IMG_ERR_INVALID_IMAGE_TOO_LARGE: return "the image is larger than the slot";
    case TB_IMG_ERR_INVALID_IMAGE_DATA_OVERRUN: return "more data than the upload announced";
    case TB_IMG_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED: return "that image already runs";
    default: return "image management error";
    }
}

static int malformed(const char *what, const char *field, const char *want)
{
    fprintf(stderr, "twinboot: %s: malformed answer from the device (\"%s\" is not %s)\n", what, field, want);
    return TB_EXIT_FAIL;
}

/* TB_EXIT_OK, or the device's error explained (and TB_EXIT_FAIL). */
static int check_error(cbor_item_t *r, const char *what)
{
    cbor_item_t *err = tb_cbor_get(r, "err");
    uint64_t v = 0;
    if (err != NULL) {
        uint64_t gv = 0, ev = 0;
        if (!cbor_isa_map(err) || tb_cbor_get_uint(err, "group", &gv) != 1 || tb_cbor_get_uint(err, "rc", &ev) != 1) {
            return malformed(what, "err", "a map of group and rc");
        }
        fprintf(stderr, "twinboot: %s: the device says: %s (group %llu, rc %llu)\n", what,
                gv == TB_SMP_GROUP_IMAGE ? img_err_text(ev) : "error", (unsigned long long)gv, (unsigned long long)ev);
        return TB_EXIT_FAIL;
    }
    int has = tb_cbor_get_uint(r, "rc", &v);
    if (has < 0) {
        return malformed(what, "rc", "an unsigned integer");
    }
    if (has == 1 && v != 0) {
        static const char *names[] = {"ok", "unknown error", "out of memory", "invalid request", "timeout",
                                      "not found", "bad state", "message too large", "not supported"};
        fprintf(stderr, "twinboot: %s: the device says: %s (rc %llu)\n", what, v < 9 ? names[v] : "error",
                (unsigned long long)v);
        return TB_EXIT_FAIL;
    }
    return TB_EXIT_OK;
}

static int no_answer(const char *what)
{
    fprintf(stderr, "twinboot: %s: no answer from the device; is it running ('twinboot sim run DIR')?\n", what);
    return TB_EXIT_NO_RESPONSE;
}

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        printf("%02x", p[i]);
    }
}

/* Length of the UTF-8 sequence at p (at most n bytes), 0 if not valid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
    size_t len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 && p[0] >= 0xc2 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
                                 : (p[0] & 0xf8) == 0xf0 && p[0] <= 0xf4 ? 4 : 0;
    if (len == 0 || len > n) {
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return len;
}

/* A JSON string (RFC 8259): quotes, backslashes and control characters
 * escaped; bytes that are not UTF-8 become U+FFFD. */
static void json_str(const uint8_t *p, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n;) {
        uint8_t ch = p[i];
        size_t k = utf8_len(p + i, n - i);
        if (ch == '"' || ch == '\\') {
            printf("\\%c", ch);
        } else if (ch < 0x20 || ch == 0x7f) {
            printf("\\u%04x", ch);
        } else if (k == 0) {
            fputs("\\ufffd", stdout);
        } else {
            fwrite(p + i, 1, k, stdout);
            i += k;
            continue;
        }
        i++;
    }
    putchar('"');
}

/* Text for a terminal: control characters shown as '?'. */
static void plain_str(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        putchar(p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i]);
    }
}

/* ---- image list / test / confirm ------------------------------------------ */

struct slot_entry {
    uint64_t image, slot;
    const uint8_t *ver, *hash;
    size_t ver_len, hash_len;
    bool flag[5];
};

static const char *const slot_flags[] = {"bootable", "pending", "confirmed", "active", "permanent"};

/* One entry of "images", every field of the type Zephyr sends, or why not. */
static const char *read_entry(cbor_item_t *m, struct slot_entry *e)
{
    memset(e, 0, sizeof(*e));
    if (!cbor_isa_map(m)) {
        return "images[]";
    }
    if (tb_cbor_get_uint(m, "image", &e->image) < 0) {
        return "image";
    }
    if (tb_cbor_get_uint(m, "slot", &e->slot) != 1) {
        return "slot";
    }
    if (tb_cbor_get_str(m, "version", true, &e->ver, &e->ver_len) != 1) {
        return "version";
    }
    if (tb_cbor_get_str(m, "hash", false, &e->hash, &e->hash_len) < 0) {
        return "hash";
    }
    for (int k = 0; k < 5; k++) {
        if (tb_cbor_get_bool(m, slot_flags[k], &e->flag[k]) < 0) {
            return slot_flags[k];
        }
    }
    return NULL;
}

static int print_state(cbor_item_t *r, bool json, const char *what)
{
    cbor_item_t *imgs = tb_cbor_get(r, "images");
    if (imgs == NULL || !cbor_isa_array(imgs)) {
        return malformed(what, "images", "an array");
    }
    size_t count = cbor_array_size(imgs);
    struct slot_entry *e = calloc(count ? count : 1, sizeof(*e));
    if (e == NULL) {
        return TB_EXIT_FAIL;
    }
    cbor_item_t **items = cbor_array_handle(imgs);
    for (size_t i = 0; i < count; i++) {
        const char *bad = read_entry(items[i], &e[i]);
        if (bad != NULL) {
            free(e);
            return malformed(what, bad, strcmp(bad, "version") == 0 ? "a text string"
                                        : strcmp(bad, "hash") == 0 ? "a byte string"
                                        : strcmp(bad, "images[]") == 0 ? "a map"
                                        : strcmp(bad, "image") == 0 || strcmp(bad, "slot") == 0 ? "an unsigned integer"
                                                                                                 : "a boolean");
        }
    }
    printf(json ? "{\"images\":[" : "Images:\n");
    for (size_t i = 0; i < count; i++) {
        const struct slot_entry *s = &e[i];
        if (json) {
            printf("%s{\"image\":%llu,\"slot\":%llu,\"version\":", i ? "," : "", (unsigned long long)s->image,
                   (unsigned long long)s->slot);
            json_str(s->ver, s->ver_len);
            printf(",\"hash\":\"");
            print_hex(s->hash, s->hash_len);
            printf("\"");
            for (int k = 0; k < 5; k++) {
                printf(",\"%s\":%s", slot_flags[k], s->flag[k] ? "true" : "false");
            }
            printf("}");
            continue;
        }
        printf(" image=%llu slot=%llu\n    version: ", (unsigned long long)s->image, (unsigned long long)s->slot);
        plain_str(s->ver, s->ver_len);
        printf("\n    bootable: %s\n    flags:", s->flag[0] ? "true" : "false");
        for (int k = 1; k < 5; k++) {
            if (s->flag[k]) {
                printf(" %s", slot_flags[k]);
            }
        }
        printf("\n    hash: ");
        print_hex(s->hash, s->hash_len);
        printf("\n");
        if (s->flag[1]) {
            printf("    -> image %llu is pending %s; reset to apply\n", (unsigned long long)s->image,
                   s->flag[4] ? "a permanent upgrade" : "test");
        }
    }
    printf(json ? "]}\n" : "");
    free(e);
    return TB_EXIT_OK;
}

static int parse_hash(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64) {
        return -1;
    }
    for (int i = 0; i < 32; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) {
            return -1;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int state_cmd(struct conn *c, const char *hash_hex, int confirm)
{
    cbor_item_t *m = cbor_new_definite_map(2);
    uint8_t hash[32];
    const char *what = confirm < 0 ? "image list" : confirm ? "image confirm" : "image test";
    if (hash_hex != NULL) {
        if (parse_hash(hash_hex, hash) != 0) {
            cbor_decref(&m);
            fprintf(stderr, "twinboot: %s: HASH is 64 hex digits (see 'twinboot image list')\n", what);
            return TB_EXIT_USAGE;
        }
        tb_cbor_add(m, "hash", cbor_build_bytestring(hash, 32));
    }
    if (confirm >= 0) {
        tb_cbor_add(m, "confirm", cbor_build_bool(confirm != 0));
    }
    cbor_item_t *r = transact(c, confirm < 0 ? TB_SMP_OP_READ : TB_SMP_OP_WRITE, TB_SMP_GROUP_IMAGE, 0, m, RETRIES);
    cbor_decref(&m);
    if (r == NULL) {
        return no_answer(what);
    }
    int rc = check_error(r, what);
    if (rc == TB_EXIT_OK) {
        rc = print_state(r, c->json, what);
    }
    cbor_decref(&r);
    return rc;
}

/* ---- upload ---------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A progress bar on a terminal; a plain line every 10 % otherwise. */
static void progress(size_t off, size_t len, double t0, int *last_decile)
{
    double el = now_s() - t0, rate = el > 0 ? (double)off / el : 0;
    int pct = len ? (int)(off * 100 / len) : 100;
    if (isatty(STDERR_FILENO)) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++) {
            bar[i] = i < fill ? '#' : '.';
        }
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%% %zu/%zu B %.1f KiB/s ETA %.0f s  ", bar, pct, off, len, rate / 1024,
                rate > 0 ? (double)(len - off) / rate : 0.0);
        if (off == len) {
            fprintf(stderr, "\n");
        }
    } else if (pct / 10 != *last_decile || off == len) {
        *last_decile = pct / 10;
        fprintf(stderr, "upload: %3d%% %zu/%zu bytes, %.1f KiB/s\n", pct, off, len, rate / 1024);
    }
}

#define RESUME_WAIT_S 30.0 /* a device that resets (bootloaders, a swap) is given this long to come back */
#define STALL_LIMIT 8      /* answers in a row that do not move the upload on */

/* One answer to an upload request: the next offset, or an exit code. */
static int upload_answer(cbor_item_t *r, size_t len, size_t *next)
{
    uint64_t o = 0;
    bool match = true;
    int rc = check_error(r, "image upload");
    if (rc != TB_EXIT_OK) {
        return rc;
    }
    if (tb_cbor_get_uint(r, "off", &o) != 1 || o > len) {
        return malformed("image upload", "off", "an offset within the file");
    }
    if (tb_cbor_get_bool(r, "match", &match) < 0) {
        return malformed("image upload", "match", "a boolean");
    }
    if (!match) {
        fprintf(stderr, "twinboot image upload: the device's copy does not match the file\n");
        return TB_EXIT_FAIL;
    }
    *next = (size_t)o;
    return TB_EXIT_OK;
}

static int upload_cmd(struct conn *c, const char *path, int image)
{
    char err[256];
    struct tb_blob b;
    uint8_t sha[32];
    struct tb_hash_ctx hc;
    if (tb_read_file(path, &b, err, sizeof(err)) != 0) {
        fprintf(stderr, "twinboot image upload: %s\n", err);
        return TB_EXIT_FAIL;
    }
    if (b.len == 0 || b.len > UINT32_MAX) {
        fprintf(stderr, "twinboot image upload: %s is %s: nothing to upload\n", path, b.len ? "too large" : "empty");
        tb_blob_free(&b);
        return TB_EXIT_FAIL;
    }
    if (tb_hash_init(&hc, TB_HASH_SHA256) != TB_OK || tb_hash_update(&hc, b.data, b.len) != TB_OK ||
        tb_hash_finish(&hc, sha) != TB_OK) {
        tb_blob_free(&b);
        return TB_EXIT_FAIL;
    }
    size_t off = 0, best = 0;
    int exit_code = TB_EXIT_OK, stalls = 0, last_decile = -1;
    double t0 = now_s(), last_answer = t0;
    bool waiting = false;
    while (off < b.len) {
        size_t n = b.len - off < c->chunk ? b.len - off : c->chunk;
        cbor_item_t *m = cbor_new_definite_map(off == 0 ? 5 : 2);
        if (off == 0) {
            /* the first request names the file: a device that knows it resumes */
            tb_cbor_add(m, "image", cbor_build_uint8((uint8_t)image));
            tb_cbor_add(m, "len", cbor_build_uint32((uint32_t)b.len));
            tb_cbor_add(m, "sha", cbor_build_bytestring(sha, 32));
        }
        tb_cbor_add(m, "off", cbor_build_uint32((uint32_t)off));
        tb_cbor_add(m, "data", cbor_build_bytestring(b.data + off, n));
        cbor_item_t *r = transact(c, TB_SMP_OP_WRITE, TB_SMP_GROUP_IMAGE, 1, m, 1);
        cbor_decref(&m);
        if (r == NULL) {
            /* no answer: the link dropped or the device resets. Ask again with
             * the same file from 0 until it is back; it answers where it got to. */
            double quiet = now_s() - last_answer;
            if (quiet > RESUME_WAIT_S) {
                if (!c->json) {
                    fprintf(stderr, "\n");
                }
                exit_code = no_answer("image upload");
                break;
            }
            if (!c->json && !waiting) {
                fprintf(stderr, "%supload: no answer at %zu bytes; resuming when the device is back (up to %.0f s)\n",
                        isatty(STDERR_FILENO) ? "\n" : "", best, RESUME_WAIT_S);
            }
            waiting = true;
            usleep(250000);
            off = 0;
            continue;
        }
        last_answer = now_s();
        size_t next = 0;
        exit_code = upload_answer(r, b.len, &next);
        cbor_decref(&r);
        if (exit_code != TB_EXIT_OK) {
            break;
        }
        if (waiting && !c->json) {
            fprintf(stderr, "upload: the device is back; resuming at %zu bytes\n", next);
        }
        waiting = false;
        /* a device that keeps answering without taking data would keep us here for ever */
        stalls = next > off || next > best ? 0 : stalls + 1;
        if (stalls > STALL_LIMIT) {
            fprintf(stderr, "twinboot image upload: the device makes no progress (it keeps asking for offset %zu)\n",
                    next);
            exit_code = TB_EXIT_FAIL;
            break;
        }
        off = next;
        best = off > best ? off : best;
        if (!c->json) {
            progress(off, b.len, t0, &last_decile);
        }
    }
    if (exit_code == TB_EXIT_OK) {
        double el = now_s() - t0;
        if (c->json) {
            printf("{\"uploaded\":%zu,\"image\":%d,\"seconds\":%.3f,\"sha256\":\"", b.len, image, el);
            print_hex(sha, 32);
            printf("\"}\n");
        } else {
            printf("uploaded %s (%zu bytes) to image %d in %.2f s; next: 'twinboot image test HASH' "
                   "(HASH from 'twinboot image list'), then 'twinboot reset'\n",
                   path, b.len, image, el);
        }
    }
    tb_blob_free(&b);
    return exit_code;
}

/* ---- simple commands ------------------------------------------------------- */

static int simple(struct conn *c, int op, int group, int id, cbor_item_t *m, const char *what, const char *done)
{
    cbor_item_t *r = transact(c, op, group, id, m, RETRIES);
    cbor_decref(&m);
    if (r == NULL) {
        return no_answer(what);
    }
    int rc = check_error(r, what);
    const uint8_t *echo;
    size_t n;
    int has = rc == TB_EXIT_OK ? tb_cbor_get_str(r, "r", true, &echo, &n) : 0;
    if (has < 0 || (has == 0 && done == NULL && rc == TB_EXIT_OK)) {
        rc = malformed(what, "r", "a text string");
    } else if (has == 1) {
        if (c->json) {
            printf("{\"r\":");
            json_str(echo, n);
            printf("}\n");
        } else {
            plain_str(echo, n);
            printf("\n");
        }
    } else if (rc == TB_EXIT_OK) {
        printf(c->json ? "{\"ok\":true}\n" : "%s\n", done);
    }
    cbor_decref(&r);
    return rc;
}

#define ECHO_MAX 1024 /* text that fits one request whatever the transport */

static const char mgmt_usage[] =
    "device management over SMP (as mcumgr), options before the command:\n"
    "  --conn C               the device: udp:HOST:PORT (default udp:127.0.0.1:1337)\n"
    "                         or serial:DEV[,baud=N] (SMP console framing)\n"
    "  --json                 machine-readable output\n"
    "\n"
    "  twinboot image list\n"
    "  twinboot image upload [-n IMAGE] FILE     (progress bar; resumes by itself after a dropped\n"
    "                                             link or a device reset, waiting up to 30 s)\n"
    "  twinboot image test HASH\n"
    "  twinboot image confirm [HASH]             (no HASH: the running image)\n"
    "  twinboot image erase [SLOT]               (1: image 0's secondary, 3: image 1's)\n"
    "  twinboot reset\n"
    "  twinboot echo TEXT                        (at most 1024 bytes)\n"
    "\n"
    "Exit codes: 0 done, 1 the device refused (the message says why), 2 usage,\n"
    "5 no answer from the device.\n";

/* argv[0] is the verb ("list", "upload", ..., "reset", "echo"). */
int cmd_mgmt(int argc, char **argv, const char *conn_spec, bool json)
{
    struct conn c;
    const char *verb = argv[0];
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(mgmt_usage, stdout);
        return TB_EXIT_OK;
    }
    /* the command line first: a usage error needs no device */
    uint32_t image = 0, slot = 1;
    const char *file = NULL;
    if (strcmp(verb, "upload") == 0) {
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "-n") == 0 || strcmp(argv[i], "--image") == 0) {
                if (i + 1 >= argc || cli_parse_u32(argv[++i], &image) != 0 || image > 1) {
                    return cli_usage_error("image", "upload", "-n takes an image number, 0 or 1");
                }
            } else if (strcmp(argv[i], "-e") == 0) {
                /* mcumgr's -e (no erase before upload): twinboot erases as it goes anyway */
            } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
                return cli_usage_error("image", "upload", "unknown option");
            } else if (file != NULL) {
                return cli_usage_error("image", "upload", "takes one FILE");
            } else {
                file = argv[i];
            }
        }
        if (file == NULL) {
            return cli_usage_error("image", "upload", "needs FILE ([-n 0|1])");
        }
    } else if (strcmp(verb, "erase") == 0 && argc == 2 && cli_parse_u32(argv[1], &slot) != 0) {
        return cli_usage_error("image", "erase", "SLOT is a number");
    } else if (strcmp(verb, "echo") == 0 && argc == 2 && strlen(argv[1]) > ECHO_MAX) {
        fprintf(stderr, "twinboot echo: TEXT is %zu bytes; at most %d\n", strlen(argv[1]), ECHO_MAX);
        return TB_EXIT_USAGE;
    }
    bool known = (strcmp(verb, "list") == 0 && argc == 1) || (strcmp(verb, "test") == 0 && argc == 2) ||
                 (strcmp(verb, "confirm") == 0 && argc <= 2) || strcmp(verb, "upload") == 0 ||
                 (strcmp(verb, "erase") == 0 && argc <= 2) || (strcmp(verb, "reset") == 0 && argc == 1) ||
                 (strcmp(verb, "echo") == 0 && argc == 2);
    if (!known) {
        fprintf(stderr, "twinboot: bad use of '%s'\n\n%s", verb, mgmt_usage);
        return TB_EXIT_USAGE;
    }
    if (conn_open(&c, conn_spec) != 0) {
        if (c.fd >= 0) {
            close(c.fd);
        }
        return TB_EXIT_USAGE;
    }
    c.json = json;
    int rc;
    if (strcmp(verb, "list") == 0) {
        rc = state_cmd(&c, NULL, -1);
    } else if (strcmp(verb, "test") == 0) {
        rc = state_cmd(&c, argv[1], 0);
        if (rc == TB_EXIT_OK && !json) {
            printf("-> reset ('twinboot reset') to run it as a test; confirm it afterwards or it reverts\n");
        }
    } else if (strcmp(verb, "confirm") == 0) {
        rc = state_cmd(&c, argc == 2 ? argv[1] : NULL, 1);
    } else if (strcmp(verb, "upload") == 0) {
        rc = upload_cmd(&c, file, (int)image);
    } else if (strcmp(verb, "erase") == 0) {
        cbor_item_t *m = cbor_new_definite_map(1);
        tb_cbor_add(m, "slot", cbor_build_uint32(slot));
        rc = simple(&c, TB_SMP_OP_WRITE, TB_SMP_GROUP_IMAGE, 5, m, "image erase", "erased");
    } else if (strcmp(verb, "reset") == 0) {
        rc = simple(&c, TB_SMP_OP_WRITE, TB_SMP_GROUP_OS, 5, cbor_new_definite_map(0), "reset",
                    "reset: the bootloaders run now");
    } else {
        cbor_item_t *m = cbor_new_definite_map(1);
        tb_cbor_add(m, "d", cbor_build_string(argv[1]));
        rc = simple(&c, TB_SMP_OP_WRITE, TB_SMP_GROUP_OS, 0, m, "echo", NULL);
    }
    close(c.fd);
    return rc;
}
