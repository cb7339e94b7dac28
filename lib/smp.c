/* The SMP (MCUmgr) server: OS and image groups, as Zephyr answers them.
 *
 * Requests are flat CBOR maps; they are read with libcbor's streaming
 * decoder into a small fixed table of key/value views into the request (no
 * copies, no heap). Responses are written with libcbor's encoders into the
 * caller's buffer. Field names, types and error codes follow Zephyr
 * (Zephyr's smp_protocol.rst and subsys/mgmt/mcumgr; docs/nrf5340-facts.md). */
#include "twinboot/smp.h"

#include <string.h>

#include <cbor.h>

#include "twinboot/decompress.h"
#include "twinboot/error.h"
#include "twinboot/netcore.h"
#include "twinboot/trailer.h"

/* ---- header ---------------------------------------------------------------- */

void tb_smp_hdr_decode(const uint8_t p[TB_SMP_HDR_SIZE], struct tb_smp_hdr *h)
{
    h->op = p[0] & 7U;
    h->version = (uint8_t)((p[0] >> 3) & 3U);
    h->flags = p[1];
    h->len = (uint16_t)((p[2] << 8) | p[3]);
    h->group = (uint16_t)((p[4] << 8) | p[5]);
    h->seq = p[6];
    h->id = p[7];
}

void tb_smp_hdr_encode(const struct tb_smp_hdr *h, uint8_t p[TB_SMP_HDR_SIZE])
{
    p[0] = (uint8_t)(((h->version & 3U) << 3) | (h->op & 7U));
    p[1] = h->flags;
    p[2] = (uint8_t)(h->len >> 8);
    p[3] = (uint8_t)h->len;
    p[4] = (uint8_t)(h->group >> 8);
    p[5] = (uint8_t)h->group;
    p[6] = h->seq;
    p[7] = h->id;
}

/* ---- reading a request: a flat map into a fixed table ----------------------- */

enum vtype { V_NONE = 0, V_UINT, V_NINT, V_BOOL, V_TSTR, V_BSTR, V_OTHER };

#define MAX_KEYS 12
#define KEY_MAX 16

struct kv {
    char key[KEY_MAX];
    uint8_t type;
    uint64_t u; /* V_UINT value; V_NINT: -1 - u */
    bool b;
    const uint8_t *p;
    size_t len;
};

struct reader {
    struct kv kv[MAX_KEYS];
    int n;
    int items;       /* keys and values still expected in a definite map; -1 indefinite */
    bool started, done, want_key, error;
};

static struct reader *R(void *ctx) { return ctx; }

/* A key (a text string), or a value for the last key. */
static void item(struct reader *r, uint8_t type, uint64_t u, bool b, const uint8_t *p, size_t len)
{
    if (!r->started || r->done || r->error) {
        r->error = true;
        return;
    }
    if (r->want_key) {
        if (type != V_TSTR || r->n >= MAX_KEYS) {
            r->error = true;
            return;
        }
        struct kv *k = &r->kv[r->n];
        memset(k, 0, sizeof(*k));
        /* a key too long for any we know is kept unmatched, not cut to a known one */
        if (len < KEY_MAX) {
            memcpy(k->key, p, len);
        } else {
            k->key[0] = '\x7f';
        }
    } else {
        struct kv *k = &r->kv[r->n++];
        k->type = type;
        k->u = u;
        k->b = b;
        k->p = p;
        k->len = len;
    }
    r->want_key = !r->want_key;
    if (r->items > 0 && --r->items == 0) {
        r->done = true;
    }
}

static void cb_u8(void *c, uint8_t v) { item(R(c), V_UINT, v, false, NULL, 0); }
static void cb_u16(void *c, uint16_t v) { item(R(c), V_UINT, v, false, NULL, 0); }
static void cb_u32(void *c, uint32_t v) { item(R(c), V_UINT, v, false, NULL, 0); }
static void cb_u64(void *c, uint64_t v) { item(R(c), V_UINT, v, false, NULL, 0); }
static void cb_n8(void *c, uint8_t v) { item(R(c), V_NINT, v, false, NULL, 0); }
static void cb_n16(void *c, uint16_t v) { item(R(c), V_NINT, v, false, NULL, 0); }
static void cb_n32(void *c, uint32_t v) { item(R(c), V_NINT, v, false, NULL, 0); }
static void cb_n64(void *c, uint64_t v) { item(R(c), V_NINT, v, false, NULL, 0); }
static void cb_bstr(void *c, cbor_data d, size_t n) { item(R(c), V_BSTR, 0, false, d, n); }
/* RFC 3629 UTF-8: text strings must be valid, or echoing one back would
 * send clients a response their CBOR decoder refuses. */
static bool utf8_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (len == 0 || i + len > n || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4)) {
            return false;
        }
        uint32_t cp = len == 1 ? c : (uint32_t)(c & (0x7f >> len));
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + k] & 0x3fU);
        }
        /* no overlong forms, no surrogates, nothing past U+10FFFF */
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            return false;
        }
        i += len;
    }
    return true;
}

static void cb_tstr(void *c, cbor_data d, size_t n)
{
    if (!utf8_valid(d, n)) {
        R(c)->error = true;
        return;
    }
    item(R(c), V_TSTR, 0, false, d, n);
}
static void cb_bool(void *c, bool v) { item(R(c), V_BOOL, 0, v, NULL, 0); }
static void cb_other(void *c) { item(R(c), V_OTHER, 0, false, NULL, 0); }
static void cb_f4(void *c, float v) { (void)v, item(R(c), V_OTHER, 0, false, NULL, 0); }
static void cb_f8(void *c, double v) { (void)v, item(R(c), V_OTHER, 0, false, NULL, 0); }
static void cb_tag(void *c, uint64_t v) { (void)v, R(c)->error = true; }
static void cb_nested(void *c, size_t n) { (void)n, R(c)->error = true; }
static void cb_unsupported(void *c) { R(c)->error = true; } /* indefinite strings, nested arrays */

