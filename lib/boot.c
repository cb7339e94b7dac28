/* The boot engine: one pass per reset over all images, each by its own
 * strategy, with images 0 and 1 updated together as one all-or-nothing set
 * when both are pending. See include/twinboot/boot.h, docs/boot-engine.md
 * and docs/net-core.md. */
#include "twinboot/boot.h"

#include <string.h>

#include "boot_priv.h"
#include "le.h"
#include "twinboot/error.h"
#include "twinboot/trailer.h"

const char *tb_boot_action_name(int action)
{
    switch (action) {
    case TB_ACT_NONE: return "none";
    case TB_ACT_UPGRADE_TEST: return "upgrade-test";
    case TB_ACT_UPGRADE_PERM: return "upgrade-permanent";
    case TB_ACT_OVERWRITE: return "overwrite";
    case TB_ACT_REVERT: return "revert";
    case TB_ACT_TEST_BOOT: return "test-boot";
    case TB_ACT_REFUSED: return "refused";
    case TB_ACT_RECOVERED: return "recovered";
    case TB_ACT_STABILIZED: return "stabilized";
    case TB_ACT_NO_IMAGE: return "no-image";
    case TB_ACT_DEFERRED: return "deferred";
    default: return "unknown";
    }
}

/* Errors that stop the engine (the flash failed or the power went), as
 * opposed to verdicts on an image, which only refuse that image. */
static bool fatal(int rc)
{
    return rc == TB_E_POWER || rc == TB_E_IO || rc == TB_E_REPROGRAM || rc == TB_E_ALIGN || rc == TB_E_RANGE ||
           rc == TB_E_INVAL || rc == TB_E_NOSPACE;
}

/* One image during one boot. */
struct run {
    struct tb_boot_ctx c;
    const struct tb_strategy_ops *ops; /* swap / overwrite; NULL for handover */
    bool active;                       /* the engine manages this image in this build */
    bool installed;                    /* an install happened (or was finished) in this boot */
    int prc;                           /* validation of the primary (swap/overwrite) */
    struct tb_image_info pi;
    struct tb_trailer_state pt, st;
    int type;                          /* MCUboot's decision for this image */
    int src;                           /* validation of the secondary, when pending */
    struct tb_image_info si;
};

static int ctx_init(struct tb_boot_ctx *c, const struct tb_boot_config *cfg, int image)
{
    const struct tb_image_layout *im = &cfg->layout->img[image];
    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->image = image;
    c->bak_erased = -1;
    int rc = tb_region_area(cfg->dev, &im->primary, &c->pri);
    if (rc == TB_OK) {
        rc = tb_region_area(cfg->dev, &im->secondary, &c->sec);
    }
    if (rc == TB_OK && im->backup.size != 0) {
        rc = tb_region_area(cfg->dev, &im->backup, &c->bak);
    }
    if (rc != TB_OK) {
        return rc;
    }
    /* Slots are cut in the secondary's sectors (QSPI): for swap and overwrite
     * the layout check makes all of them equal. */
    c->sector = c->sec.flash->sector_size;
    /* Images may not reach into the last sector of a slot: it holds the trailer. */
    c->pri_img = c->pri;
    c->pri_img.size -= c->pri.flash->sector_size;
    c->sec_img = c->sec;
    c->sec_img.size -= c->sector;
    c->bak_img = c->bak;
    if (c->bak.size != 0) {
        c->bak_img.size = c->pri_img.size < c->bak.size ? c->pri_img.size : c->bak.size;
    }
    struct tb_area st;
    rc = tb_region_area(cfg->dev, &im->status, &st);
    return rc == TB_OK ? tb_journal_open(&c->j, &st) : rc;
}

/* Whole, signed (once per image per boot: lib/boot_validate.c) and bootable. */
static int validate(struct tb_boot_ctx *c, const struct tb_area *a, struct tb_image_info *info)
{
    int rc = tb_boot_validate_src(c, a, true, info); /* a compressed secondary: the image it rebuilds */
    if (rc == TB_OK) {
        rc = tb_image_bootable(&info->hdr);
    }
    return rc;
}

/* Whole (hash only): what the primary holds before anything is decided. It
 * is signature-checked before it boots (slot_check), so an upgrade boot
 * checks one signature, the new image's, where MCUboot checks two. */
static int intact(struct tb_boot_ctx *c, const struct tb_area *a, struct tb_image_info *info)
{
    int rc = tb_boot_validate_src(c, a, false, info);
    if (rc == TB_OK) {
        rc = tb_image_bootable(&info->hdr);
    }
    return rc;
}

static void record_image(struct tb_image_version *v, uint8_t hash[32], const struct tb_image_info *info)
{
    *v = info->hdr.ver;
    memcpy(hash, info->hash, 32);
}

/* ---- versions and admission --------------------------------------------- */

/* The version an image runs after this boot: the new one if it is being
 * installed in this boot (newv), else what is installed now. */
