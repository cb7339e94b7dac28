/* Strategy "handover" (image 1, the network core), app-core side.
 *
 * The app core cannot touch net flash. It keeps image 1's state in its own
 * journal (QSPI), backs the installed net image up to QSPI through BACKUP
 * commands (4 KiB at a time, each logged), and installs an image, new or
 * backed up, by putting it in the shared RAM window and sending COPY.
 * docs/net-core.md specifies the protocol and both state machines.
 *
 * A backup region twice the image slot holds two images: the backup (what a
 * revert restores) in one half, named by the session (TB_JF_BAK_HI), and in
 * the other the image being installed, copied there from the window while
 * the net core copies it (the app core only polls then). At the next update
 * that copy, checked against what INFO reports, is the backup: no BACKUP
 * round trips, no QSPI erase or program before the net core starts. */
#include <string.h>

#include "boot_priv.h"
#include "twinboot/error.h"
#include "twinboot/netcore.h"
#include "twinboot/trailer.h"

#define NC_POLL_US 1000U        /* poll the response every millisecond */
#define NC_TIMEOUT_POLLS 60000U /* 60 s: a 224 KiB COPY takes about 12 s on the net NVMC */

/* Journal steps of an install of nbk backup chunks. */
#define HO_CLEAR 1U
#define HO_BACKUP(k) (2U + (k))
#define HO_COPY(nbk) (2U + (nbk))
/* ... and of a revert */
#define HR_COPY 1U

static uint32_t seq_next(struct tb_boot_ctx *c)
{
    return ++c->nc_seq;
}

static bool fatal(int rc)
{
    return rc == TB_E_POWER || rc == TB_E_IO || rc == TB_E_REPROGRAM || rc == TB_E_ALIGN || rc == TB_E_RANGE ||
           rc == TB_E_INVAL || rc == TB_E_NOSPACE;
}

/* len bytes of the window at win into sector-aligned off of a QSPI area (the sector erased first). */
static int window_to_area(struct tb_boot_ctx *c, const struct tb_area *dst, uint32_t off, uint32_t win, uint32_t len)
{
    uint32_t ws = dst->flash->write_size;
    int rc = tb_area_erase(dst, off, c->sector);
    for (uint32_t o = 0; rc == TB_OK && o < len; o += TB_COPY_CHUNK) {
        uint32_t n = len - o < TB_COPY_CHUNK ? len - o : TB_COPY_CHUNK;
        memset(c->buf, dst->flash->erased_val, sizeof(c->buf));
        tb_shm_read(&c->cfg->shm, win + o, c->buf, n);
        rc = tb_area_program(dst, off + o, c->buf, (n + ws - 1) / ws * ws);
    }
    return rc;
}

/* The image in the window, copied to the free backup half while the net core
 * installs it. A cache: never journaled, checked by hash before any use. */
struct shadow {
    struct tb_area dst;
    uint32_t len, next, nsect;
};

/* One sector of the shadow copy; a flash that refuses ends the copy, not the install. */
static int shadow_step(struct tb_boot_ctx *c, struct shadow *sh)
{
    if (sh == NULL || sh->next >= sh->nsect) {
        return TB_OK;
    }
    uint32_t off = sh->next * c->sector;
    uint32_t n = sh->len - off < c->sector ? sh->len - off : c->sector;
    int rc = window_to_area(c, &sh->dst, off, TB_NC_WINDOW_OFF + off, n);
    sh->next = rc == TB_OK ? sh->next + 1U : sh->nsect;
    return rc == TB_E_POWER ? rc : TB_OK;
}

/* Send one command and wait for its answer, doing the shadow copy (if any)
 * between polls. TB_OK with *rsp (DONE or FAIL), TB_E_NC_TIMEOUT if the net
 * core stays silent, or a power/flash error. */