static void cb_map(void *c, size_t n)
{
    struct reader *r = R(c);
    if (r->started) {
        r->error = true; /* nested maps: no request we serve has one */
        return;
    }
    r->started = true;
    r->want_key = true;
    r->items = (int)(n > MAX_KEYS ? MAX_KEYS * 2 + 1 : n * 2);
    r->done = n == 0;
}

static void cb_indef_map(void *c)
{
    struct reader *r = R(c);
    if (r->started) {
        r->error = true;
        return;
    }
    r->started = true;
    r->want_key = true;
    r->items = -1;
}

static void cb_break(void *c)
{
    struct reader *r = R(c);
    if (r->items != -1 || !r->want_key || r->done) {
        r->error = true;
        return;
    }
    r->done = true;
}

static const struct cbor_callbacks callbacks = {
    .uint8 = cb_u8, .uint16 = cb_u16, .uint32 = cb_u32, .uint64 = cb_u64,
    .negint8 = cb_n8, .negint16 = cb_n16, .negint32 = cb_n32, .negint64 = cb_n64,
    .byte_string_start = cb_unsupported, .byte_string = cb_bstr,
    .string = cb_tstr, .string_start = cb_unsupported,
    .indef_array_start = cb_unsupported, .array_start = cb_nested,
    .indef_map_start = cb_indef_map, .map_start = cb_map,
    .tag = cb_tag, .float2 = cb_f4, .float4 = cb_f4, .float8 = cb_f8,
    .undefined = cb_other, .null = cb_other, .boolean = cb_bool, .indef_break = cb_break,
};

/* An empty payload reads as an empty map (clients send none for "{}"). */
static int parse_map(const uint8_t *p, size_t len, struct reader *r)
{
    memset(r, 0, sizeof(*r));
    if (len == 0) {
        return TB_OK;
    }
    size_t pos = 0;
    while (pos < len && !r->done && !r->error) {
        struct cbor_decoder_result res = cbor_stream_decode(p + pos, len - pos, &callbacks, r);
        if (res.status != CBOR_DECODER_FINISHED || res.read == 0) {
            return TB_E_INVAL;
        }
        pos += res.read;
    }
    return r->error || !r->done || pos != len ? TB_E_INVAL : TB_OK;
}

static const struct kv *find(const struct reader *r, const char *key)
{
    size_t n = strlen(key) + 1; /* the terminator too: "off" is not "offset" */
    for (int i = 0; i < r->n; i++) {
        if (memcmp(r->kv[i].key, key, n) == 0) {
            return &r->kv[i];
        }
    }
    return NULL;
}

/* Typed lookups: 0 absent, 1 present, -1 present with the wrong type. */
static int get_uint(const struct reader *r, const char *key, uint64_t *v)
{
    const struct kv *k = find(r, key);
    if (k == NULL) {
        return 0;
    }
    if (k->type != V_UINT) {
        return -1;
    }
    *v = k->u;
    return 1;
}

static int get_bool(const struct reader *r, const char *key, bool *v)
{
    const struct kv *k = find(r, key);
    if (k == NULL) {
        return 0;
    }
    if (k->type != V_BOOL) {
        return -1;
    }
    *v = k->b;
    return 1;
}

static int get_str(const struct reader *r, const char *key, uint8_t type, const uint8_t **p, size_t *len)
{
    const struct kv *k = find(r, key);
    if (k == NULL) {
        return 0;
    }
    if (k->type != type) {
        return -1;
    }
    *p = k->p;
    *len = k->len;
    return 1;
}

/* ---- writing a response ------------------------------------------------------ */

struct writer {
    uint8_t *p;
    size_t cap, len;
    bool overflow;
};

static void w_put(struct writer *w, size_t n)
{
    if (n == 0) {
        w->overflow = true;
    }
    w->len += n;
}

#define W_SPACE(w) ((w)->p + (w)->len), ((w)->overflow ? 0 : (w)->cap - (w)->len)

static void w_map(struct writer *w, size_t n) { w_put(w, cbor_encode_map_start(n, W_SPACE(w))); }
static void w_array(struct writer *w, size_t n) { w_put(w, cbor_encode_array_start(n, W_SPACE(w))); }
static void w_uint(struct writer *w, uint64_t v) { w_put(w, cbor_encode_uint(v, W_SPACE(w))); }
static void w_bool(struct writer *w, bool v) { w_put(w, cbor_encode_bool(v, W_SPACE(w))); }

static void w_bytes(struct writer *w, bool text, const void *d, size_t n)
{
    w_put(w, text ? cbor_encode_string_start(n, W_SPACE(w)) : cbor_encode_bytestring_start(n, W_SPACE(w)));
    if (!w->overflow && w->cap - w->len >= n) {
        memcpy(w->p + w->len, d, n);
        w->len += n;
    } else {
        w->overflow = true;
    }
}

static void w_str(struct writer *w, const char *s) { w_bytes(w, true, s, strlen(s)); }

static void w_key_uint(struct writer *w, const char *k, uint64_t v)
{
    w_str(w, k);
    w_uint(w, v);
}

static void w_key_bool(struct writer *w, const char *k, bool v)
{
    w_str(w, k);
    w_bool(w, v);
}

/* ---- errors ---------------------------------------------------------------- */