static int version_after(struct run *runs, int n, int image, const struct tb_image_version *newv[],
                         struct tb_image_version *v)
{
    if (image < 0 || image >= n || !runs[image].active) {
        return TB_E_BOOT_DEPENDENCY;
    }
    if (newv[image] != NULL) {
        *v = *newv[image];
        return TB_OK;
    }
    struct run *r = &runs[image];
    if (r->ops == NULL) {
        struct tb_net_state st;
        tb_handover_state(&r->c, &st);
        if (!st.known) {
            struct tb_nc_response info;
            int rc = tb_handover_info(&r->c, &info);
            if (rc != TB_OK) {
                return fatal(rc) ? rc : TB_E_BOOT_DEPENDENCY;
            }
            if (info.status != TB_NC_ST_DONE || !info.valid) {
                return TB_E_BOOT_DEPENDENCY;
            }
            *v = info.ver;
            return TB_OK;
        }
        *v = st.ver;
        return TB_OK;
    }
    if (r->prc != TB_OK) {
        return TB_E_BOOT_DEPENDENCY;
    }
    *v = r->pi.hdr.ver;
    return TB_OK;
}

/* Downgrade prevention and DEPENDENCY TLVs for a validated secondary. */
static int admissible(struct run *runs, int n, int image, const struct tb_image_info *from,
                      const struct tb_image_version *newv[])
{
    const struct tb_boot_config *cfg = runs[image].c.cfg;
    const struct tb_image_info *to = &runs[image].si;
    if (from != NULL && cfg->downgrade_prevention) {
        /* a net image's security counter is not readable from the app core
         * (only its version is, from the journal or INFO): versions decide */
        if (cfg->sec_cnt_downgrade && runs[image].ops != NULL) {
            if (from->has_sec_cnt && (!to->has_sec_cnt || to->sec_cnt < from->sec_cnt)) {
                return TB_E_BOOT_SEC_CNT;
            }
        } else if (tb_version_cmp(&to->hdr.ver, &from->hdr.ver, false) < 0) {
            return TB_E_BOOT_DOWNGRADE;
        }
    }
    for (uint8_t k = 0; k < to->dep_count; k++) {
        const struct tb_image_dep *d = &to->deps[k];
        struct tb_image_version have;
        int rc = d->image_id == image ? (have = to->hdr.ver, TB_OK) : version_after(runs, n, d->image_id, newv, &have);
        if (rc != TB_OK) {
            return rc;
        }
        if (tb_version_cmp(&have, &d->min_version, false) < 0) {
            return TB_E_BOOT_DEPENDENCY;
        }
    }
    return TB_OK;
}

/* ---- swap / overwrite images --------------------------------------------- */

/* The hash of the image the journal says the backup holds, or NULL. */
static const uint8_t *backup_hash(const struct tb_journal *j)
{
    if (j->cur < 0 || !tb_journal_done(j)) {
        return NULL;
    }
    if (j->s.op == TB_OP_UPGRADE && j->s.from_size != 0) {
        return j->s.from_hash;
    }
    if (j->s.op == TB_OP_REVERT) {
        return j->s.to_hash;
    }
    return NULL;
}

/* The backup holds what the journal says; sig: it is about to be restored,
 * so its signature is checked too. */
static int backup_info(struct tb_boot_ctx *c, struct tb_image_info *bi, bool sig)
{
    const uint8_t *want = backup_hash(&c->j);
    if (c->bak.size == 0 || want == NULL) {
        return TB_E_BOOT_NO_BACKUP;
    }
    int rc = sig ? validate(c, &c->bak_img, bi) : intact(c, &c->bak_img, bi);
    if (rc != TB_OK) {
        return fatal(rc) ? rc : TB_E_BOOT_NO_BACKUP;
    }
    return memcmp(bi->hash, want, 32) == 0 ? TB_OK : TB_E_BOOT_NO_BACKUP;
}

static bool testing(const struct tb_trailer_state *pt)
{
    return pt->magic == TB_MAGIC_GOOD && pt->image_ok == TB_FLAG_STATE_UNSET && pt->copy_done == TB_FLAG_STATE_SET;
}

/* Install the validated secondary of a swap/overwrite image. */
static int slot_install(struct run *r, struct tb_boot_image_record *rec, const uint8_t *partner)
{
    struct tb_boot_ctx *c = &r->c;
    struct tb_image_info bi;
    int rc;
    struct tb_install in = {.permanent = r->type == TB_SWAP_PERM, .backup = false, .from = NULL, .to = &r->si};
    if (r->ops == &tb_strategy_swap && r->prc == TB_OK) {
        in.backup = true;
        in.from = &r->pi;
        /* The primary is an unconfirmed test image and the backup still holds
         * the last confirmed one: keep that backup, do not save the test image. */
        if (testing(&r->pt)) {
            rc = backup_info(c, &bi, false);
            if (fatal(rc)) {
                return rc;
            }
            if (rc == TB_OK) {
                in.backup = false;
                in.from = &bi;
            }
        }
    } else if (r->ops == &tb_strategy_swap) {
        in.permanent = true; /* nothing valid to come back to */
    } else if (r->prc == TB_OK) {
        in.from = &r->pi;
    }
    in.partner = partner;
    record_image(&rec->to, rec->to_hash, &r->si);
    rc = r->ops->install(c, &in);
    if (rc != TB_OK) {
        return rc;
    }
    rec->action = r->ops == &tb_strategy_overwrite ? TB_ACT_OVERWRITE
                  : in.permanent                  ? TB_ACT_UPGRADE_PERM
                                                  : TB_ACT_UPGRADE_TEST;
    rec->set = partner != NULL;
    r->installed = true;
    return TB_OK;
}