static int nc_exec_bg(struct tb_boot_ctx *c, struct tb_nc_request *q, struct tb_nc_response *rsp, struct shadow *sh)
{
    const struct tb_netctl *n = c->cfg->net;
    const struct tb_shmem *m = &c->cfg->shm;
    if (n == NULL) {
        return TB_E_UNSUPPORTED;
    }
    /* The net core is held in reset while the block is rewritten: it never
     * sees half a request, and nothing from before this command survives. */
    int rc = n->hold(n->ctx);
    if (rc != TB_OK) {
        return rc;
    }
    tb_nc_clear(m);
    q->seq = seq_next(c);
    rc = tb_nc_write_request(m, q);
    if (rc == TB_OK) {
        rc = n->release(n->ctx);
    }
    for (uint32_t polls = 0; rc == TB_OK; polls++) {
        if (tb_nc_read_response(m, rsp) == TB_OK && rsp->seq == q->seq &&
            (rsp->status == TB_NC_ST_DONE || rsp->status == TB_NC_ST_FAIL)) {
            /* whatever the net core was quicker than: the copy is the next update's backup */
            while (rc == TB_OK && sh != NULL && sh->next < sh->nsect) {
                rc = shadow_step(c, sh);
            }
            return rc;
        }
        if (polls >= NC_TIMEOUT_POLLS) {
            (void)n->hold(n->ctx); /* a silent net core stays off: a defined state */
            return TB_E_NC_TIMEOUT;
        }
        rc = shadow_step(c, sh);
        if (rc == TB_OK) {
            rc = n->wait(n->ctx, NC_POLL_US);
        }
    }
    return rc;
}

static int nc_exec(struct tb_boot_ctx *c, struct tb_nc_request *q, struct tb_nc_response *rsp)
{
    return nc_exec_bg(c, q, rsp, NULL);
}

/* Halves of a double backup region: bak.size / 2 in whole sectors, each
 * able to hold any image the secondary can; 0 when the region holds one. */
static uint32_t half_size(const struct tb_boot_ctx *c)
{
    uint32_t h = c->bak.size / 2U / c->sector * c->sector;
    return h >= c->sec_img.size ? h : 0;
}

static int session_half(const struct tb_boot_ctx *c)
{
    return c->j.cur >= 0 && (c->j.s.flags & TB_JF_BAK_HI) ? 1 : 0;
}

/* Where images live in half h (the only half of a single region). */
static struct tb_area half_area(const struct tb_boot_ctx *c, int h)
{
    struct tb_area a = c->bak_img;
    a.off = c->bak.off + (h ? half_size(c) : 0);
    return a;
}

/* c->bak_img is the backup the journal's current session names. */
static void use_session_half(struct tb_boot_ctx *c) { c->bak_img = half_area(c, session_half(c)); }

/* Put the image of a QSPI area into the window and have the net core install
 * it; sh: copy it on to a backup half meanwhile (NULL: no). */
static int install_from(struct tb_boot_ctx *c, const struct tb_area *src, const struct tb_image_info *img,
                        struct shadow *sh)
{
    const struct tb_shmem *m = &c->cfg->shm;
    if (img->tlv_end > tb_nc_window_size(m)) {
        return TB_E_IMG_TOO_LARGE;
    }
    for (uint32_t off = 0; off < img->tlv_end; off += TB_COPY_CHUNK) {
        uint32_t n = img->tlv_end - off < TB_COPY_CHUNK ? img->tlv_end - off : TB_COPY_CHUNK;
        int rc = tb_area_read(src, off, c->buf, n);
        if (rc != TB_OK) {
            return rc;
        }
        tb_shm_write(m, TB_NC_WINDOW_OFF + off, c->buf, n);
    }
    struct tb_nc_request q = {.cmd = TB_NC_COPY, .addr = TB_NC_WINDOW_OFF, .len = img->tlv_end};
    struct tb_nc_response rsp;
    memcpy(q.hash, img->hash, 32);
    if (sh != NULL) {
        sh->len = img->tlv_end;
        sh->next = 0;
        sh->nsect = tb_sectors_for(c, img->tlv_end);
    }
    int rc = nc_exec_bg(c, &q, &rsp, sh);
    if (rc != TB_OK) {
        return rc;
    }
    return rsp.status == TB_NC_ST_DONE ? TB_OK : (rsp.reason != TB_OK ? rsp.reason : TB_E_NC_REFUSED);
}

int tb_handover_info(struct tb_boot_ctx *c, struct tb_nc_response *rsp)
{
    struct tb_nc_request q = {.cmd = TB_NC_INFO};
    return nc_exec(c, &q, rsp);
}