/* An SMP-layer error, or any error of an SMP v1 request: {"rc": N}. */
static void err_rc(struct writer *w, int rc)
{
    w_map(w, 1);
    w_key_uint(w, "rc", (uint64_t)rc);
}

/* A group error: v2 {"err": {"group": G, "rc": N}}; v1 the general code. */
static void err_group(struct writer *w, const struct tb_smp_hdr *h, int group_rc, int v1_rc)
{
    if (h->version == 0) {
        err_rc(w, v1_rc);
        return;
    }
    w_map(w, 1);
    w_str(w, "err");
    w_map(w, 2);
    w_key_uint(w, "group", h->group);
    w_key_uint(w, "rc", (uint64_t)group_rc);
}

/* ---- OS group ------------------------------------------------------------- */

static void os_handle(struct tb_smp_server *s, const struct tb_smp_hdr *h, const struct reader *r, struct writer *w)
{
    const uint8_t *p;
    size_t n;
    switch (h->id) {
    case 0: /* echo */
        if (get_str(r, "d", V_TSTR, &p, &n) != 1) {
            err_rc(w, TB_MGMT_EINVAL);
            return;
        }
        w_map(w, 1);
        w_str(w, "r");
        w_bytes(w, true, p, n);
        return;
    case 5: { /* reset: answer first, reset after the answer is sent */
        uint64_t force;
        if (h->op != TB_SMP_OP_WRITE || get_uint(r, "force", &force) < 0) {
            err_rc(w, TB_MGMT_EINVAL);
            return;
        }
        s->reset_requested = true;
        w_map(w, 0);
        return;
    }
    case 6: /* mcumgr params */
        w_map(w, 2);
        w_key_uint(w, "buf_size", s->env.buf_size);
        w_key_uint(w, "buf_count", s->env.buf_count);
        return;
    case 7: /* OS / application info */
        if (get_str(r, "format", V_TSTR, &p, &n) < 0) {
            err_rc(w, TB_MGMT_EINVAL);
            return;
        }
        w_map(w, 1);
        w_str(w, "output");
        w_str(w, s->env.app_info != NULL ? s->env.app_info : "twinboot");
        return;
    case 8: { /* bootloader info */
        int q = get_str(r, "query", V_TSTR, &p, &n);
        if (q < 0) {
            err_rc(w, TB_MGMT_EINVAL);
        } else if (q == 0) {
            /* twinboot speaks MCUboot's image and trailer format: tools key on this name */
            w_map(w, 1);
            w_str(w, "bootloader");
            w_str(w, "MCUboot");
        } else if (n == 4 && memcmp(p, "mode", 4) == 0) {
            /* MCUBOOT_MODE_SWAP_USING_MOVE (3): swap with revert, as image 0 behaves */
            w_map(w, 1);
            w_key_uint(w, "mode", 3);
        } else {
            err_rc(w, TB_MGMT_ENOTSUP);
        }
        return;
    }
    default: err_rc(w, TB_MGMT_ENOTSUP); return;
    }
}

/* ---- image group ----------------------------------------------------------- */

/* Decimal digits of v at out; returns how many. */
static size_t put_dec(char *out, uint32_t v)
{
    char d[10];
    size_t k = 0, n = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (k > 0) {
        out[n++] = d[--k];
    }
    return n;
}

/* "1.2.3" as Zephyr prints it, "+build" only when there is one (out >= 40 bytes) */
static void version_str(const struct tb_image_version *v, char *out)
{
    size_t n = put_dec(out, v->major);
    out[n++] = '.';
    n += put_dec(out + n, v->minor);
    out[n++] = '.';
    n += put_dec(out + n, v->revision);
    if (v->build != 0) {
        out[n++] = '.'; /* Zephyr's img_mgmt_ver_str: "1.2.3.7" */
        n += put_dec(out + n, v->build);
    }
    out[n] = '\0';
}

static int slot_state(const struct tb_smp_server *s, int image, int slot, struct tb_slot_state *st);

/* Slot 1 as MCUboot users know it: the secondary's image, or, when it holds
 * nothing new (empty, or a copy of what runs), the previous image kept in
 * the backup. *backup says which. */
static int slot1_state(const struct tb_smp_server *s, int image, struct tb_slot_state *st, bool *backup)
{
    struct tb_slot_state pri, bak;
    *backup = false;
    int rc = tb_boot_slot_state(s->env.cfg, image, 1, st);
    if (rc == TB_OK) {
        rc = slot_state(s, image, 0, &pri);
    }
    if (rc != TB_OK || (st->present && (!pri.present || memcmp(st->hash, pri.hash, 32) != 0))) {
        return rc;
    }
    rc = tb_boot_backup_state(s->env.cfg, image, &bak);
    if (rc == TB_OK && bak.present && (!pri.present || memcmp(bak.hash, pri.hash, 32) != 0)) {
        *st = bak;
        *backup = true;
    } else if (rc == TB_OK && st->present) {
        memset(st, 0, sizeof(*st)); /* a copy of what runs: nothing to offer */
    }
    return rc;
}

/* tb_boot_slot_state, and for a net image the journal does not know yet
 * (flashed in the factory), what the bootloader saw the net core run;
 * slot 1 as slot1_state says. */
static int slot_state(const struct tb_smp_server *s, int image, int slot, struct tb_slot_state *st)
{
    bool backup;
    if (slot == 1) {
        return slot1_state(s, image, st, &backup);
    }
    int rc = tb_boot_slot_state(s->env.cfg, image, slot, st);
    const struct tb_boot_record *rec = s->env.rec;
    if (rc == TB_OK && slot == 0 && !st->present && rec != NULL && image < rec->image_count &&
        s->env.cfg->layout->img[image].strategy == TB_STRATEGY_HANDOVER && rec->img[image].valid) {
        st->present = st->bootable = true;
        st->ver = rec->img[image].to;
        memcpy(st->hash, rec->img[image].to_hash, 32);
        st->confirmed = rec->img[image].confirmed;
    }
    return rc;
}