/* The primary is a test image that was never confirmed. */
static int slot_revert(struct run *r, struct tb_boot_image_record *rec)
{
    struct tb_boot_ctx *c = &r->c;
    struct tb_image_info bi;
    const struct tb_journal *j = &c->j;
    bool ours = r->prc == TB_OK && j->cur >= 0 && tb_journal_done(j) && j->s.op == TB_OP_UPGRADE &&
                memcmp(j->s.to_hash, r->pi.hash, 32) == 0;
    uint8_t max = c->cfg->max_test_boots ? c->cfg->max_test_boots : 1;
    if (ours && (uint32_t)j->boots + 1U < max) {
        rec->action = TB_ACT_TEST_BOOT;
        return tb_journal_mark(&c->j, TB_STEP_BOOT);
    }
    int rc = (ours && r->ops->revert != NULL) ? backup_info(c, &bi, true) : TB_E_BOOT_NO_BACKUP;
    if (fatal(rc)) {
        return rc;
    }
    if (rc == TB_OK) {
        record_image(&rec->to, rec->to_hash, &bi);
        rec->set = (j->s.flags & TB_JF_SET) != 0;
        rc = r->ops->revert(c, &r->pi, &bi);
        if (rc == TB_OK) {
            rec->action = TB_ACT_REVERT;
        }
        return rc;
    }
    /* Nothing to go back to: keep what runs rather than loop on a revert that cannot happen. */
    rec->action = TB_ACT_STABILIZED;
    rec->reason = rc;
    return tb_trailer_confirm(&c->pri, c->cfg->layout->max_align);
}

static void record_resumed(const struct tb_journal *j, struct tb_boot_image_record *rec)
{
    rec->resumed = 1;
    switch (j->s.op) {
    case TB_OP_UPGRADE:
    case TB_OP_HANDOVER:
        rec->action = (j->s.flags & TB_JF_PERMANENT) ? TB_ACT_UPGRADE_PERM : TB_ACT_UPGRADE_TEST;
        break;
    case TB_OP_REVERT: rec->action = TB_ACT_REVERT; break;
    case TB_OP_OVERWRITE: rec->action = TB_ACT_OVERWRITE; break;
    default: break;
    }
    rec->set = (j->s.flags & TB_JF_SET) != 0;
    tb_image_version_decode(j->s.to_ver, &rec->to);
    memcpy(rec->to_hash, j->s.to_hash, 32);
    if (j->s.from_size != 0) {
        tb_image_version_decode(j->s.from_ver, &rec->from);
        memcpy(rec->from_hash, j->s.from_hash, 32);
    }
}

/* Phase 1 for a swap/overwrite image: what ran, and finish an interrupted operation. */
static int slot_prepare(struct run *r, struct tb_boot_image_record *rec)
{
    struct tb_boot_ctx *c = &r->c;
    r->prc = intact(c, &c->pri_img, &r->pi);
    if (fatal(r->prc)) {
        return r->prc;
    }
    if (r->prc == TB_OK) {
        record_image(&rec->from, rec->from_hash, &r->pi);
    }
    if (c->j.cur < 0 || tb_journal_done(&c->j)) {
        return TB_OK;
    }
    /* its source must still be the image the journal names */
    struct tb_image_info src;
    const struct tb_area *from = c->j.s.op == TB_OP_REVERT ? &c->bak_img : &c->sec_img;
    int rc = validate(c, from, &src);
    if (fatal(rc)) {
        return rc;
    }
    if (rc != TB_OK || memcmp(src.hash, c->j.s.to_hash, 32) != 0) {
        rec->reason = TB_E_BOOT_JOURNAL;
        return TB_OK;
    }
    rc = r->ops->resume(c);
    if (rc != TB_OK) {
        return rc;
    }
    record_resumed(&c->j, rec);
    /* a finished upgrade boots its image now: this is its test boot */
    r->installed = c->j.s.op != TB_OP_REVERT;
    r->prc = intact(c, &c->pri_img, &r->pi);
    return fatal(r->prc) ? r->prc : TB_OK;
}

