/* The net-core bootloader, as a step machine: the port calls
 * tb_netboot_step() in a loop (waiting a little on TB_NB_IDLE) and jumps to
 * the application on TB_NB_JUMP. In the simulator the app core's polling
 * runs these steps, interleaved by a seed.
 *
 * It trusts nothing in shared RAM: a block with a bad magic, version or CRC
 * is no block; a request already answered (same sequence number in the
 * response) is not done again; an image to install is checked against the
 * hash in the request and against its own SHA-256 TLV, and the installed
 * copy is checked again before DONE. It never jumps to an application that
 * does not validate: it answers NEED_IMAGE and waits. */
#include <string.h>

#include "twinboot/error.h"
#include "twinboot/image.h"
#include "twinboot/netcore.h"

/* A read-only flash over the shared window, so the image the app core put
 * there is validated by the same code that validates flash. */
static int win_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    const struct tb_netboot *nb = f->ctx;
    if (off > f->size || len > f->size - off) {
        return TB_E_RANGE;
    }
    tb_shm_read(&nb->shm, nb->req.addr + off, buf, len);
    return TB_OK;
}

/* The data of a request must lie in the window: never over the block itself. */
static bool in_window(const struct tb_netboot *nb, uint32_t addr, uint32_t len)
{
    return addr >= TB_NC_WINDOW_OFF && addr <= nb->shm.size && len <= nb->shm.size - addr;
}

static int win_noprog(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    (void)f, (void)off, (void)buf, (void)len;
    return TB_E_UNSUPPORTED;
}

static int win_noerase(const struct tb_flash *f, uint32_t off)
{
    (void)f, (void)off;
    return TB_E_UNSUPPORTED;
}

static const struct tb_keyring no_keys = {NULL, 0}; /* the app core checked the signature */

void tb_netboot_init(struct tb_netboot *nb, const struct tb_area *app, const struct tb_shmem *shm)
{
    memset(nb, 0, sizeof(*nb));
    nb->app = *app;
    nb->shm = *shm;
    nb->state = TB_NB_START;
}

void tb_netboot_reset(struct tb_netboot *nb)
{
    nb->state = TB_NB_START;
    nb->copy_off = 0;
    nb->last_seq = 0;
}

static int respond(struct tb_netboot *nb, uint8_t status, int32_t reason, const struct tb_image_info *info,
                   uint32_t size)
{
    struct tb_nc_response r;
    memset(&r, 0, sizeof(r));
    r.seq = nb->req.seq;
    r.status = status;
    r.reason = reason;
    r.size = size;
    if (info != NULL) {
        r.valid = 1;
        r.ver = info->hdr.ver;
        memcpy(r.hash, info->hash, 32);
        r.size = info->tlv_end;
    }
    return tb_nc_write_response(&nb->shm, &r);
}

/* Validate the installed application (hash only). */
static int own_image(struct tb_netboot *nb, struct tb_image_info *info)
{
    int rc = tb_image_validate(&nb->app, &no_keys, info);
    if (rc == TB_OK) {
        rc = tb_image_bootable(&info->hdr);
    }
    return rc;
}

static bool flash_error(int rc)
{
    return rc == TB_E_POWER || rc == TB_E_IO || rc == TB_E_REPROGRAM || rc == TB_E_ALIGN;
}

/* A new request, not yet answered: 1 (in nb->req), 0 none. */
static int new_request(struct tb_netboot *nb)
{
    struct tb_nc_request q;
    struct tb_nc_response r;
    if (tb_nc_read_request(&nb->shm, &q) != TB_OK || q.cmd == TB_NC_NONE) {
        return 0;
    }
    if (q.seq == nb->last_seq) {
        return 0;
    }
    /* answered before this reset (the response survives in RAM): not again */
    if (tb_nc_read_response(&nb->shm, &r) == TB_OK && r.seq == q.seq &&
        (r.status == TB_NC_ST_DONE || r.status == TB_NC_ST_FAIL)) {
        nb->last_seq = q.seq;
        return 0;
    }
    nb->req = q;
    nb->last_seq = q.seq;
    return 1;
}