static bool running(const struct tb_smp_server *s, int image, const struct tb_slot_state *st)
{
    const struct tb_boot_record *rec = s->env.rec;
    return rec != NULL && image < rec->image_count && rec->img[image].valid &&
           memcmp(rec->img[image].to_hash, st->hash, 32) == 0;
}

/* {"images": [...]} as Zephyr's image state read. */
static int state_response(struct tb_smp_server *s, struct writer *w)
{
    struct tb_slot_state st[TB_MAX_IMAGES][2];
    const struct tb_boot_config *cfg = s->env.cfg;
    size_t count = 0;
    for (int i = 0; i < cfg->layout->image_count; i++) {
        for (int k = 0; k < 2; k++) {
            int rc = slot_state(s, i, k, &st[i][k]);
            if (rc != TB_OK) {
                return rc;
            }
            count += st[i][k].present;
        }
    }
    w_map(w, 1);
    w_str(w, "images");
    w_array(w, count);
    for (int i = 0; i < cfg->layout->image_count; i++) {
        for (int k = 0; k < 2; k++) {
            const struct tb_slot_state *t = &st[i][k];
            if (!t->present) {
                continue;
            }
            char ver[40];
            bool active = k == 0 && running(s, i, t);
            bool confirmed = k == 0 && t->confirmed;
            version_str(&t->ver, ver);
            /* false booleans are left out, as Zephyr does */
            w_map(w, 4 + (size_t)t->bootable + t->pending + confirmed + active + t->permanent);
            w_key_uint(w, "image", (uint64_t)i);
            w_key_uint(w, "slot", (uint64_t)k);
            w_str(w, "version");
            w_str(w, ver);
            w_str(w, "hash");
            w_bytes(w, false, t->hash, 32);
            if (t->bootable) {
                w_key_bool(w, "bootable", true);
            }
            if (t->pending) {
                w_key_bool(w, "pending", true);
            }
            if (confirmed) {
                w_key_bool(w, "confirmed", true);
            }
            if (active) {
                w_key_bool(w, "active", true);
            }
            if (t->permanent) {
                w_key_bool(w, "permanent", true);
            }
        }
    }
    return TB_OK;
}

static void state_write(struct tb_smp_server *s, const struct tb_smp_hdr *h, const struct reader *r, struct writer *w)
{
    const struct tb_boot_config *cfg = s->env.cfg;
    const uint8_t *hash = NULL;
    size_t hlen = 0;
    bool confirm = false;
    int hh = get_str(r, "hash", V_BSTR, &hash, &hlen);
    if (hh < 0 || get_bool(r, "confirm", &confirm) < 0 || (hh == 1 && hlen != 32)) {
        err_rc(w, TB_MGMT_EINVAL);
        return;
    }
    int rc = TB_OK;
    if (hh == 0) {
        /* no hash: only "confirm the running image" makes sense */
        if (!confirm) {
            err_rc(w, TB_MGMT_EINVAL);
            return;
        }
        rc = tb_boot_confirm(cfg, 0);
    } else {
        int found = 0;
        for (int i = 0; i < cfg->layout->image_count && !found && rc == TB_OK; i++) {
            for (int k = 0; k < 2 && !found; k++) {
                struct tb_slot_state t;
                bool backup = false;
                rc = k == 1 ? slot1_state(s, i, &t, &backup) : slot_state(s, i, k, &t);
                if (rc != TB_OK || !t.present || memcmp(t.hash, hash, 32) != 0) {
                    continue;
                }
                found = 1;
                if (k == 0) {
                    /* the image in slot 0: confirm it; "test" of what already runs is refused */
                    if (!confirm) {
                        err_group(w, h, TB_IMG_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED, TB_MGMT_EBADSTATE);
                        return;
                    }
                    rc = tb_boot_confirm(cfg, i);
                } else if (backup) {
                    rc = tb_boot_request_backup(cfg, i, hash, confirm); /* back to the previous image */
                } else {
                    rc = tb_boot_request(cfg, i, confirm);
                }
            }
        }
        if (rc == TB_OK && !found) {
            err_group(w, h, TB_IMG_ERR_HASH_NOT_FOUND, TB_MGMT_EINVAL);
            return;
        }
    }
    if (rc != TB_OK) {
        err_group(w, h, TB_IMG_ERR_FLASH_WRITE_FAILED, TB_MGMT_EUNKNOWN);
        return;
    }
    if (state_response(s, w) != TB_OK) {
        w->len = 0;
        w->overflow = false;
        err_rc(w, TB_MGMT_EUNKNOWN);
    }
}

/* The slot an upload of image i goes to, less its trailer sector. */
static int upload_area(const struct tb_smp_server *s, int image, struct tb_area *a)
{
    const struct tb_boot_config *cfg = s->env.cfg;
    if (image < 0 || image >= cfg->layout->image_count) {
        return TB_E_INVAL;
    }
    int rc = tb_region_area(cfg->dev, &cfg->layout->img[image].secondary, a);
    if (rc == TB_OK) {
        a->size -= a->flash->sector_size;
    }
    return rc;
}

/* The uploaded image fits its primary once installed: for a compressed
 * image, the image it rebuilds (DECOMP_SIZE), which the secondary's size
 * says nothing about. Only TB_E_IMG_TOO_LARGE is a verdict. */
