/* The boot engine: one pass per reset, one image at a time, each by its own
 * strategy. See include/twinboot/boot.h and docs/boot-engine.md. */
#include "twinboot/boot.h"

#include <string.h>

#include "boot_priv.h"
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
    c->sector = c->pri.flash->sector_size;
    /* Images may not reach into the last sector of a slot: it holds the trailer. */
    c->pri_img = c->pri;
    c->pri_img.size -= c->sector;
    c->sec_img = c->sec;
    c->sec_img.size -= c->sector;
    c->bak_img = c->bak;
    if (c->bak.size != 0) {
        c->bak_img.size = c->pri_img.size;
    }
    struct tb_area st;
    rc = tb_region_area(cfg->dev, &im->status, &st);
    return rc == TB_OK ? tb_journal_open(&c->j, &st) : rc;
}

static int validate(const struct tb_boot_ctx *c, const struct tb_area *a, struct tb_image_info *info)
{
    int rc = tb_image_validate(a, &c->cfg->keys, info);
    if (rc == TB_OK) {
        rc = tb_image_bootable(&info->hdr);
    }
    return rc;
}

static void unpack_version(const uint8_t p[8], struct tb_image_version *v)
{
    v->major = p[0];
    v->minor = p[1];
    v->revision = (uint16_t)(p[2] | (p[3] << 8));
    v->build = (uint32_t)p[4] | ((uint32_t)p[5] << 8) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 24);
}

/* The version an image will run after this boot: its primary's. Images of
 * other strategies (the net core) report theirs from issue 5 on. */
static int current_version(const struct tb_boot_config *cfg, int image, struct tb_image_version *v)
{
    if (image < 0 || image >= cfg->layout->image_count) {
        return TB_E_BOOT_DEPENDENCY;
    }
    const struct tb_image_layout *im = &cfg->layout->img[image];
    if (im->strategy == TB_STRATEGY_HANDOVER) {
        return TB_E_BOOT_DEPENDENCY; /* the net core's version is not known to this engine yet */
    }
    struct tb_area a;
    struct tb_image_info info;
    int rc = tb_region_area(cfg->dev, &im->primary, &a);
    if (rc != TB_OK) {
        return rc;
    }
    a.size -= cfg->dev->flashes[im->primary.flash]->sector_size;
    rc = tb_image_validate(&a, &cfg->keys, &info);
    if (rc != TB_OK) {
        return fatal(rc) ? rc : TB_E_BOOT_DEPENDENCY;
    }
    *v = info.hdr.ver;
    return TB_OK;
}