static int start_command(struct tb_netboot *nb)
{
    struct tb_image_info info;
    struct tb_nc_request *q = &nb->req;
    int rc;
    switch (q->cmd) {
    case TB_NC_INFO:
        rc = own_image(nb, &info);
        if (flash_error(rc)) {
            return rc;
        }
        rc = rc == TB_OK ? respond(nb, TB_NC_ST_DONE, TB_OK, &info, 0) : respond(nb, TB_NC_ST_DONE, rc, NULL, 0);
        nb->state = TB_NB_IDLE;
        return rc;
    case TB_NC_BACKUP: {
        if (!in_window(nb, q->addr, q->len) || q->offset > nb->app.size || q->len > nb->app.size - q->offset) {
            nb->state = TB_NB_IDLE;
            return respond(nb, TB_NC_ST_FAIL, TB_E_RANGE, NULL, 0);
        }
        for (uint32_t off = 0; off < q->len; off += sizeof(nb->buf)) {
            uint32_t n = q->len - off < sizeof(nb->buf) ? q->len - off : (uint32_t)sizeof(nb->buf);
            rc = tb_area_read(&nb->app, q->offset + off, nb->buf, n);
            if (rc != TB_OK) {
                return rc;
            }
            tb_shm_write(&nb->shm, q->addr + off, nb->buf, n);
        }
        nb->state = TB_NB_IDLE;
        return respond(nb, TB_NC_ST_DONE, TB_OK, NULL, q->len);
    }
    case TB_NC_COPY: {
        /* the image in the window must be whole and be the one announced */
        struct tb_flash wf = {.name = "window", .size = q->len, .sector_size = 1, .write_size = 1,
                              .erased_val = 0xff, .read = win_read, .program = win_noprog,
                              .erase = win_noerase, .ctx = nb};
        struct tb_area wa = {&wf, 0, q->len};
        if (!in_window(nb, q->addr, q->len) || q->len > nb->app.size || q->len == 0) {
            nb->state = TB_NB_IDLE;
            return respond(nb, TB_NC_ST_FAIL, TB_E_IMG_TOO_LARGE, NULL, 0);
        }
        rc = tb_image_validate(&wa, &no_keys, &info);
        if (rc == TB_OK && memcmp(info.hash, q->hash, 32) != 0) {
            rc = TB_E_IMG_HASH_MISMATCH;
        }
        if (rc == TB_OK) {
            rc = tb_image_bootable(&info.hdr);
        }
        if (rc != TB_OK) {
            nb->state = TB_NB_IDLE;
            return respond(nb, TB_NC_ST_FAIL, rc, NULL, 0);
        }
        nb->copy_off = 0;
        nb->sector_erased = false;
        nb->state = TB_NB_COPYING;
        return respond(nb, TB_NC_ST_BUSY, TB_OK, NULL, 0);
    }
    default:
        nb->state = TB_NB_IDLE;
        return respond(nb, TB_NC_ST_FAIL, TB_E_UNSUPPORTED, NULL, 0);
    }
}

/* One piece of the copy: a sector erase, or one chunk programmed. */
static int copy_step(struct tb_netboot *nb)
{
    const uint32_t ss = nb->app.flash->sector_size;
    const uint32_t len = nb->req.len;
    struct tb_image_info info;
    int rc;
    if (nb->copy_off < len) {
        uint32_t off = nb->copy_off;
        /* erase a sector when the copy enters it */
        if (off % ss == 0 && !nb->sector_erased) {
            rc = tb_area_erase(&nb->app, off, ss);
            nb->sector_erased = rc == TB_OK;
            return rc;
        }
        uint32_t n = len - off < sizeof(nb->buf) ? len - off : (uint32_t)sizeof(nb->buf);
        if (n > ss - off % ss) {
            n = ss - off % ss; /* a chunk never crosses into a sector not erased yet */
        }
        uint32_t ws = nb->app.flash->write_size;
        uint32_t padded = (n + ws - 1) / ws * ws;
        memset(nb->buf, nb->app.flash->erased_val, sizeof(nb->buf));
        tb_shm_read(&nb->shm, nb->req.addr + off, nb->buf, n);
        rc = tb_area_program(&nb->app, off, nb->buf, padded);
        if (rc == TB_OK) {
            nb->copy_off = off + n;
            nb->sector_erased = nb->copy_off % ss != 0;
        }
        return rc;
    }
    /* all written: the installed copy must be the image announced */
    rc = own_image(nb, &info);
    if (flash_error(rc)) {
        return rc;
    }
    if (rc == TB_OK && memcmp(info.hash, nb->req.hash, 32) != 0) {
        rc = TB_E_IMG_HASH_MISMATCH;
    }
    nb->state = TB_NB_IDLE;
    return rc == TB_OK ? respond(nb, TB_NC_ST_DONE, TB_OK, &info, 0) : respond(nb, TB_NC_ST_FAIL, rc, NULL, 0);
}

int tb_netboot_step(struct tb_netboot *nb)
{
    struct tb_image_info info;
    int rc;
    switch (nb->state) {
    case TB_NB_START:
        if (new_request(nb)) {
            rc = start_command(nb);
            return rc == TB_OK ? nb->state : rc;
        }
        rc = own_image(nb, &info);
        if (flash_error(rc)) {
            return rc;
        }
        if (rc == TB_OK) {
            nb->state = TB_NB_JUMP;
            return nb->state;
        }
        /* never jump into garbage: ask for an image and wait */
        nb->req.seq = 0;
        nb->state = TB_NB_IDLE;
        rc = respond(nb, TB_NC_ST_NEED_IMAGE, rc, NULL, 0);
        return rc == TB_OK ? nb->state : rc;
    case TB_NB_COPYING:
        rc = copy_step(nb);
        return rc == TB_OK ? nb->state : rc;
    case TB_NB_IDLE:
        if (new_request(nb)) {
            rc = start_command(nb);
            return rc == TB_OK ? nb->state : rc;
        }
        return nb->state;
    default:
        return nb->state;
    }
}