/* Last phase: what boots must be valid; if not, the last good image comes back. */
static int slot_check(struct run *r, struct tb_boot_image_record *rec)
{
    struct tb_boot_ctx *c = &r->c;
    int prc = validate(c, &c->pri_img, &r->pi);
    if (fatal(prc)) {
        return prc;
    }
    if (prc != TB_OK && r->ops->revert != NULL) {
        struct tb_image_info bi;
        int rc = backup_info(c, &bi, true);
        if (fatal(rc)) {
            return rc;
        }
        if (rc == TB_OK) {
            rc = r->ops->revert(c, NULL, &bi);
            if (rc != TB_OK) {
                return rc;
            }
            rec->action = TB_ACT_RECOVERED;
            rec->reason = prc;
            prc = validate(c, &c->pri_img, &r->pi);
            if (fatal(prc)) {
                return prc;
            }
        }
    }
    if (prc == TB_OK) {
        rec->valid = 1;
        record_image(&rec->to, rec->to_hash, &r->pi);
        int rc = tb_trailer_read(&c->pri, c->cfg->layout->max_align, &r->pt);
        if (rc != TB_OK) {
            return rc;
        }
        /* no trailer at all (flashed by a debugger) counts as confirmed, as in MCUboot */
        rec->confirmed = r->pt.magic != TB_MAGIC_GOOD || r->pt.image_ok == TB_FLAG_STATE_SET;
    } else {
        if (rec->action == TB_ACT_NONE) {
            rec->action = TB_ACT_NO_IMAGE;
        }
        if (rec->reason == TB_OK) {
            rec->reason = prc;
        }
    }
    return TB_OK;
}

/* ---- handover images ------------------------------------------------------- */

static int net_prepare(struct run *r, struct tb_boot_image_record *rec)
{
    struct tb_boot_ctx *c = &r->c;
    struct tb_net_state st;
    tb_handover_state(c, &st);
    if (st.known) {
        rec->from = st.ver;
        memcpy(rec->from_hash, st.hash, 32);
    }
    if (c->j.cur < 0 || tb_journal_done(&c->j)) {
        return TB_OK;
    }
    int rc = tb_handover_resume(c);
    if (rc == TB_E_BOOT_JOURNAL || rc == TB_E_NC_TIMEOUT || rc == TB_E_NC_REFUSED) {
        rec->reason = rc; /* the check phase sends whatever can be sent */
        return TB_OK;
    }
    if (rc != TB_OK) {
        return rc;
    }
    record_resumed(&c->j, rec);
    r->installed = c->j.s.op == TB_OP_HANDOVER;
    return TB_OK;
}

static int net_revert(struct run *r, struct tb_boot_image_record *rec)
{
    struct tb_boot_ctx *c = &r->c;
    uint8_t max = c->cfg->max_test_boots ? c->cfg->max_test_boots : 1;
    if ((uint32_t)c->j.boots + 1U < max) {
        rec->action = TB_ACT_TEST_BOOT;
        return tb_handover_mark_boot(c);
    }
    bool set = (c->j.s.flags & TB_JF_SET) != 0;
    int rc = tb_handover_revert(c);
    if (rc == TB_OK) {
        rec->action = TB_ACT_REVERT;
        rec->set = set;
        return TB_OK;
    }
    if (fatal(rc)) {
        return rc;
    }
    /* nothing to go back to: the test image stays, confirmed */
    rec->action = TB_ACT_STABILIZED;
    rec->reason = rc;
    return tb_handover_confirm(c);
}

/* ---- the engine ------------------------------------------------------------ */

static int decide(struct run *r)
{
    struct tb_boot_ctx *c = &r->c;
    uint32_t max_align = c->cfg->layout->max_align;
    int rc = tb_trailer_read(&c->sec, max_align, &r->st);
    if (rc != TB_OK) {
        return rc;
    }
    if (r->ops != NULL) {
        rc = tb_trailer_read(&c->pri, max_align, &r->pt);
        if (rc != TB_OK) {
            return rc;
        }
        r->type = tb_swap_type(&r->pt, &r->st);
    } else {
        /* the net image has no trailer the app core can read: its state is the journal's */
        struct tb_net_state st;
        tb_handover_state(c, &st);
        struct tb_trailer_state pt = {TB_MAGIC_UNSET, TB_FLAG_STATE_UNSET, TB_FLAG_STATE_UNSET, TB_SWAP_NONE, 0};
        if (st.known) {
            pt.magic = TB_MAGIC_GOOD;
            pt.copy_done = TB_FLAG_STATE_SET;
            pt.image_ok = st.confirmed ? TB_FLAG_STATE_SET : TB_FLAG_STATE_UNSET;
        }
        r->pt = pt;
        r->type = tb_swap_type(&pt, &r->st);
    }
    if (r->installed && r->type == TB_SWAP_REVERT) {
        r->type = TB_SWAP_NONE; /* installed in this boot: this is its test boot */
    }
    return TB_OK;
}

static bool pending(const struct run *r) { return r->type == TB_SWAP_TEST || r->type == TB_SWAP_PERM; }

/* The session that installed (or is installing) the current image of r
 * names a partner image: the other half of its set. */
static const uint8_t *set_partner(const struct run *r)
{
    const struct tb_journal *j = &r->c.j;
    if (j->cur < 0 || !(j->s.flags & TB_JF_SET) || (j->s.op != TB_OP_UPGRADE && j->s.op != TB_OP_HANDOVER)) {
        return NULL;
    }
    return j->s.partner_hash;
}

static bool image_confirmed(struct run *r)
{
    if (r->ops == NULL) {
        struct tb_net_state st;
        tb_handover_state(&r->c, &st);
        return st.confirmed;
    }
    return r->pt.image_ok == TB_FLAG_STATE_SET;
}