/* One BACKUP chunk: 4 KiB of the installed image into backup sector k. */
static int backup_chunk(struct tb_boot_ctx *c, uint32_t k, uint32_t total)
{
    uint32_t off = k * c->sector;
    uint32_t len = total - off < c->sector ? total - off : c->sector;
    struct tb_nc_request q = {.cmd = TB_NC_BACKUP, .addr = TB_NC_WINDOW_OFF, .len = len, .offset = off};
    struct tb_nc_response rsp;
    int rc = nc_exec(c, &q, &rsp);
    if (rc != TB_OK) {
        return rc;
    }
    if (rsp.status != TB_NC_ST_DONE || rsp.size != len) {
        return TB_E_NC_REFUSED;
    }
    return window_to_area(c, &c->bak_img, off, TB_NC_WINDOW_OFF, len);
}

static int mark(struct tb_boot_ctx *c, uint32_t step) { return tb_journal_mark(&c->j, (uint16_t)step); }

/* a holds an image whose digest is want: a copy of an image already trusted
 * (the one the net core runs, or one the journal recorded), so its hash is
 * checked and its signature is not checked again */
static int holds(struct tb_boot_ctx *c, const struct tb_area *a, const uint8_t *want, struct tb_image_info *info)
{
    int rc = tb_boot_validate(c, a, false, info);
    if (fatal(rc)) {
        return rc;
    }
    return rc == TB_OK && memcmp(info->hash, want, 32) == 0 ? TB_OK : TB_E_BOOT_NO_BACKUP;
}

static int verify_backup(struct tb_boot_ctx *c, const struct tb_journal_session *s)
{
    struct tb_image_info bi;
    return holds(c, &c->bak_img, s->from_hash, &bi);
}

/* checked: the backup was just found to hash to from_hash (not again) */
static int run_install(struct tb_boot_ctx *c, struct tb_image_info *to, bool checked)
{
    const struct tb_journal_session *s = &c->j.s;
    const uint32_t nbk = s->nsect;
    struct shadow sh = {.dst = half_area(c, 1 - session_half(c))};
    for (uint32_t step = c->j.last_step + 1U; step <= HO_COPY(nbk); step++) {
        int rc;
        if (step == HO_CLEAR) {
            rc = tb_clear_request(c);
        } else if (step < HO_COPY(nbk)) {
            rc = backup_chunk(c, step - 2U, s->from_size);
        } else {
            /* never overwrite the net image before its copy is known good */
            rc = (s->flags & TB_JF_BACKUP) && !checked ? verify_backup(c, s) : TB_OK;
            if (rc == TB_OK) {
                rc = install_from(c, &c->sec_img, to, half_size(c) != 0 ? &sh : NULL);
            }
        }
        if (rc == TB_OK) {
            rc = mark(c, step);
        }
        if (rc != TB_OK) {
            return rc;
        }
    }
    return mark(c, TB_STEP_DONE);
}

static int run_revert(struct tb_boot_ctx *c, struct tb_image_info *bak)
{
    int rc = TB_OK;
    if (c->j.last_step < HR_COPY) {
        rc = install_from(c, &c->bak_img, bak, NULL);
        if (rc == TB_OK) {
            rc = mark(c, HR_COPY);
        }
    }
    return rc == TB_OK ? mark(c, TB_STEP_DONE) : rc;
}

void tb_handover_state(const struct tb_boot_ctx *c, struct tb_net_state *st)
{
    const struct tb_journal *j = &c->j;
    memset(st, 0, sizeof(*st));
    if (j->cur < 0 || !tb_journal_done(j)) {
        return;
    }
    st->known = true;
    memcpy(st->hash, j->s.to_hash, 32);
    tb_image_version_decode(j->s.to_ver, &st->ver);
    bool install = j->s.op == TB_OP_HANDOVER;
    st->test = install && !(j->s.flags & TB_JF_PERMANENT);
    st->confirmed = !st->test || j->confirmed;
    st->set = (j->s.flags & TB_JF_SET) != 0;
    /* what the backup holds: the image an install replaced, or the one a revert restored */
    st->backup_known = install ? j->s.from_size != 0 : true;
    memcpy(st->backup_hash, install ? j->s.from_hash : j->s.to_hash, 32);
}

/* The backup holds what the journal says. signed: it is about to go to the
 * net core, so its signature is checked too (QSPI is outside the chip). */
