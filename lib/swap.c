/* Strategy "swap": test / confirm / revert through a backup of the old image.
 *
 * Upgrade: for each sector i, copy primary[i] to backup[i] (QSPI), then
 * secondary[i] to primary[i]. Revert: backup[i] back to primary[i]; the
 * test image stays in the secondary (its request is gone). So each primary
 * sector is erased once per upgrade and once per revert. The QSPI work of
 * the backup hides behind NVMC work: backup[i+1] is erased (inside the QSPI
 * chip) while the CPU erases primary[i], and programmed page by page while
 * the CPU programs primary[i]. Steps are logged in the journal; each is
 * idempotent (its sources are untouched until it is logged), so a reset at
 * any point resumes at the first step not logged. docs/boot-engine.md has
 * the full design. */
#include <string.h>

#include "boot_priv.h"
#include "twinboot/error.h"

/* Journal step numbers of an upgrade of n sectors. */
#define UP_CLEAR 1U
#define UP_BACKUP(i) (2U + 2U * (i))
#define UP_COPY(i) (3U + 2U * (i))
#define UP_TRAILER(n) (2U + 2U * (n))
/* ... and of a revert. */
#define RV_RESTORE(i) (1U + (i))
#define RV_TRAILER(n) (1U + (n))

static int mark(struct tb_boot_ctx *c, uint32_t step) { return tb_journal_mark(&c->j, (uint16_t)step); }

/* backup[i] from primary[i], unless the copy of sector i-1 already carried
 * it along; then start erasing backup[i+1] inside the QSPI chip. */
static int backup_step(struct tb_boot_ctx *c, uint32_t i, uint32_t bk, bool carried)
{
    int rc = carried ? TB_OK : tb_copy_sector(c, &c->bak, &c->pri, i, c->bak_erased == (int)i, NULL);
    if (rc == TB_OK) {
        rc = mark(c, UP_BACKUP(i));
    }
    if (rc == TB_OK && i + 1 < bk) {
        rc = tb_area_erase(&c->bak, (i + 1) * c->sector, c->sector);
        c->bak_erased = rc == TB_OK ? (int)(i + 1) : -1;
    }
    return rc;
}

static int run_upgrade(struct tb_boot_ctx *c)
{
    const struct tb_journal_session *s = &c->j.s;
    const uint32_t n = s->nsect;
    const uint32_t bk = (s->flags & TB_JF_BACKUP) ? tb_sectors_for(c, s->from_size) : 0;
    const uint32_t to_n = tb_sectors_for(c, s->to_size);
    int carried = -1; /* backup sector already written along with a copy, in this run */
    struct tb_area src;
    int src_rc = tb_source_view(c, &src); /* a compressed image: decoded from its start, skipping done sectors */
    for (uint32_t step = c->j.last_step + 1U; step <= UP_TRAILER(n); step++) {
        int rc;
        if (step == UP_CLEAR) {
            rc = tb_clear_request(c);
        } else if (step == UP_TRAILER(n)) {
            rc = tb_write_primary_trailer(c, (s->flags & TB_JF_PERMANENT) != 0);
        } else if (step % 2U == 0U) {
            uint32_t i = (step - 2U) / 2U;
            if (i >= bk) {
                continue; /* nothing of the old image there */
            }
            rc = backup_step(c, i, bk, carried == (int)i);
            if (rc != TB_OK) {
                return rc;
            }
            continue;
        } else {
            uint32_t i = (step - 3U) / 2U;
            /* carry backup[i+1] along if its sector is known erased in this run */
            struct tb_side_copy side = {&c->bak, &c->pri, i + 1U};
            bool carry = i + 1U < bk && c->bak_erased == (int)(i + 1U);
            if (i < to_n) {
                rc = src_rc != TB_OK ? src_rc : tb_copy_sector(c, &c->pri, &src, i, false, carry ? &side : NULL);
            } else {
                rc = tb_area_erase(&c->pri, i * c->sector, c->sector);
                carry = false;
            }
            carried = rc == TB_OK && carry ? (int)(i + 1U) : -1;
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

static int run_revert(struct tb_boot_ctx *c)
{
    const struct tb_journal_session *s = &c->j.s;
    const uint32_t n = s->nsect;
    const uint32_t to_n = tb_sectors_for(c, s->to_size);
    for (uint32_t step = c->j.last_step + 1U; step <= RV_TRAILER(n); step++) {
        int rc;
        if (step == RV_TRAILER(n)) {
            rc = tb_write_primary_trailer(c, true); /* a restored image is confirmed */
        } else {
            uint32_t i = step - 1U;
            rc = i < to_n ? tb_copy_sector(c, &c->pri, &c->bak, i, false, NULL)
                          : tb_area_erase(&c->pri, i * c->sector, c->sector);
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

static int swap_install(struct tb_boot_ctx *c, const struct tb_install *in)
{
    struct tb_journal_session s;
    tb_session_fill(&s, TB_OP_UPGRADE, c, in->from, in->to);
    s.flags = (uint8_t)((in->permanent ? TB_JF_PERMANENT : 0U) | (in->backup ? TB_JF_BACKUP : 0U) |
                        (in->partner != NULL ? TB_JF_SET : 0U));
    if (in->partner != NULL) {
        memcpy(s.partner_hash, in->partner, TB_JOURNAL_HASH_LEN);
    }
    int rc = tb_journal_begin(&c->j, &s);
    return rc == TB_OK ? run_upgrade(c) : rc;
}

static int swap_revert(struct tb_boot_ctx *c, const struct tb_image_info *cur, const struct tb_image_info *bak)
{
    struct tb_journal_session s;
    tb_session_fill(&s, TB_OP_REVERT, c, cur, bak);
    int rc = tb_journal_begin(&c->j, &s);
    return rc == TB_OK ? run_revert(c) : rc;
}

static int swap_resume(struct tb_boot_ctx *c)
{
    switch (c->j.s.op) {
    case TB_OP_UPGRADE: return run_upgrade(c);
    case TB_OP_REVERT: return run_revert(c);
    default: return TB_E_BOOT_JOURNAL;
    }
}

const struct tb_strategy_ops tb_strategy_swap = {
    .install = swap_install,
    .revert = swap_revert,
    .resume = swap_resume,
};