static int upload_fits_primary(const struct tb_smp_server *s, int image, const struct tb_area *sec)
{
    struct tb_area pri;
    int rc = tb_region_area(s->env.cfg->dev, &s->env.cfg->layout->img[image].primary, &pri);
    return rc == TB_OK ? tb_decomp_fits(sec, pri.size - pri.flash->sector_size) : rc;
}

/* The largest image the device can take for image i (slot_info's
 * max_image_size): the secondary less its trailer sector; a net-core image
 * must also fit the net core's own slot and the shared window it is handed
 * over through, or the bootloader would refuse it after the whole upload. */
static uint32_t upload_max(const struct tb_smp_server *s, int image)
{
    const struct tb_boot_config *cfg = s->env.cfg;
    struct tb_area a;
    if (upload_area(s, image, &a) != TB_OK) {
        return 0;
    }
    uint32_t max = a.size;
    if (cfg->layout->img[image].strategy == TB_STRATEGY_HANDOVER) {
        uint32_t pri = cfg->layout->img[image].primary.size, win = tb_nc_window_size(&cfg->shm);
        max = pri < max ? pri : max;
        max = win != 0 && win < max ? win : max;
    }
    return max;
}

/* The whole secondary (with its trailer sector): where the session record lives. */
static int session_area(const struct tb_smp_server *s, int image, struct tb_area *a)
{
    return tb_region_area(s->env.cfg->dev, &s->env.cfg->layout->img[image].secondary, a);
}

/* Erase the slot's sectors up to end, as the upload reaches them (as
 * Zephyr's progressive erase): no long pause on the first chunk. */
static int ensure_erased(struct tb_smp_upload *u, const struct tb_area *a, uint32_t end)
{
    while (u->erased < end && u->erased < a->size) {
        int rc = tb_area_erase(a, u->erased, a->flash->sector_size);
        if (rc != TB_OK) {
            return rc;
        }
        u->erased += a->flash->sector_size;
    }
    return TB_OK;
}

/* Write n bytes at u->off: whole write blocks at once, a partial block
 * waits in tail for the next chunk (or is padded with erased bytes at the end). */
static int upload_write(struct tb_smp_upload *u, const struct tb_area *a, const uint8_t *d, size_t n, bool last)
{
    const uint32_t ws = a->flash->write_size;
    int rc = TB_OK;
    if (ws == 0 || ws > sizeof(u->tail)) {
        return TB_E_ALIGN;
    }
    while (n > 0 && rc == TB_OK) {
        if (u->tail_len == 0 && n >= ws) {
            uint32_t m = (uint32_t)(n / ws * ws);
            rc = ensure_erased(u, a, u->off + m);
            if (rc == TB_OK) {
                rc = tb_area_program(a, u->off, d, m);
            }
            u->off += m;
            d += m;
            n -= m;
            continue;
        }
        uint32_t take = ws - u->tail_len < n ? ws - u->tail_len : (uint32_t)n;
        memcpy(u->tail + u->tail_len, d, take);
        u->tail_len += take;
        u->off += take;
        d += take;
        n -= take;
        if (u->tail_len == ws) {
            rc = ensure_erased(u, a, u->off);
            if (rc == TB_OK) {
                rc = tb_area_program(a, u->off - ws, u->tail, ws);
            }
            u->tail_len = 0;
        }
    }
    if (rc == TB_OK && last && u->tail_len > 0) {
        uint32_t base = u->off - u->tail_len;
        memset(u->tail + u->tail_len, a->flash->erased_val, ws - u->tail_len);
        rc = ensure_erased(u, a, base + ws);
        if (rc == TB_OK) {
            rc = tb_area_program(a, base, u->tail, ws);
        }
        u->tail_len = 0;
    }
    return rc;
}

/* Zephyr's checks of a first chunk (img_mgmt_upload_inspect): it starts with
 * an MCUboot header, and the file fits the slot and holds what the header
 * announces. 0, or the image group error to answer with. */
static int inspect_first(const struct tb_smp_server *s, int image, uint64_t len, const uint8_t *data, size_t dlen)
{
    struct tb_image_header hd;
    if (dlen < TB_IMAGE_HEADER_SIZE) {
        return TB_IMG_ERR_INVALID_IMAGE_HEADER;
    }
    tb_image_header_decode(data, &hd);
    if (hd.magic != TB_IMAGE_MAGIC) {
        return TB_IMG_ERR_INVALID_IMAGE_HEADER_MAGIC;
    }
    if (len > upload_max(s, image)) {
        return TB_IMG_ERR_INVALID_IMAGE_TOO_LARGE;
    }
    if (hd.hdr_size < TB_IMAGE_HEADER_SIZE || (uint64_t)hd.hdr_size + hd.img_size > len) {
        return TB_IMG_ERR_INVALID_IMAGE_HEADER;
    }
    return 0;
}

/* SHA-256 of the slot's bytes [0, n), read back from flash. */
static int hash_slot(const struct tb_area *a, uint32_t n, struct tb_hash_ctx *hc)
{
    uint8_t buf[256];
    int rc = tb_hash_init(hc, TB_HASH_SHA256);
    for (uint32_t off = 0; off < n && rc == TB_OK; off += sizeof(buf)) {
        uint32_t k = n - off < sizeof(buf) ? n - off : (uint32_t)sizeof(buf);
        rc = tb_area_read(a, off, buf, k);
        if (rc == TB_OK) {
            rc = tb_hash_update(hc, buf, k);
        }
    }
    return rc;
}