static int backup_info(struct tb_boot_ctx *c, const struct tb_net_state *st, struct tb_image_info *bi, bool sig)
{
    if (!st->backup_known) {
        return TB_E_BOOT_NO_BACKUP;
    }
    if (!sig) {
        return holds(c, &c->bak_img, st->backup_hash, bi);
    }
    int rc = tb_boot_validate(c, &c->bak_img, true, bi);
    if (rc != TB_OK) {
        return fatal(rc) ? rc : TB_E_BOOT_NO_BACKUP;
    }
    return memcmp(bi->hash, st->backup_hash, 32) == 0 ? TB_OK : TB_E_BOOT_NO_BACKUP;
}

int tb_handover_resume(struct tb_boot_ctx *c)
{
    struct tb_image_info img;
    const struct tb_area *src = c->j.s.op == TB_OP_HANDOVER ? &c->sec_img : &c->bak_img;
    if (c->j.s.op != TB_OP_HANDOVER && c->j.s.op != TB_OP_REVERT) {
        return TB_E_BOOT_JOURNAL;
    }
    use_session_half(c);
    int rc = tb_boot_validate(c, src, true, &img);
    if (fatal(rc)) {
        return rc;
    }
    if (rc != TB_OK || memcmp(img.hash, c->j.s.to_hash, 32) != 0) {
        return TB_E_BOOT_JOURNAL;
    }
    return c->j.s.op == TB_OP_HANDOVER ? run_install(c, &img, false) : run_revert(c, &img);
}

int tb_handover_install(struct tb_boot_ctx *c, struct tb_image_info *to, bool permanent, const uint8_t *partner)
{
    struct tb_nc_response info;
    struct tb_net_state st;
    struct tb_image_info bi;
    struct tb_journal_session s;
    bool checked = false;
    int rc = tb_handover_info(c, &info);
    if (rc != TB_OK) {
        return rc;
    }
    tb_handover_state(c, &st);
    use_session_half(c);
    int half = session_half(c);
    memset(&s, 0, sizeof(s));
    s.op = TB_OP_HANDOVER;
    s.image = (uint8_t)c->image;
    s.flags = permanent ? TB_JF_PERMANENT : 0;
    if (st.known && st.test && !st.confirmed && (rc = backup_info(c, &st, &bi, false)) == TB_OK) {
        /* the net core runs an unconfirmed test image: the backup keeps the
         * last confirmed one, which is what a revert must bring back */
        s.from_size = bi.tlv_end;
        memcpy(s.from_hash, bi.hash, 32);
        tb_image_version_encode(&bi.hdr.ver, s.from_ver);
    } else if (fatal(rc)) {
        return rc;
    } else if (info.status == TB_NC_ST_DONE && info.valid) {
        s.flags |= TB_JF_BACKUP;
        s.from_size = info.size;
        memcpy(s.from_hash, info.hash, 32);
        tb_image_version_encode(&info.ver, s.from_ver);
        s.nsect = tb_sectors_for(c, info.size);
        if (half_size(c) != 0) {
            /* the half the last install copied its image to, or the one the last revert restored from */
            int cp = c->j.cur >= 0 && c->j.s.op == TB_OP_HANDOVER ? 1 - half : half;
            struct tb_area a = half_area(c, cp);
            rc = holds(c, &a, info.hash, &bi);
            if (fatal(rc)) {
                return rc;
            }
            checked = rc == TB_OK; /* already backed up */
            half = checked ? cp : 1 - cp;
            s.nsect = checked ? 0 : s.nsect;
        }
    } else {
        s.flags |= TB_JF_PERMANENT; /* nothing valid on the net core to come back to */
    }
    s.to_size = to->tlv_end;
    memcpy(s.to_hash, to->hash, 32);
    tb_image_version_encode(&to->hdr.ver, s.to_ver);
    if (partner != NULL) {
        s.flags |= TB_JF_SET;
        memcpy(s.partner_hash, partner, 32);
    }
    if (half != 0 && half_size(c) != 0) {
        s.flags |= TB_JF_BAK_HI;
    }
    rc = tb_journal_begin(&c->j, &s);
    if (rc != TB_OK) {
        return rc;
    }
    use_session_half(c);
    return run_install(c, to, checked);
}

