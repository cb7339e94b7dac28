#define _POSIX_C_SOURCE 200809L
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keyfile.h"
#include "twinboot/crypto.h"
#include "twinboot/error.h"

#define V TB_VECTORS_DIR "/"
#define NET_SLOT 0x8000U
#define NET_SEC 0x9000U

void world_init(struct world *w, uint8_t strategy, uint32_t slot, bool net)
{
    char err[256];
    size_t len;
    memset(w, 0, sizeof(*w));
    assert_int_equal(tb_simdev_init(&w->d), TB_OK);
    w->dev.nflash = TB_SIM_NFLASH;
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        w->dev.flashes[i] = &w->d.fl[i].flash;
    }
    w->lay.image_count = net ? 2 : 1;
    w->lay.max_align = 8;
    struct tb_image_layout *im = &w->lay.img[0];
    im->strategy = strategy;
    im->primary = (struct tb_region){TB_SIM_APP, 0x10000, slot};
    im->secondary = (struct tb_region){TB_SIM_QSPI, 0x0, slot};
    im->backup = strategy == TB_STRATEGY_SWAP ? (struct tb_region){TB_SIM_QSPI, 0x100000, slot}
                                              : (struct tb_region){0, 0, 0};
    im->status = (struct tb_region){TB_SIM_QSPI, 0x240000, 0x2000};
    struct tb_key *k0 = &w->key;
    struct tbk_key *k = tbk_load(V "key-ed25519.pem", err, sizeof(err));
    assert_non_null(k);
    assert_int_equal(tbk_pub_der(k, &w->der, &len), 0);
    *k0 = (struct tb_key){TB_KEY_ED25519, w->der, (uint16_t)len};
    tbk_free(k);
    w->cfg = (struct tb_boot_config){.layout = &w->lay, .dev = &w->dev, .keys = {&w->key, 1}};
    if (net) {
        struct tb_image_layout *n1 = &w->lay.img[1];
        n1->strategy = TB_STRATEGY_HANDOVER;
        n1->primary = (struct tb_region){TB_SIM_NET, 0x8000, NET_SLOT};
        n1->secondary = (struct tb_region){TB_SIM_QSPI, 0x200000, NET_SEC};
        /* two halves, as on the DK: the backup, and the copy of the last image installed */
        n1->backup = (struct tb_region){TB_SIM_QSPI, 0x1f0000 - 2 * NET_SEC, 2 * NET_SEC};
        n1->status = (struct tb_region){TB_SIM_QSPI, 0x242000, 0x2000};
        struct tb_area app;
        assert_int_equal(tb_region_area(&w->dev, &n1->primary, &app), TB_OK);
        assert_int_equal(tb_simnet_init(&w->net, &w->d, &app, TB_NC_WINDOW_OFF + NET_SEC, 1), TB_OK);
        w->has_net = true;
        w->cfg.net = &w->net.ctl;
        w->cfg.shm = w->net.shm;
    }
}

void world_free(struct world *w)
{
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        free(w->mem[i]);
        free(w->written[i]);
    }
    if (w->has_net) {
        tb_simnet_free(&w->net);
    }
    free(w->der);
    tb_simdev_free(&w->d);
}

void world_snapshot(struct world *w)
{
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        struct tb_simflash *f = &w->d.fl[i];
        size_t wn = f->flash.size / f->flash.write_size;
        free(w->mem[i]);
        free(w->written[i]);
        w->mem[i] = malloc(f->flash.size);
        w->written[i] = malloc(wn);
        assert_non_null(w->mem[i]);
        assert_non_null(w->written[i]);
        memcpy(w->mem[i], f->mem, f->flash.size);
        memcpy(w->written[i], f->written, wn);
    }
}

void world_power_cycle(struct world *w, uint64_t seed)
{
    tb_simdev_power_on(&w->d);
    if (w->has_net) {
        tb_simnet_power_loss(&w->net, seed);
        w->net.rng = seed * 2654435761u + 1;
    }
}

void world_restore(struct world *w, uint64_t seed)
{
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        struct tb_simflash *f = &w->d.fl[i];
        memcpy(f->mem, w->mem[i], f->flash.size);
        memcpy(f->written, w->written[i], f->flash.size / f->flash.write_size);
    }
    world_power_cycle(w, seed);
}

struct tb_signed make_signed_opts(struct tb_sign_opts *o, size_t kib, uint32_t seed, const char *keyfile)
{
    char err[256], path[1024];
    struct tb_signed s;
    o->header_size = o->header_size ? o->header_size : 0x200;
    o->max_sectors = o->max_sectors ? o->max_sectors : 1;
    o->align = o->align > 1 ? o->align : 4;
    size_t len = kib * 1024;
    uint8_t *in = calloc(1, len);
    assert_non_null(in);
    uint32_t x = 0x9e3779b9u * o->version.major + seed * 0x85ebca6bu + 1;
    for (size_t i = o->header_size; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        in[i] = (uint8_t)x;
    }
    snprintf(path, sizeof(path), "%s%s", V, keyfile != NULL ? keyfile : "key-ed25519.pem");
    struct tbk_key *k = tbk_load(path, err, sizeof(err));
    assert_non_null(k);
    if (tb_sign_image(o, k, in, len, &s, err, sizeof(err)) != 0) {
        fail_msg("sign: %s", err);
    }
    tbk_free(k);
    free(in);
    return s;
}

struct tb_signed make_signed(uint8_t major, size_t kib, uint32_t slot, uint32_t seed, const struct tb_image_dep *deps,
                             size_t ndeps)
{
    struct tb_sign_opts o;
    tb_sign_opts_default(&o);
    o.slot_size = slot;
    o.version = (struct tb_image_version){major, 0, 0, 0};
    for (size_t i = 0; i < ndeps && i < TB_IMAGE_MAX_DEPS; i++) {
        o.deps[i] = deps[i];
    }
    o.ndeps = ndeps;
    return make_signed_opts(&o, kib, seed, NULL);
}

void put_region(struct world *w, const struct tb_region *r, const struct tb_signed *s)
{
    struct tb_area a;
    assert_int_equal(tb_region_area(&w->dev, r, &a), TB_OK);
    uint32_t ws = a.flash->write_size;
    size_t padded = (s->len + ws - 1) / ws * ws;
    uint8_t *buf = malloc(padded);
    assert_non_null(buf);
    memset(buf, 0xff, padded);
    memcpy(buf, s->data, s->len);
    assert_int_equal(tb_area_erase(&a, 0, a.size), TB_OK);
    assert_int_equal(tb_area_program(&a, 0, buf, (uint32_t)padded), TB_OK);
    free(buf);
}

const uint8_t *image_hash(const struct tb_signed *s)
{
    struct tb_image_header h;
    tb_image_header_decode(s->data, &h);
    const uint8_t *tlv = s->data + h.hdr_size + h.img_size + h.protect_tlv_size + 4;
    assert_int_equal(tlv[0], TB_TLV_SHA256);
    return tlv + 4;
}

uint32_t hashed_by_validation(struct world *w, const struct tb_region *r)
{
    struct tb_area a;
    struct tb_image_info info;
    struct tb_keyring none = {NULL, 0};
    struct tb_crypto_counts before, after;
    assert_int_equal(tb_region_area(&w->dev, r, &a), TB_OK);
    tb_crypto_counts(&before);
    assert_int_equal(tb_image_validate(&a, &none, &info), TB_OK);
    tb_crypto_counts(&after);
    assert_int_equal(after.sig_checks, before.sig_checks);
    return (uint32_t)(after.bytes_hashed - before.bytes_hashed);
}