static bool all_erased(const struct tb_area *a, uint32_t off, uint32_t end, int *rc)
{
    uint8_t buf[256];
    *rc = TB_OK;
    while (off < end) {
        uint32_t k = end - off < sizeof(buf) ? end - off : (uint32_t)sizeof(buf);
        *rc = tb_area_read(a, off, buf, k);
        if (*rc != TB_OK) {
            return false;
        }
        for (uint32_t i = 0; i < k; i++) {
            if (buf[i] != a->flash->erased_val) {
                return false;
            }
        }
        off += k;
    }
    return true;
}

/* After a reset: take up the session recorded in flash for this very file.
 * 1 resumed (u->off is where to go on; u->active, or the whole file is
 * there and verified: *complete), 0 nothing to resume, <0 a flash error. */
static int resume_from_flash(struct tb_smp_server *s, int image, uint64_t len, const uint8_t *sha, bool *complete)
{
    struct tb_smp_upload *u = &s->up;
    struct tb_area a, full;
    struct tb_smp_session ses;
    *complete = false;
    int rc = upload_area(s, image, &a);
    if (rc == TB_OK) {
        rc = session_area(s, image, &full);
    }
    if (rc == TB_OK) {
        rc = tb_smp_session_load(&full, s->env.cfg->layout->max_align, &ses);
    }
    if (rc <= 0) {
        return rc;
    }
    if (ses.image != image || ses.len != len || memcmp(ses.sha, sha, 32) != 0 || ses.off == 0) {
        return 0;
    }
    /* The bytes after the durable offset may have been programmed when the
     * power went: the rest of that sector goes back to the sector's start
     * (recorded first, so that nothing unrecorded is ever trusted). */
    const uint32_t ss = a.flash->sector_size;
    uint32_t x = ses.off, sect = x / ss * ss;
    if (x % ss != 0 && x < len) {
        bool clean = all_erased(&a, x, sect + ss, &rc);
        if (rc != TB_OK) {
            return rc;
        }
        if (!clean) {
            rc = tb_smp_session_mark(&full, &ses, sect);
            if (rc == TB_OK) {
                rc = tb_area_erase(&a, sect, ss);
            }
            if (rc != TB_OK) {
                return rc;
            }
            x = sect;
        }
    }
    if (u->active) {
        tb_hash_abort(&u->hash);
    }
    memset(u, 0, sizeof(*u));
    rc = hash_slot(&a, x, &u->hash);
    if (rc != TB_OK) {
        tb_hash_abort(&u->hash);
        return rc;
    }
    u->image = (uint8_t)image;
    u->len = (uint32_t)len;
    u->has_sha = true;
    memcpy(u->sha, sha, 32);
    u->off = x;
    u->erased = (x + ss - 1) / ss * ss;
    u->ses = ses;
    u->ses.off = x;
    if (x < len) {
        u->active = true;
        return 1;
    }
    uint8_t digest[32];
    rc = tb_hash_finish(&u->hash, digest);
    if (rc != TB_OK) {
        return rc;
    }
    *complete = memcmp(digest, sha, 32) == 0;
    return *complete ? 1 : 0;
}

/* A new upload: the old request and session go, the new session is recorded. */
static int upload_start(struct tb_smp_server *s, int image, uint64_t len, const uint8_t *sha)
{
    struct tb_smp_upload *u = &s->up;
    struct tb_area full;
    if (u->active) {
        tb_hash_abort(&u->hash);
    }
    memset(u, 0, sizeof(*u));
    u->image = (uint8_t)image;
    u->len = (uint32_t)len;
    u->has_sha = sha != NULL;
    if (sha != NULL) {
        memcpy(u->sha, sha, 32);
    }
    u->ses.image = u->image;
    u->ses.len = u->len;
    memcpy(u->ses.sha, u->sha, 32);
    /* erasing the trailer sector also drops an old request: it must not apply to the new image */
    int rc = session_area(s, image, &full);
    if (rc == TB_OK) {
        rc = tb_smp_session_start(&full, s->env.cfg->layout->max_align, &u->ses);
    }
    if (rc == TB_OK) {
        rc = tb_hash_init(&u->hash, TB_HASH_SHA256);
    }
    u->active = rc == TB_OK;
    return rc;
}

/* After a chunk: record the offset up to which the slot holds the file, every
 * step bytes and at the end. A full record area only stops the recording. */
static int upload_mark(struct tb_smp_server *s, bool last)
{
    struct tb_smp_upload *u = &s->up;
    struct tb_area full;
    uint32_t flushed = u->off - u->tail_len;
    if (!u->has_sha || session_area(s, u->image, &full) != TB_OK) {
        return TB_OK; /* without the file's sha a resumed upload could not be told apart */
    }
    if (!last && flushed < u->ses.off + tb_smp_session_step(&full, &u->ses)) {
        return TB_OK;
    }
    int rc = tb_smp_session_mark(&full, &u->ses, flushed);
    return rc == TB_E_NOSPACE ? TB_OK : rc;
}