static int confirm_image(struct run *r)
{
    if (r->ops == NULL) {
        return tb_handover_confirm(&r->c);
    }
    int rc = tb_trailer_confirm(&r->c.pri, r->c.cfg->layout->max_align);
    if (rc == TB_OK) {
        r->pt.image_ok = TB_FLAG_STATE_SET;
    }
    return rc;
}

/* The current sessions of a and b installed one set. */
static bool is_set(const struct run *a, const struct run *b)
{
    const uint8_t *pa = set_partner(a), *pb = set_partner(b);
    return pa != NULL && pb != NULL && tb_journal_done(&a->c.j) && tb_journal_done(&b->c.j) &&
           memcmp(pa, b->c.j.s.to_hash, 32) == 0 && memcmp(pb, a->c.j.s.to_hash, 32) == 0;
}

/* A test set is confirmed as a whole: one half confirmed confirms the other. */
static int sync_set_confirmation(struct run *a, struct run *b)
{
    if (!is_set(a, b)) {
        return TB_OK;
    }
    bool ca = image_confirmed(a), cb = image_confirmed(b);
    if (ca && !cb) {
        return confirm_image(b);
    }
    if (cb && !ca) {
        return confirm_image(a);
    }
    return TB_OK;
}

static int install(struct run *r, struct tb_boot_image_record *rec, const uint8_t *partner)
{
    if (r->ops != NULL) {
        return slot_install(r, rec, partner);
    }
    record_image(&rec->to, rec->to_hash, &r->si);
    int rc = tb_handover_install(&r->c, &r->si, r->type == TB_SWAP_PERM, partner);
    if (rc == TB_OK) {
        struct tb_net_state st;
        tb_handover_state(&r->c, &st);
        rec->action = st.test ? TB_ACT_UPGRADE_TEST : TB_ACT_UPGRADE_PERM;
        rec->set = partner != NULL;
        r->installed = true;
    }
    return rc;
}

static int refuse(struct run *r, struct tb_boot_image_record *rec, int reason)
{
    rec->action = TB_ACT_REFUSED;
    rec->reason = reason;
    return tb_clear_request(&r->c);
}

/* ---- restoring the backup on request ------------------------------------- */

/* After an upgrade MCUboot leaves the previous image in slot 1, and users go
 * back to it with "image test <its hash>". twinboot keeps that image in the
 * backup instead; a request for it is a small record at the start of the
 * secondary's trailer sector (the MCUboot trailer sits at its end), written
 * with the request by tb_boot_request_backup. The bootloader then copies the
 * backup into the secondary and installs it like any upload: the copy is
 * redone from the start after a power cut (its source, the backup, is not
 * touched until the install, which has its own journal, begins). */

#define RESTORE_MAGIC 0x31524254U /* "TBR1" */
#define RESTORE_LEN 40U           /* magic, hash, crc32 */

/* 1 and the hash when the secondary carries a restore record, 0 if not. */
static int restore_record(const struct tb_boot_ctx *c, uint8_t hash[32])
{
    uint8_t raw[RESTORE_LEN];
    int rc = tb_area_read(&c->sec, c->sec.size - c->sector, raw, sizeof(raw));
    if (rc != TB_OK) {
        return rc;
    }
    if (tb_get32(raw) != RESTORE_MAGIC || tb_get32(raw + 36) != tb_crc32(0, raw, 36)) {
        return 0;
    }
    memcpy(hash, raw + 4, 32);
    return 1;
}

/* A pending request for the backup's image: put that image in the secondary
 * first. TB_OK (also when there is nothing to do), or a flash error. */
static int restore_stage(struct run *r)
{
    struct tb_boot_ctx *c = &r->c;
    struct tb_image_info bi, si;
    uint8_t want[32];
    if (r->ops != &tb_strategy_swap) {
        return TB_OK;
    }
    int rc = restore_record(c, want);
    if (rc <= 0) {
        return rc;
    }
    /* hashes only: the copy's signature is checked once, as any pending image's */
    rc = backup_info(c, &bi, false);
    if (rc != TB_OK || memcmp(bi.hash, want, 32) != 0) {
        return fatal(rc) ? rc : TB_OK; /* not in the backup (any more): the request is judged as it is */
    }
    rc = intact(c, &c->sec_img, &si);
    if (fatal(rc) || (rc == TB_OK && memcmp(si.hash, want, 32) == 0)) {
        return fatal(rc) ? rc : TB_OK; /* copied already */
    }
    uint32_t n = tb_sectors_for(c, bi.tlv_end);
    for (uint32_t i = 0; i < n; i++) {
        rc = tb_copy_sector(c, &c->sec, &c->bak, i, false, NULL);
        if (rc != TB_OK) {
            return rc;
        }
    }
    return TB_OK;
}

/* A pending secondary: valid, signed by a trusted key, and it fits where it goes. */
static int validate_pending(struct run *r)
{
    int rc = restore_stage(r);
    if (rc != TB_OK) {
        return r->src = rc;
    }
    r->src = validate(&r->c, &r->c.sec_img, &r->si);
    if (r->src == TB_OK && r->ops == NULL &&
        (r->si.tlv_end > r->c.pri.size || r->si.tlv_end > tb_nc_window_size(&r->c.cfg->shm))) {
        r->src = TB_E_IMG_TOO_LARGE; /* the net slot, or the window it goes through, is smaller */
    }
    return r->src;
}

