/* The progress journal: how an interrupted operation is found and resumed.
 *
 * A status area of two sectors used in turn. An operation (a "session")
 * starts by erasing the older sector and writing a header there (sequence
 * number, operation, sizes and hashes of the images involved, and a check
 * value); then every completed step appends one 4-byte entry. After a reset
 * the valid header with the highest sequence number is the current session
 * and the highest step logged says where to go on. Entries are (step, ~step),
 * so a torn entry can only read as the exact entry or as invalid; a torn
 * header fails its check and the session never started (nothing is done
 * before the header is in place). The other sector keeps the previous
 * session, so e.g. the hash of the image in the backup survives the start of
 * a new operation. */
#ifndef TWINBOOT_JOURNAL_H
#define TWINBOOT_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "twinboot/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tb_journal_op {
    TB_OP_UPGRADE = 1,   /* swap strategy: back up the primary, copy the secondary in */
    TB_OP_REVERT = 2,    /* swap strategy: restore the primary from the backup */
    TB_OP_OVERWRITE = 3, /* overwrite strategy: copy the secondary in, no backup */
    TB_OP_HANDOVER = 4,  /* handover strategy (net core), issue 5 */
};

/* session flags */
#define TB_JF_PERMANENT 0x01U  /* upgrade requested as permanent */
#define TB_JF_BACKUP 0x02U     /* the upgrade backs up the primary (else the backup already holds the image to keep) */
#define TB_JF_SET 0x04U        /* one half of an update set (partner_hash names the other half) */
#define TB_JF_BAK_HI 0x08U     /* handover with a double backup region: the backup is its upper half */

#define TB_JOURNAL_HASH_LEN 32U
#define TB_STEP_DONE 0x7fffU   /* the session's last entry */
#define TB_STEP_BOOT 0x8001U   /* a boot of an unconfirmed test image (counted, not progress) */
#define TB_STEP_CONFIRM 0x8002U /* the application confirmed the image this session installed (handover) */

struct tb_journal_session {
    uint32_t seq;
    uint8_t op;      /* enum tb_journal_op */
    uint8_t image;
    uint8_t flags;   /* TB_JF_* */
    uint8_t reserved;
    uint32_t nsect;  /* sectors the operation walks */
    uint32_t from_size, to_size; /* total image sizes: the image replaced, the image installed */
    uint8_t from_hash[TB_JOURNAL_HASH_LEN];
    uint8_t to_hash[TB_JOURNAL_HASH_LEN];
    uint8_t from_ver[8], to_ver[8]; /* tb_image_version, packed as in the image header */
    uint8_t partner_hash[TB_JOURNAL_HASH_LEN]; /* TB_JF_SET: the other image of the set (its new image) */
};

struct tb_journal {
    struct tb_area area;     /* the two sectors */
    int cur;                 /* sector (0/1) of the current session, -1: none */
    struct tb_journal_session s;
    uint16_t last_step;      /* highest progress step logged (0: none) */
    uint16_t boots;          /* TB_STEP_BOOT entries */
    bool confirmed;          /* a TB_STEP_CONFIRM entry */
    uint32_t next_off;       /* where the next entry goes, in the current sector */
    bool prev_valid;         /* the other sector holds a valid (older) session */
    struct tb_journal_session prev;
};

/* Scan both sectors. TB_OK (possibly with cur == -1) or a flash error. */
int tb_journal_open(struct tb_journal *j, const struct tb_area *status);
/* Start a session (seq = current + 1) in the other sector. */
int tb_journal_begin(struct tb_journal *j, const struct tb_journal_session *s);
/* Append an entry: a progress step (1..TB_STEP_DONE) or TB_STEP_BOOT. */
int tb_journal_mark(struct tb_journal *j, uint16_t step);
static inline bool tb_journal_done(const struct tb_journal *j)
{
    return j->cur >= 0 && j->last_step == TB_STEP_DONE;
}
/* How many entries a sector holds after its header. */
uint32_t tb_journal_capacity(const struct tb_journal *j);

#ifdef __cplusplus
}
#endif
#endif