static void upload(struct tb_smp_server *s, const struct tb_smp_hdr *h, const struct reader *r, struct writer *w)
{
    struct tb_smp_upload *u = &s->up;
    uint64_t off, len = 0, image = 0;
    const uint8_t *data, *sha = NULL;
    size_t dlen, shalen = 0;
    bool upgrade = false;
    if (get_uint(r, "off", &off) != 1 || get_str(r, "data", V_BSTR, &data, &dlen) != 1 ||
        get_uint(r, "len", &len) < 0 || get_uint(r, "image", &image) < 0 || get_bool(r, "upgrade", &upgrade) < 0 ||
        get_str(r, "sha", V_BSTR, &sha, &shalen) < 0 || (sha != NULL && shalen != 32)) {
        err_rc(w, TB_MGMT_EINVAL);
        return;
    }
    struct tb_area a;
    if (off == 0) {
        if (find(r, "len") == NULL || len == 0) {
            err_group(w, h, TB_IMG_ERR_INVALID_LENGTH, TB_MGMT_EINVAL);
            return;
        }
        if (image > 255 || upload_area(s, (int)image, &a) != TB_OK) {
            err_group(w, h, TB_IMG_ERR_INVALID_SLOT, TB_MGMT_EINVAL);
            return;
        }
        int bad = inspect_first(s, (int)image, len, data, dlen);
        if (bad != 0) {
            err_group(w, h, bad, TB_MGMT_EINVAL);
            return;
        }
        /* the same file again (same image, length and sha): carry on where it stopped */
        if (u->active && sha != NULL && u->has_sha && u->image == image && u->len == len &&
            memcmp(u->sha, sha, 32) == 0 && u->off > 0) {
            w_map(w, 1);
            w_key_uint(w, "off", u->off);
            return;
        }
        struct tb_slot_state st;
        if (slot_state(s, (int)image, 1, &st) == TB_OK && st.pending) { /* also a request for the backup */
            err_group(w, h, TB_IMG_ERR_IMAGE_ALREADY_PENDING, TB_MGMT_EBADSTATE);
            return;
        }
        /* ... also after a reset, from the session recorded in flash */
        bool complete = false;
        int rc = sha != NULL ? resume_from_flash(s, (int)image, len, sha, &complete) : 0;
        if (rc == TB_E_POWER) {
            err_group(w, h, TB_IMG_ERR_FLASH_READ_FAILED, TB_MGMT_EUNKNOWN);
            return;
        }
        /* a session that cannot be taken up (its record full, a flash error)
         * is never a dead end: the upload starts again from 0 */
        if (rc == 1) {
            w_map(w, complete ? 2 : 1);
            w_key_uint(w, "off", u->off);
            if (complete) {
                w_key_bool(w, "match", true);
            }
            return;
        }
        if (upgrade) {
            /* "upgrade": only a newer version than the one running */
            struct tb_image_header hd;
            struct tb_slot_state cur;
            tb_image_header_decode(data, &hd);
            if (tb_boot_slot_state(s->env.cfg, (int)image, 0, &cur) == TB_OK && cur.present &&
                tb_version_cmp(&hd.ver, &cur.ver, false) <= 0) {
                err_group(w, h, TB_IMG_ERR_CURRENT_VERSION_IS_NEWER, TB_MGMT_EBADSTATE);
                return;
            }
        }
        if (upload_start(s, (int)image, len, sha) != TB_OK) {
            err_group(w, h, TB_IMG_ERR_FLASH_ERASE_FAILED, TB_MGMT_EUNKNOWN);
            return;
        }
    } else if (!u->active) {
        /* data for an upload this device does not know (it was reset): start again */
        w_map(w, 1);
        w_key_uint(w, "off", 0);
        return;
    }
    if (off != u->off) {
        /* not where the upload is: drop the data and say where it is (Zephyr does the same) */
        w_map(w, 1);
        w_key_uint(w, "off", u->off);
        return;
    }
    if (dlen > u->len - u->off) {
        err_group(w, h, TB_IMG_ERR_INVALID_IMAGE_DATA_OVERRUN, TB_MGMT_EINVAL);
        return;
    }
    int rc = upload_area(s, u->image, &a);
    bool last = u->off + dlen == u->len;
    if (rc == TB_OK) {
        rc = tb_hash_update(&u->hash, data, dlen);
    }
    if (rc == TB_OK) {
        rc = upload_write(u, &a, data, dlen, last);
    }
    if (rc == TB_OK) {
        rc = upload_mark(s, last);
    }
    if (rc != TB_OK) {
        tb_hash_abort(&u->hash);
        u->active = false;
        err_group(w, h, TB_IMG_ERR_FLASH_WRITE_FAILED, TB_MGMT_EUNKNOWN);
        return;
    }
    if (!last) {
        w_map(w, 1);
        w_key_uint(w, "off", u->off);
        return;
    }
    uint8_t digest[32];
    u->active = false;
    if (tb_hash_finish(&u->hash, digest) != TB_OK) {
        err_rc(w, TB_MGMT_EUNKNOWN);
        return;
    }
    if (u->has_sha && memcmp(digest, u->sha, 32) != 0) {
        err_group(w, h, TB_IMG_ERR_INVALID_HASH, TB_MGMT_EINVAL);
        return;
    }
    if (upload_fits_primary(s, u->image, &a) == TB_E_IMG_TOO_LARGE) {
        err_group(w, h, TB_IMG_ERR_INVALID_IMAGE_TOO_LARGE, TB_MGMT_EINVAL);
        return;
    }
    w_map(w, 2);
    w_key_uint(w, "off", u->off);
    w_key_bool(w, "match", true);
}