/* ... and it may replace what runs: downgrade prevention, dependencies. */
static int admit(struct run *runs, int n, int i, const struct tb_image_version *newv[])
{
    struct run *r = &runs[i];
    struct tb_image_info running;
    const struct tb_image_info *from = r->ops != NULL && r->prc == TB_OK ? &r->pi : NULL;
    if (r->src == TB_OK && r->ops == NULL && r->c.cfg->downgrade_prevention) {
        /* the net core's image: the version it runs now */
        const struct tb_image_version *now[TB_MAX_IMAGES] = {NULL, NULL};
        memset(&running, 0, sizeof(running));
        int rc = version_after(runs, n, i, now, &running.hdr.ver);
        if (fatal(rc)) {
            return rc;
        }
        from = rc == TB_OK ? &running : NULL;
    }
    if (r->src == TB_OK) {
        r->src = admissible(runs, n, i, from, newv);
    }
    return r->src;
}

/* An install the strategy could not carry out: the request is refused as a
 * validation refusal is, unless the net core did not answer at all (then the
 * request stays for the next reset: the image was never judged). */
static int install_failed(struct run *r, struct tb_boot_image_record *rec, int rc)
{
    if (rc == TB_E_NC_TIMEOUT) {
        rec->action = TB_ACT_REFUSED;
        rec->reason = rc;
        return TB_OK;
    }
    return refuse(r, rec, rc);
}

