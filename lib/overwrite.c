/* Strategy "overwrite": the secondary is copied over the primary, no backup,
 * no revert (MCUboot's overwrite-only). Journaled like the swap strategy, so
 * a reset mid-copy resumes instead of leaving half an image. */
#include <string.h>

#include "boot_priv.h"
#include "twinboot/error.h"

#define OW_CLEAR 1U
#define OW_COPY(i) (2U + (i))
#define OW_TRAILER(n) (2U + (n))

static int run_overwrite(struct tb_boot_ctx *c)
{
    const struct tb_journal_session *s = &c->j.s;
    const uint32_t n = s->nsect;
    const uint32_t to_n = tb_sectors_for(c, s->to_size);
    struct tb_area src;
    int src_rc = tb_source_view(c, &src);
    for (uint32_t step = c->j.last_step + 1U; step <= OW_TRAILER(n); step++) {
        int rc;
        if (step == OW_CLEAR) {
            rc = tb_clear_request(c);
        } else if (step == OW_TRAILER(n)) {
            rc = tb_write_primary_trailer(c, true); /* nothing to revert to: confirmed */
        } else {
            uint32_t i = step - 2U;
            rc = i < to_n ? (src_rc != TB_OK ? src_rc : tb_copy_sector(c, &c->pri, &src, i, false, NULL))
                          : tb_area_erase(&c->pri, i * c->sector, c->sector);
        }
        if (rc == TB_OK) {
            rc = tb_journal_mark(&c->j, (uint16_t)step);
        }
        if (rc != TB_OK) {
            return rc;
        }
    }
    return tb_journal_mark(&c->j, TB_STEP_DONE);
}

static int overwrite_install(struct tb_boot_ctx *c, const struct tb_install *in)
{
    struct tb_journal_session s;
    tb_session_fill(&s, TB_OP_OVERWRITE, c, in->from, in->to);
    s.flags = (uint8_t)(TB_JF_PERMANENT | (in->partner != NULL ? TB_JF_SET : 0U));
    if (in->partner != NULL) {
        memcpy(s.partner_hash, in->partner, TB_JOURNAL_HASH_LEN);
    }
    int rc = tb_journal_begin(&c->j, &s);
    return rc == TB_OK ? run_overwrite(c) : rc;
}

static int overwrite_resume(struct tb_boot_ctx *c)
{
    return c->j.s.op == TB_OP_OVERWRITE ? run_overwrite(c) : TB_E_BOOT_JOURNAL;
}

const struct tb_strategy_ops tb_strategy_overwrite = {
    .install = overwrite_install,
    .revert = NULL,
    .resume = overwrite_resume,
};