static void erase(struct tb_smp_server *s, const struct tb_smp_hdr *h, const struct reader *r, struct writer *w)
{
    uint64_t slot = 1;
    if (get_uint(r, "slot", &slot) < 0) {
        err_rc(w, TB_MGMT_EINVAL);
        return;
    }
    /* Zephyr numbers slots across images: 0/1 image 0, 2/3 image 1; even = running */
    int image = (int)(slot / 2);
    if (slot > 2U * s->env.cfg->layout->image_count - 1U) {
        err_group(w, h, TB_IMG_ERR_INVALID_SLOT, TB_MGMT_EINVAL);
        return;
    }
    if (slot % 2 == 0) {
        err_group(w, h, TB_IMG_ERR_INVALID_SLOT, TB_MGMT_EBADSTATE); /* never the running slot */
        return;
    }
    struct tb_slot_state st;
    if (slot_state(s, image, 1, &st) == TB_OK && st.pending) {
        err_group(w, h, TB_IMG_ERR_IMAGE_ALREADY_PENDING, TB_MGMT_EBADSTATE);
        return;
    }
    struct tb_area a;
    int rc = tb_region_area(s->env.cfg->dev, &s->env.cfg->layout->img[image].secondary, &a);
    if (rc == TB_OK) {
        rc = tb_area_erase(&a, 0, a.size);
    }
    if (rc != TB_OK) {
        err_group(w, h, TB_IMG_ERR_FLASH_ERASE_FAILED, TB_MGMT_EUNKNOWN);
        return;
    }
    if (s->up.active && s->up.image == image) {
        tb_hash_abort(&s->up.hash);
        s->up.active = false;
    }
    w_map(w, 0);
}

static void slot_info(struct tb_smp_server *s, struct writer *w)
{
    const struct tb_layout *l = s->env.cfg->layout;
    w_map(w, 1);
    w_str(w, "images");
    w_array(w, l->image_count);
    for (int i = 0; i < l->image_count; i++) {
        uint32_t max = upload_max(s, i);
        w_map(w, 3);
        w_key_uint(w, "image", (uint64_t)i);
        w_str(w, "slots");
        w_array(w, 2);
        w_map(w, 2);
        w_key_uint(w, "slot", 0);
        w_key_uint(w, "size", l->img[i].primary.size);
        w_map(w, 3);
        w_key_uint(w, "slot", 1);
        w_key_uint(w, "size", l->img[i].secondary.size);
        w_key_uint(w, "upload_image_id", (uint64_t)i);
        w_key_uint(w, "max_image_size", max);
    }
}

static void image_handle(struct tb_smp_server *s, const struct tb_smp_hdr *h, const struct reader *r,
                         struct writer *w)
{
    bool write = h->op == TB_SMP_OP_WRITE;
    switch (h->id) {
    case 0:
        if (write) {
            state_write(s, h, r, w);
        } else if (state_response(s, w) != TB_OK) {
            w->len = 0;
            err_rc(w, TB_MGMT_EUNKNOWN);
        }
        return;
    case 1:
        if (!write) {
            err_rc(w, TB_MGMT_ENOTSUP);
            return;
        }
        upload(s, h, r, w);
        return;
    case 5:
        if (!write) {
            err_rc(w, TB_MGMT_ENOTSUP);
            return;
        }
        erase(s, h, r, w);
        return;
    case 6:
        slot_info(s, w);
        return;
    default: err_rc(w, TB_MGMT_ENOTSUP); return;
    }
}

/* ---- entry ------------------------------------------------------------------ */

void tb_smp_init(struct tb_smp_server *s, const struct tb_smp_env *env)
{
    memset(s, 0, sizeof(*s));
    s->env = *env;
}

int tb_smp_handle(struct tb_smp_server *s, const uint8_t *req, size_t req_len, uint8_t *rsp, size_t rsp_cap,
                  size_t *rsp_len)
{
    uint8_t raw[TB_SMP_HDR_SIZE] = {0};
    struct tb_smp_hdr h, rh;
    struct reader r;
    if (s == NULL || req == NULL || rsp == NULL || rsp_len == NULL || req_len == 0 || rsp_cap < TB_SMP_HDR_SIZE + 16) {
        return TB_E_INVAL;
    }
    memcpy(raw, req, req_len < sizeof(raw) ? req_len : sizeof(raw));
    tb_smp_hdr_decode(raw, &h);
    if (h.op == TB_SMP_OP_READ_RSP || h.op == TB_SMP_OP_WRITE_RSP) {
        return TB_E_INVAL; /* a response: nothing to answer */
    }
    struct writer w = {rsp + TB_SMP_HDR_SIZE, rsp_cap - TB_SMP_HDR_SIZE, 0, false};
    if (req_len >= TB_SMP_HDR_SIZE && s->env.buf_size != 0 && h.len + TB_SMP_HDR_SIZE > s->env.buf_size) {
        /* more than "mcumgr params" announced (the transport kept only its
         * start): say so at once rather than leave the client waiting */
        err_rc(&w, TB_MGMT_EMSGSIZE);
    } else if (req_len < TB_SMP_HDR_SIZE || h.len != req_len - TB_SMP_HDR_SIZE || h.op > TB_SMP_OP_WRITE_RSP ||
               h.version > 1) {
        err_rc(&w, TB_MGMT_EINVAL); /* truncated, or the length does not match */
    } else if (parse_map(req + TB_SMP_HDR_SIZE, h.len, &r) != TB_OK) {
        err_rc(&w, TB_MGMT_EINVAL); /* not a CBOR map */
    } else if (h.group == TB_SMP_GROUP_OS) {
        os_handle(s, &h, &r, &w);
    } else if (h.group == TB_SMP_GROUP_IMAGE) {
        image_handle(s, &h, &r, &w);
    } else {
        err_rc(&w, TB_MGMT_ENOTSUP);
    }
    if (w.overflow) {
        w.len = 0;
        w.overflow = false;
        err_rc(&w, TB_MGMT_EMSGSIZE);
    }
    rh = h;
    rh.op = (uint8_t)(h.op | 1U);
    rh.version = h.version > 1 ? 1 : h.version;
    rh.flags = 0;
    rh.len = (uint16_t)w.len;
    tb_smp_hdr_encode(&rh, rsp);
    *rsp_len = TB_SMP_HDR_SIZE + w.len;
    return TB_OK;
}