int tb_handover_revert(struct tb_boot_ctx *c)
{
    struct tb_net_state st;
    struct tb_image_info bi;
    struct tb_journal_session s;
    tb_handover_state(c, &st);
    use_session_half(c);
    int rc = backup_info(c, &st, &bi, true);
    if (rc != TB_OK) {
        return rc;
    }
    tb_session_fill(&s, TB_OP_REVERT, c, NULL, &bi);
    memcpy(s.from_hash, st.hash, 32);
    s.nsect = 0;
    s.flags = (uint8_t)(c->j.s.flags & TB_JF_BAK_HI); /* restored from, and kept in, the same half */
    rc = tb_journal_begin(&c->j, &s);
    return rc == TB_OK ? run_revert(c, &bi) : rc;
}

int tb_handover_check(struct tb_boot_ctx *c, struct tb_boot_image_record *r)
{
    struct tb_nc_response info;
    struct tb_net_state st;
    struct tb_image_info src;
    use_session_half(c);
    int rc = tb_handover_info(c, &info);
    if (fatal(rc)) {
        return rc;
    }
    if (rc != TB_OK) {
        /* a silent net core: the app core boots anyway; the record says why BLE will not */
        (void)c->cfg->net->hold(c->cfg->net->ctx);
        r->valid = 0;
        r->reason = rc;
        if (r->action == TB_ACT_NONE) {
            r->action = TB_ACT_NO_IMAGE;
        }
        return TB_OK;
    }
    tb_handover_state(c, &st);
    bool ok = info.status == TB_NC_ST_DONE && info.valid && (!st.known || memcmp(info.hash, st.hash, 32) == 0);
    if (!ok && st.known) {
        /* a copy cut short, or a net image that is not the one recorded:
         * send the recorded one again, from wherever a copy of it is */
        /* the secondary, the backup, and the other backup half (the copy an install made) */
        const struct tb_area other = half_area(c, 1 - session_half(c));
        const struct tb_area *cand[3] = {&c->sec_img, &c->bak_img, half_size(c) != 0 ? &other : NULL};
        const struct tb_area *from = NULL;
        for (int i = 0; i < 3 && from == NULL && cand[i] != NULL; i++) {
            rc = tb_boot_validate(c, cand[i], true, &src);
            if (fatal(rc)) {
                return rc;
            }
            from = rc == TB_OK && memcmp(src.hash, st.hash, 32) == 0 ? cand[i] : NULL;
        }
        if (from != NULL) {
            rc = install_from(c, from, &src, NULL);
            if (fatal(rc)) {
                return rc;
            }
            r->resent = 1;
            if (rc == TB_OK) {
                rc = tb_handover_info(c, &info);
                if (fatal(rc)) {
                    return rc;
                }
                ok = info.status == TB_NC_ST_DONE && info.valid && memcmp(info.hash, st.hash, 32) == 0;
            }
        }
    }
    if (ok || (info.status == TB_NC_ST_DONE && info.valid)) {
        r->valid = 1;
        r->to = info.ver;
        memcpy(r->to_hash, info.hash, 32);
        r->confirmed = !st.known || st.confirmed;
    } else {
        r->valid = 0;
        if (r->action == TB_ACT_NONE) {
            r->action = TB_ACT_NO_IMAGE;
        }
        if (r->reason == TB_OK) {
            r->reason = info.status == TB_NC_ST_DONE ? info.reason : TB_E_NC_REFUSED;
        }
    }
    /* let the net core go: it boots its application, or waits for an image */
    const struct tb_netctl *n = c->cfg->net;
    rc = n->hold(n->ctx);
    if (rc == TB_OK) {
        tb_nc_clear(&c->cfg->shm);
        rc = n->release(n->ctx);
    }
    return rc;
}

int tb_handover_confirm(struct tb_boot_ctx *c)
{
    struct tb_net_state st;
    tb_handover_state(c, &st);
    if (!st.known || !st.test || st.confirmed) {
        return TB_OK;
    }
    return tb_journal_mark(&c->j, TB_STEP_CONFIRM);
}

int tb_handover_mark_boot(struct tb_boot_ctx *c) { return tb_journal_mark(&c->j, TB_STEP_BOOT); }