/* May this validated secondary replace the running image? */
static int admissible(const struct tb_boot_ctx *c, const struct tb_image_info *to, const struct tb_image_info *from)
{
    const struct tb_boot_config *cfg = c->cfg;
    if (from != NULL && cfg->downgrade_prevention) {
        if (cfg->sec_cnt_downgrade) {
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
        if (d->image_id == c->image) {
            have = to->hdr.ver;
        } else {
            int rc = current_version(cfg, d->image_id, &have);
            if (rc != TB_OK) {
                return rc;
            }
        }
        if (tb_version_cmp(&have, &d->min_version, false) < 0) {
            return TB_E_BOOT_DEPENDENCY;
        }
    }
    return TB_OK;
}

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

/* A valid backup holding the image the journal names. */
static int backup_info(const struct tb_boot_ctx *c, struct tb_image_info *bi)
{
    const uint8_t *want = backup_hash(&c->j);
    if (c->bak.size == 0 || want == NULL) {
        return TB_E_BOOT_NO_BACKUP;
    }
    int rc = validate(c, &c->bak_img, bi);
    if (rc != TB_OK) {
        return fatal(rc) ? rc : TB_E_BOOT_NO_BACKUP;
    }
    return memcmp(bi->hash, want, 32) == 0 ? TB_OK : TB_E_BOOT_NO_BACKUP;
}

static void record_image(struct tb_image_version *v, uint8_t hash[32], const struct tb_image_info *info)
{
    *v = info->hdr.ver;
    memcpy(hash, info->hash, 32);
}

static int install(struct tb_boot_ctx *c, const struct tb_strategy_ops *ops, int type, bool pri_ok,
                   struct tb_image_info *pi, const struct tb_trailer_state *pt, struct tb_boot_image_record *r)
{
    struct tb_image_info si, bi;
    int rc = validate(c, &c->sec_img, &si);
    if (rc == TB_OK) {
        rc = admissible(c, &si, pri_ok ? pi : NULL);
    }
    if (rc != TB_OK) {
        if (fatal(rc)) {
            return rc;
        }
        /* refused: the request goes, the reason is kept, the primary boots on */
        r->action = TB_ACT_REFUSED;
        r->reason = rc;
        return tb_clear_request(c);
    }
    struct tb_install in = {.permanent = type == TB_SWAP_PERM, .backup = false, .from = NULL, .to = &si};
    if (ops == &tb_strategy_swap && pri_ok) {
        in.backup = true;
        in.from = pi;
        /* The primary is an unconfirmed test image and the backup still holds
         * the last confirmed one: keep that backup, do not save the test image. */
        bool testing = pt->magic == TB_MAGIC_GOOD && pt->image_ok == TB_FLAG_STATE_UNSET &&
                       pt->copy_done == TB_FLAG_STATE_SET;
        if (testing) {
            rc = backup_info(c, &bi);
            if (fatal(rc)) {
                return rc;
            }
            if (rc == TB_OK) {
                in.backup = false;
                in.from = &bi;
            }
        }
    } else if (ops == &tb_strategy_swap) {
        in.permanent = true; /* nothing valid to come back to */
    } else if (pri_ok) {
        in.from = pi;
    }
    record_image(&r->to, r->to_hash, &si);
    rc = ops->install(c, &in);
    if (rc != TB_OK) {
        return rc;
    }
    r->action = ops == &tb_strategy_overwrite ? TB_ACT_OVERWRITE
                : in.permanent                ? TB_ACT_UPGRADE_PERM
                                              : TB_ACT_UPGRADE_TEST;
    return TB_OK;
}

/* The primary is a test image that was never confirmed. */
static int handle_revert(struct tb_boot_ctx *c, const struct tb_strategy_ops *ops, bool pri_ok,
                         const struct tb_image_info *pi, struct tb_boot_image_record *r)
{
    struct tb_image_info bi;
    const struct tb_journal *j = &c->j;
    bool ours = pri_ok && j->cur >= 0 && tb_journal_done(j) && j->s.op == TB_OP_UPGRADE &&
                memcmp(j->s.to_hash, pi->hash, 32) == 0;
    uint8_t max = c->cfg->max_test_boots ? c->cfg->max_test_boots : 1;
    if (ours && (uint32_t)j->boots + 1U < max) {
        r->action = TB_ACT_TEST_BOOT;
        return tb_journal_mark(&c->j, TB_STEP_BOOT);
    }
    int rc = (ours && ops->revert != NULL) ? backup_info(c, &bi) : TB_E_BOOT_NO_BACKUP;
    if (fatal(rc)) {
        return rc;
    }
    if (rc == TB_OK) {
        record_image(&r->to, r->to_hash, &bi);
        rc = ops->revert(c, pi, &bi);
        if (rc == TB_OK) {
            r->action = TB_ACT_REVERT;
        }
        return rc;
    }
    /* Nothing to go back to: keep what runs rather than loop on a revert
     * that cannot happen. */
    r->action = TB_ACT_STABILIZED;
    r->reason = rc;
    return tb_trailer_confirm(&c->pri, c->cfg->layout->max_align);
}

static void record_resumed(const struct tb_journal *j, struct tb_boot_image_record *r)
{
    r->resumed = 1;
    switch (j->s.op) {
    case TB_OP_UPGRADE:
        r->action = (j->s.flags & TB_JF_PERMANENT) ? TB_ACT_UPGRADE_PERM : TB_ACT_UPGRADE_TEST;
        break;
    case TB_OP_REVERT: r->action = TB_ACT_REVERT; break;
    case TB_OP_OVERWRITE: r->action = TB_ACT_OVERWRITE; break;
    default: break;
    }
    unpack_version(j->s.to_ver, &r->to);
    memcpy(r->to_hash, j->s.to_hash, 32);
}

static int boot_image(const struct tb_boot_config *cfg, int image, struct tb_boot_image_record *r)
{
    struct tb_boot_ctx c;
    struct tb_image_info pi;
    struct tb_trailer_state pt, st;
    const uint32_t max_align = cfg->layout->max_align;
    const struct tb_strategy_ops *ops =
        cfg->layout->img[image].strategy == TB_STRATEGY_SWAP ? &tb_strategy_swap : &tb_strategy_overwrite;

    int rc = ctx_init(&c, cfg, image);
    if (rc != TB_OK) {
        return rc;
    }
    /* What ran before this reset. */
    int prc = validate(&c, &c.pri_img, &pi);
    if (fatal(prc)) {
        return prc;
    }
    if (prc == TB_OK) {
        record_image(&r->from, r->from_hash, &pi);
    }

    /* 1. An operation cut short by a reset is finished first. */
    if (c.j.cur >= 0 && !tb_journal_done(&c.j)) {
        if (c.j.s.op == TB_OP_UPGRADE || c.j.s.op == TB_OP_OVERWRITE) {
            /* its source must still be the image the journal names */
            struct tb_image_info si;
            rc = validate(&c, &c.sec_img, &si);
            if (fatal(rc)) {
                return rc;
            }
            if (rc != TB_OK || memcmp(si.hash, c.j.s.to_hash, 32) != 0) {
                r->reason = TB_E_BOOT_JOURNAL;
                goto decide;
            }
        }
        if (c.j.s.op == TB_OP_REVERT) {
            struct tb_image_info bi;
            rc = validate(&c, &c.bak_img, &bi);
            if (fatal(rc)) {
                return rc;
            }
            if (rc != TB_OK || memcmp(bi.hash, c.j.s.to_hash, 32) != 0) {
                r->reason = TB_E_BOOT_JOURNAL;
                goto decide;
            }
        }
        rc = ops->resume(&c);
        if (rc != TB_OK) {
            return rc;
        }
        record_resumed(&c.j, r);
        prc = validate(&c, &c.pri_img, &pi);
        if (fatal(prc)) {
            return prc;
        }
        /* A finished upgrade boots its image now: this is its test boot, not a
         * reset that should revert it. */
        if (c.j.s.op == TB_OP_UPGRADE) {
            goto check;
        }
    }

decide:
    /* 2. MCUboot's table on the two trailers. */
    rc = tb_trailer_read(&c.pri, max_align, &pt);
    if (rc == TB_OK) {
        rc = tb_trailer_read(&c.sec, max_align, &st);
    }
    if (rc != TB_OK) {
        return rc;
    }
    int type = tb_swap_type(&pt, &st);
    if (type == TB_SWAP_TEST || type == TB_SWAP_PERM) {
        rc = install(&c, ops, type, prc == TB_OK, &pi, &pt, r);
    } else if (type == TB_SWAP_REVERT) {
        rc = handle_revert(&c, ops, prc == TB_OK, &pi, r);
    }
    if (rc != TB_OK) {
        return rc;
    }

check:
    /* 3. What boots now must be valid; if not, the last good image comes back. */
    prc = validate(&c, &c.pri_img, &pi);
    if (fatal(prc)) {
        return prc;
    }
    if (prc != TB_OK && ops->revert != NULL) {
        struct tb_image_info bi;
        rc = backup_info(&c, &bi);
        if (fatal(rc)) {
            return rc;
        }
        if (rc == TB_OK) {
            rc = ops->revert(&c, NULL, &bi);
            if (rc != TB_OK) {
                return rc;
            }
            r->action = TB_ACT_RECOVERED;
            r->reason = prc;
            prc = validate(&c, &c.pri_img, &pi);
            if (fatal(prc)) {
                return prc;
            }
        }
    }
    if (prc == TB_OK) {
        r->valid = 1;
        record_image(&r->to, r->to_hash, &pi);
        rc = tb_trailer_read(&c.pri, max_align, &pt);
        if (rc != TB_OK) {
            return rc;
        }
        /* no trailer at all (flashed by a debugger) counts as confirmed, as in MCUboot */
        r->confirmed = pt.magic != TB_MAGIC_GOOD || pt.image_ok == TB_FLAG_STATE_SET;
    } else {
        if (r->action == TB_ACT_NONE) {
            r->action = TB_ACT_NO_IMAGE;
        }
        if (r->reason == TB_OK) {
            r->reason = prc;
        }
    }
    return TB_OK;
}

int tb_boot_go(const struct tb_boot_config *cfg, struct tb_boot_record *rec)
{
    struct tb_layout_issue issue;
    memset(rec, 0, sizeof(*rec));
    rec->magic = TB_BOOT_RECORD_MAGIC;
    rec->result = TB_E_BOOT_NO_IMAGE;
    if (cfg == NULL || cfg->layout == NULL || tb_layout_check(cfg->layout, cfg->dev, &issue) != TB_OK) {
        rec->result = TB_E_BOOT_LAYOUT;
        return TB_E_BOOT_LAYOUT;
    }
    rec->image_count = cfg->layout->image_count;
    for (int i = 0; i < cfg->layout->image_count; i++) {
        struct tb_boot_image_record *r = &rec->img[i];
        switch (cfg->layout->img[i].strategy) {
        case TB_STRATEGY_SWAP:
        case TB_STRATEGY_OVERWRITE: {
            int rc = boot_image(cfg, i, r);
            if (rc != TB_OK) {
                r->reason = rc;
                return rc;
            }
            break;
        }
        default: r->action = TB_ACT_DEFERRED; break;
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
    int rc = image_area(cfg, image, false, &a);
    return rc == TB_OK ? tb_trailer_confirm(&a, cfg->layout->max_align) : rc;
}
