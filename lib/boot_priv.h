/* Inside the boot engine: the context the strategies share, and the one
 * interface every update strategy implements (one file per strategy). */
#ifndef TB_BOOT_PRIV_H
#define TB_BOOT_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "twinboot/boot.h"
#include "twinboot/journal.h"
#include "twinboot/layout.h"

/* Bytes moved per flash read/program while copying: one QSPI page, so a
 * backup page programmed inside the QSPI chip overlaps the NVMC programming
 * of the next chunk (see swap.c). */
#define TB_COPY_CHUNK 256U

struct tb_boot_ctx {
    const struct tb_boot_config *cfg;
    int image;
    struct tb_area pri, sec, bak; /* bak.size == 0 when the strategy has none */
    struct tb_area pri_img, sec_img, bak_img; /* the slots less their trailer sector: where images live */
    uint32_t sector;              /* sector size shared by pri/sec/bak */
    struct tb_journal j;
    int bak_erased;               /* backup sector known erased in this run, -1: none */
    uint32_t nc_seq;              /* handover: last command sequence number */
    struct tb_boot_image_record *rec; /* where this boot's validation work is counted; NULL: nowhere */
    uint8_t trusted[64];          /* a digest whose signature this boot verified for this image */
    uint8_t trusted_len;          /* 0: none yet */
    uint8_t buf[TB_COPY_CHUNK];
    uint8_t side[TB_COPY_CHUNK];
};

/* A second copy carried along with a sector copy, chunk by chunk: its
 * programs go to another flash part and run there while the first copy's
 * programs keep the CPU busy. */
struct tb_side_copy {
    const struct tb_area *dst, *src;
    uint32_t sector;
};

/* An install: what the strategy needs to know, all also kept in the journal. */
struct tb_install {
    bool permanent;
    bool backup;                 /* copy the primary to the backup first */
    const struct tb_image_info *from; /* the image being replaced (or what the backup keeps); NULL: none */
    const struct tb_image_info *to;
    const uint8_t *partner;      /* one half of an update set: the other half's new image hash */
};

struct tb_strategy_ops {
    /* start and carry out an install of the secondary */
    int (*install)(struct tb_boot_ctx *c, const struct tb_install *in);
    /* put the backup back (NULL: the strategy cannot revert) */
    int (*revert)(struct tb_boot_ctx *c, const struct tb_image_info *cur, const struct tb_image_info *bak);
    /* carry on with the journal's current session, which is not done */
    int (*resume)(struct tb_boot_ctx *c);
};

extern const struct tb_strategy_ops tb_strategy_swap;
extern const struct tb_strategy_ops tb_strategy_overwrite;

/* Validate the image in a: its hash, and with sig its signature too, unless
 * the digest is one whose signature this boot already verified for this
 * image (lib/boot_validate.c). The work is counted in c->rec. */
int tb_boot_validate(struct tb_boot_ctx *c, const struct tb_area *a, bool sig, struct tb_image_info *info);

/* shared helpers (lib/boot_copy.c) */
uint32_t tb_sectors_for(const struct tb_boot_ctx *c, uint32_t bytes);
/* erase dst sector i (unless skip_erase), then copy src sector i into it, leaving erased chunks
 * alone; side, if not NULL, is copied along (its destination sector already erased) */
int tb_copy_sector(struct tb_boot_ctx *c, const struct tb_area *dst, const struct tb_area *src, uint32_t i,
                   bool skip_erase, const struct tb_side_copy *side);
/* the trailer of the primary after an install or a revert */
int tb_write_primary_trailer(struct tb_boot_ctx *c, bool image_ok);
/* erase the secondary's trailer sector: the request is consumed */
int tb_clear_request(struct tb_boot_ctx *c);
void tb_session_fill(struct tb_journal_session *s, uint8_t op, const struct tb_boot_ctx *c,
                     const struct tb_image_info *from, const struct tb_image_info *to);

/* The handover strategy (lib/handover.c): image 1's state as the app core's
 * journal records it. */
struct tb_net_state {
    bool known;        /* a completed session says what is installed */
    uint8_t hash[32];
    struct tb_image_version ver;
    bool test, confirmed, set;
    bool backup_known; /* the backup holds backup_hash */
    uint8_t backup_hash[32];
};
void tb_handover_state(const struct tb_boot_ctx *c, struct tb_net_state *st);
int tb_handover_info(struct tb_boot_ctx *c, struct tb_nc_response *rsp);
int tb_handover_resume(struct tb_boot_ctx *c);
int tb_handover_install(struct tb_boot_ctx *c, struct tb_image_info *to, bool permanent, const uint8_t *partner);
int tb_handover_revert(struct tb_boot_ctx *c);
int tb_handover_check(struct tb_boot_ctx *c, struct tb_boot_image_record *r);
int tb_handover_confirm(struct tb_boot_ctx *c);
int tb_handover_mark_boot(struct tb_boot_ctx *c);

#endif
