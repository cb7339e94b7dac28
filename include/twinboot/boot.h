/* The boot engine: runs on every reset of the app core, applies or resumes
 * what each image's strategy asks for, and says what to boot.
 *
 * Requests and confirmations are the MCUboot trailer bytes stock Zephyr
 * applications write (trailer.h); the decision is MCUboot's swap-type table;
 * how an update is carried out is per image (layout.h): swap with a backup
 * for revert, or overwrite. Every step is recorded in a journal (journal.h)
 * so a power cut at any flash operation is resumed at the next reset. */
#ifndef TWINBOOT_BOOT_H
#define TWINBOOT_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "twinboot/image.h"
#include "twinboot/layout.h"
#include "twinboot/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tb_boot_action {
    TB_ACT_NONE = 0,         /* nothing pending: the primary boots as it is */
    TB_ACT_UPGRADE_TEST = 1, /* the secondary was installed for a test */
    TB_ACT_UPGRADE_PERM = 2, /* the secondary was installed permanently */
    TB_ACT_OVERWRITE = 3,    /* overwrite strategy: the secondary was installed */
    TB_ACT_REVERT = 4,       /* an unconfirmed test image was replaced by the backup */
    TB_ACT_TEST_BOOT = 5,    /* an unconfirmed test image boots again (attempts left) */
    TB_ACT_REFUSED = 6,      /* a request was refused (reason) and cleared */
    TB_ACT_RECOVERED = 7,    /* the primary was invalid: the backup was restored */
    TB_ACT_STABILIZED = 8,   /* test image with nothing to revert to: confirmed as it is */
    TB_ACT_NO_IMAGE = 9,     /* nothing bootable */
    TB_ACT_DEFERRED = 10,    /* handled elsewhere (the net core, issue 5) */
};

struct tb_boot_image_record {
    uint8_t action;    /* enum tb_boot_action */
    uint8_t resumed;   /* an operation interrupted by a reset was completed first */
    uint8_t confirmed; /* the image now in the primary is confirmed */
    uint8_t valid;     /* the primary now holds a valid image */
    uint8_t set;       /* installed, reverted or refused as one half of an update set */
    uint8_t resent;    /* handover: the installed net image was broken and was sent again */
    uint16_t sig_checks; /* signatures verified for this image in this boot (MCUboot: 2 on an upgrade) */
    int32_t reason;    /* tb_err: why a request was refused, or what went wrong; 0 */
    struct tb_image_version from, to; /* versions before and after (equal when nothing changed) */
    uint8_t from_hash[32], to_hash[32];
    uint32_t hashed_bytes; /* bytes the app core hashed for this image in this boot */
};

#define TB_BOOT_RECORD_MAGIC 0x52425442U /* "TBBR" */

/* Handed to the application (in RAM on the chip; a file in the simulator).
 * Fixed-size fields only, so both sides agree on the layout. */
struct tb_boot_record {
    uint32_t magic;
    int32_t result; /* TB_OK: image 0's primary boots; TB_E_BOOT_NO_IMAGE: wait for recovery */
    uint8_t image_count;
    uint8_t pad[3];
    struct tb_boot_image_record img[TB_MAX_IMAGES];
};

struct tb_boot_config {
    const struct tb_layout *layout;
    const struct tb_device *dev;
    struct tb_keyring keys;
    bool downgrade_prevention; /* refuse a version older than the running one (equal is allowed) */
    bool sec_cnt_downgrade;    /* ... judged by SEC_CNT instead of the version */
    uint8_t max_test_boots;    /* resets an unconfirmed test image survives before revert; 0 = 1 (MCUboot) */
    const struct tb_netctl *net; /* handover images: the net core's reset line and a way to wait */
    struct tb_shmem shm;         /* handover images: the shared RAM region (block + window) */
};

/* One reset: TB_OK (boot image 0's primary), TB_E_BOOT_NO_IMAGE, TB_E_BOOT_LAYOUT,
 * or a flash error (TB_E_POWER in the simulator: the power was cut). rec is
 * always filled as far as the engine got. */
int tb_boot_go(const struct tb_boot_config *cfg, struct tb_boot_record *rec);

/* What the running application does (Zephyr's boot_set_pending / boot_set_confirmed). */
int tb_boot_request(const struct tb_boot_config *cfg, int image, bool permanent);
int tb_boot_confirm(const struct tb_boot_config *cfg, int image);

/* What a slot holds, for management (SMP "image list"). Slot 0 of a
 * handover image is the net core's, known from the app core's journal. */
struct tb_slot_state {
    bool present;    /* a valid image, signed by a trusted key */
    struct tb_image_version ver;
    uint8_t hash[32];
    uint32_t size;   /* header + payload + TLVs */
    bool bootable;
    bool confirmed;  /* slot 0: the image will stay */
    bool pending;    /* slot 1: requested for the next reset */
    bool permanent;  /* slot 1: requested as permanent */
};
int tb_boot_slot_state(const struct tb_boot_config *cfg, int image, int slot, struct tb_slot_state *st);

/* The previous image a swap image keeps in its backup (what MCUboot users
 * find in slot 1 after an upgrade): present when the journal names it and
 * it is valid; pending when tb_boot_request_backup asked for it. */
int tb_boot_backup_state(const struct tb_boot_config *cfg, int image, struct tb_slot_state *st);
/* Go back to the backup's image (hash) at the next reset, as a test or
 * permanently: the bootloader copies it into the secondary and installs it
 * as any upload (the old image goes to the backup). TB_E_BOOT_NO_BACKUP if
 * the backup does not hold that image; TB_E_UNSUPPORTED for other strategies. */
int tb_boot_request_backup(const struct tb_boot_config *cfg, int image, const uint8_t hash[32], bool permanent);

const char *tb_boot_action_name(int action);

#ifdef __cplusplus
}
#endif
#endif