int tb_boot_go(const struct tb_boot_config *cfg, struct tb_boot_record *rec)
{
    struct tb_layout_issue issue;
    struct run runs[TB_MAX_IMAGES];
    int rc;
    memset(rec, 0, sizeof(*rec));
    rec->magic = TB_BOOT_RECORD_MAGIC;
    rec->result = TB_E_BOOT_NO_IMAGE;
    if (cfg == NULL || cfg->layout == NULL || tb_layout_check(cfg->layout, cfg->dev, &issue) != TB_OK) {
        rec->result = TB_E_BOOT_LAYOUT;
        return TB_E_BOOT_LAYOUT;
    }
    const int n = cfg->layout->image_count;
    rec->image_count = (uint8_t)n;
    memset(runs, 0, sizeof(runs));

    /* 1. Each image: finish what a reset interrupted. */
    for (int i = 0; i < n; i++) {
        struct run *r = &runs[i];
        uint8_t strategy = cfg->layout->img[i].strategy;
        r->active = strategy == TB_STRATEGY_SWAP || strategy == TB_STRATEGY_OVERWRITE ||
                    (strategy == TB_STRATEGY_HANDOVER && cfg->net != NULL);
        if (!r->active) {
            rec->img[i].action = TB_ACT_DEFERRED;
            continue;
        }
        r->ops = strategy == TB_STRATEGY_SWAP ? &tb_strategy_swap
                 : strategy == TB_STRATEGY_OVERWRITE ? &tb_strategy_overwrite
                                                     : NULL;
        rc = ctx_init(&r->c, cfg, i);
        r->c.rec = &rec->img[i];
        if (rc == TB_OK) {
            rc = r->ops != NULL ? slot_prepare(r, &rec->img[i]) : net_prepare(r, &rec->img[i]);
        }
        if (rc == TB_OK) {
            rc = decide(r);
        }
        if (rc != TB_OK) {
            rec->img[i].reason = rc;
            return rc;
        }
    }

    /* 2. A test set stands or falls as a whole: confirmed together, and
     * its test boot is the boot that finished either half. */
    if (n == 2 && runs[0].active && runs[1].active) {
        rc = sync_set_confirmation(&runs[0], &runs[1]);
        if (is_set(&runs[0], &runs[1]) && (runs[0].installed || runs[1].installed)) {
            runs[0].installed = runs[1].installed = true;
        }
        for (int i = 0; rc == TB_OK && i < n; i++) {
            rc = decide(&runs[i]);
        }
        if (rc != TB_OK) {
            return rc;
        }
    }

    /* 3. Requests. Both images pending: one set, all or nothing. */
    const struct tb_image_version *newv[TB_MAX_IMAGES] = {NULL, NULL};
    if (n == 2 && runs[0].active && runs[1].active && pending(&runs[0]) && pending(&runs[1])) {
        int v0 = validate_pending(&runs[0]);
        int v1 = validate_pending(&runs[1]);
        if (fatal(v0) || fatal(v1)) {
            return fatal(v0) ? v0 : v1;
        }
        if (v0 == TB_OK && v1 == TB_OK) {
            newv[0] = &runs[0].si.hdr.ver;
            newv[1] = &runs[1].si.hdr.ver;
        }
        int a0 = admit(runs, n, 0, newv);
        int a1 = admit(runs, n, 1, newv);
        if (fatal(a0) || fatal(a1)) {
            return fatal(a0) ? a0 : a1;
        }
        if (a0 != TB_OK || a1 != TB_OK) {
            /* neither goes in; each says why (its own reason, or its partner's) */
            rc = refuse(&runs[0], &rec->img[0], a0 != TB_OK ? a0 : TB_E_BOOT_SET);
            if (rc == TB_OK) {
                rc = refuse(&runs[1], &rec->img[1], a1 != TB_OK ? a1 : TB_E_BOOT_SET);
            }
            rec->img[0].set = rec->img[1].set = 1;
            if (rc != TB_OK) {
                return rc;
            }
        } else {
            /* the net core first: it is the half that can still say no */
            rc = install(&runs[1], &rec->img[1], runs[0].si.hash);
            if (rc == TB_OK) {
                rc = install(&runs[0], &rec->img[0], runs[1].si.hash);
            } else if (!fatal(rc)) {
                rc = install_failed(&runs[1], &rec->img[1], rc);
                if (rc == TB_OK) {
                    rc = refuse(&runs[0], &rec->img[0], TB_E_BOOT_SET);
                }
                rec->img[0].set = rec->img[1].set = 1;
            }
            if (rc != TB_OK) {
                return rc;
            }
        }
    } else {
        const uint8_t *partner[TB_MAX_IMAGES] = {NULL, NULL};
        for (int i = 0; i < n; i++) {
            struct run *r = &runs[i];
            if (!r->active || !pending(r)) {
                continue;
            }
            /* a refusal is this image's verdict only: r->src keeps it for the install loop */
            rc = validate_pending(r);
            if (rc == TB_OK) {
                rc = admit(runs, n, i, newv);
            }
            if (fatal(rc)) {
                return rc;
            }
            /* The other half of its set went in before a reset: this one
             * joins it, and this boot is the set's test boot. */
            struct run *o = n == 2 ? &runs[1 - i] : NULL;
            const uint8_t *op = rc == TB_OK && o != NULL && o->active ? set_partner(o) : NULL;
            if (op != NULL && tb_journal_done(&o->c.j) && memcmp(op, r->si.hash, 32) == 0) {
                partner[i] = o->c.j.s.to_hash;
                o->installed = true;
                if (o->type == TB_SWAP_REVERT) {
                    o->type = TB_SWAP_NONE;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            struct run *r = &runs[i];
            if (!r->active) {
                continue;
            }
            rc = TB_OK;
            if (pending(r)) {
                if (r->src != TB_OK) {
                    rc = refuse(r, &rec->img[i], r->src);
                } else {
                    rc = install(r, &rec->img[i], partner[i]);
                    if (rc != TB_OK && !fatal(rc)) {
                        rc = install_failed(r, &rec->img[i], rc);
                    }
                }
            } else if (r->type == TB_SWAP_REVERT) {
                rc = r->ops != NULL ? slot_revert(r, &rec->img[i]) : net_revert(r, &rec->img[i]);
            }
            if (rc != TB_OK) {
                return rc;
            }
        }
    }

    /* 4. What runs must be whole and valid. */
    for (int i = 0; i < n; i++) {
        if (!runs[i].active) {
            continue;
        }
        rc = runs[i].ops != NULL ? slot_check(&runs[i], &rec->img[i]) : tb_handover_check(&runs[i].c, &rec->img[i]);
        if (rc != TB_OK) {
            return rc;
        }
    }
    /* The app core runs image 0. Without it: a defined end state, never a reset loop. */
    rec->result = rec->img[0].valid ? TB_OK : TB_E_BOOT_NO_IMAGE;
    return rec->result;
}

static int image_area(const struct tb_boot_config *cfg, int image, bool secondary, struct tb_area *a)
{
    if (cfg == NULL || image < 0 || image >= cfg->layout->image_count) {
        return TB_E_INVAL;
    }
    const struct tb_image_layout *im = &cfg->layout->img[image];
    return tb_region_area(cfg->dev, secondary ? &im->secondary : &im->primary, a);
}

int tb_boot_request(const struct tb_boot_config *cfg, int image, bool permanent)
{
    struct tb_area a;
    int rc = image_area(cfg, image, true, &a);
    return rc == TB_OK ? tb_trailer_request(&a, cfg->layout->max_align, (uint8_t)image, permanent) : rc;
}

int tb_boot_confirm(const struct tb_boot_config *cfg, int image)
{
    struct tb_area a;
    if (cfg != NULL && image >= 0 && image < cfg->layout->image_count &&
        cfg->layout->img[image].strategy == TB_STRATEGY_HANDOVER) {
        /* the net image's confirmation lives in the app core's journal */
        struct tb_boot_ctx c;
        int rc = ctx_init(&c, cfg, image);
        return rc == TB_OK ? tb_handover_confirm(&c) : rc;
    }
    int rc = image_area(cfg, image, false, &a);
    return rc == TB_OK ? tb_trailer_confirm(&a, cfg->layout->max_align) : rc;
}

int tb_boot_slot_state(const struct tb_boot_config *cfg, int image, int slot, struct tb_slot_state *st)
{
    struct tb_boot_ctx c;
    struct tb_image_info info;
    struct tb_trailer_state t;
    memset(st, 0, sizeof(*st));
    if (cfg == NULL || image < 0 || image >= cfg->layout->image_count || slot < 0 || slot > 1) {
        return TB_E_INVAL;
    }
    int rc = ctx_init(&c, cfg, image);
    if (rc != TB_OK) {
        return rc;
    }
    const uint32_t max_align = cfg->layout->max_align;
    if (slot == 0 && cfg->layout->img[image].strategy == TB_STRATEGY_HANDOVER) {
        struct tb_net_state ns;
        tb_handover_state(&c, &ns);
        st->present = ns.known;
        st->ver = ns.ver;
        memcpy(st->hash, ns.hash, 32);
        st->size = c.j.cur >= 0 ? c.j.s.to_size : 0;
        st->bootable = ns.known;
        st->confirmed = ns.confirmed;
        return TB_OK;
    }
    const struct tb_area *img = slot == 0 ? &c.pri_img : &c.sec_img;
    rc = tb_image_validate(img, &cfg->keys, &info);
    if (fatal(rc)) {
        return rc;
    }
    if (rc != TB_OK) {
        return TB_OK; /* not a valid image: not listed */
    }
    st->present = true;
    st->ver = info.hdr.ver;
    memcpy(st->hash, info.hash, 32);
    st->size = info.tlv_end;
    st->bootable = tb_image_bootable(&info.hdr) == TB_OK;
    rc = tb_trailer_read(slot == 0 ? &c.pri : &c.sec, max_align, &t);
    if (rc != TB_OK) {
        return rc;
    }
    if (slot == 0) {
        st->confirmed = t.magic != TB_MAGIC_GOOD || t.image_ok == TB_FLAG_STATE_SET;
    } else if (t.magic == TB_MAGIC_GOOD) {
        st->pending = true;
        st->permanent = t.image_ok == TB_FLAG_STATE_SET;
    }
    return TB_OK;
}

/* The backup of a swap image, signature-checked: TB_E_INVAL (no such image),
 * TB_E_UNSUPPORTED (not a swap image), or what backup_info says. */
static int open_backup(const struct tb_boot_config *cfg, int image, struct tb_boot_ctx *c, struct tb_image_info *bi)
{
    if (cfg == NULL || image < 0 || image >= cfg->layout->image_count) {
        return TB_E_INVAL;
    }
    if (cfg->layout->img[image].strategy != TB_STRATEGY_SWAP) {
        return TB_E_UNSUPPORTED;
    }
    int rc = ctx_init(c, cfg, image);
    return rc == TB_OK ? backup_info(c, bi, true) : rc;
}

int tb_boot_backup_state(const struct tb_boot_config *cfg, int image, struct tb_slot_state *st)
{
    struct tb_boot_ctx c;
    struct tb_image_info bi;
    struct tb_trailer_state t;
    uint8_t want[32];
    memset(st, 0, sizeof(*st));
    int rc = open_backup(cfg, image, &c, &bi);
    if (rc == TB_E_INVAL) {
        return rc;
    }
    if (rc != TB_OK) {
        return fatal(rc) ? rc : TB_OK; /* no backup to show (or none kept for this image) */
    }
    st->present = true;
    st->ver = bi.hdr.ver;
    memcpy(st->hash, bi.hash, 32);
    st->size = bi.tlv_end;
    st->bootable = tb_image_bootable(&bi.hdr) == TB_OK;
    rc = restore_record(&c, want);
    if (rc == 1 && memcmp(want, bi.hash, 32) == 0) {
        rc = tb_trailer_read(&c.sec, cfg->layout->max_align, &t);
        st->pending = rc == TB_OK && t.magic == TB_MAGIC_GOOD;
        st->permanent = st->pending && t.image_ok == TB_FLAG_STATE_SET;
    }
    return rc < 0 ? rc : TB_OK;
}

int tb_boot_request_backup(const struct tb_boot_config *cfg, int image, const uint8_t hash[32], bool permanent)
{
    struct tb_boot_ctx c;
    struct tb_image_info bi;
    uint8_t raw[64];
    int rc = open_backup(cfg, image, &c, &bi);
    if (rc != TB_OK) {
        return rc;
    }
    if (memcmp(bi.hash, hash, 32) != 0) {
        return TB_E_BOOT_NO_BACKUP;
    }
    uint32_t ws = c.sec.flash->write_size, len = (RESTORE_LEN + ws - 1) / ws * ws;
    if (len > sizeof(raw)) {
        return TB_E_ALIGN;
    }
    memset(raw, 0xff, sizeof(raw));
    tb_put32(raw, RESTORE_MAGIC);
    memcpy(raw + 4, hash, 32);
    tb_put32(raw + 36, tb_crc32(0, raw, 36));
    /* the record, then the request: a reset in between leaves no request */
    rc = tb_clear_request(&c);
    if (rc == TB_OK) {
        rc = tb_area_program(&c.sec, c.sec.size - c.sector, raw, len);
    }
    return rc == TB_OK ? tb_trailer_request(&c.sec, cfg->layout->max_align, (uint8_t)image, permanent) : rc;
}
