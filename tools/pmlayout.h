/* Layouts from NCS's Partition Manager: read a partitions.yml (the build's
 * output) or a pm_static.yml with libyaml, map it onto twinboot's struct
 * tb_layout for the nRF5340 DK, and check what twinboot needs beyond what
 * tb_layout_check already checks (docs/user-guide.md, "Moving an NCS project
 * to twinboot"). Host code: the firmware gets the result as C source
 * (tb_pm_write_c), never libyaml. */
#ifndef TB_TOOLS_PMLAYOUT_H
#define TB_TOOLS_PMLAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "twinboot/layout.h"

#define TB_PM_MAX_PARTS 96
#define TB_PM_MAX_SPAN 8
#define TB_PM_NAME_MAX 48

/* One partition as Partition Manager writes it. Keys twinboot does not use
 * (placement, share_size, sharers, inside, ...) are accepted and ignored. */
struct tb_pm_part {
    char name[TB_PM_NAME_MAX];
    char region[TB_PM_NAME_MAX]; /* "flash_primary" when absent, as PM assumes */
    char device[TB_PM_NAME_MAX]; /* "" when absent */
    uint32_t addr;
    uint32_t size;
    char span[TB_PM_MAX_SPAN][TB_PM_NAME_MAX]; /* span: the partitions this one covers */
    uint8_t nspan;
    int line; /* where it is defined, for messages */
};

struct tb_pm_file {
    struct tb_pm_part part[TB_PM_MAX_PARTS];
    size_t n;
};

/* What went wrong, for the user: "FILE:LINE: sentence" (line 0: no line). */
struct tb_pm_error {
    int line;
    char msg[256];
};

/* Parse a partitions.yml / pm_static.yml. TB_OK, or TB_E_INVAL (bad YAML,
 * not a PM file, a bad number, end_address disagreeing with address + size,
 * a name twice) or TB_E_NOSPACE (more partitions than we keep), with *err. */
int tb_pm_parse(const uint8_t *buf, size_t len, struct tb_pm_file *f, struct tb_pm_error *err);

const struct tb_pm_part *tb_pm_find(const struct tb_pm_file *f, const char *name);

/* The DK's flash parts (geometry only), indexed as in tb_layout_nrf5340_dk. */
struct tb_pm_dk {
    struct tb_flash flash[3];
    struct tb_device dev;
};
void tb_pm_dk_init(struct tb_pm_dk *dk);

/* Where each twinboot region came from. */
struct tb_pm_source {
    const char *name; /* the PM partition ("mcuboot_primary", "twinboot_backup", ...) */
    bool planned;     /* not in the file: placed by twinboot in free external flash */
};

/* The layout twinboot gets out of a PM file, and the facts around it. */
struct tb_pm_layout {
    struct tb_layout lay;
    struct tb_pm_source src[TB_MAX_IMAGES][4]; /* primary, secondary, backup, status */
    uint32_t net_app;        /* absolute address of the net application (0: no image 1) */
    bool net_app_assumed;    /* not in the file: NCS's default after b0n's container */
    uint32_t shm_base;       /* the shared RAM region: pcd_sram's place ... */
    uint32_t shm_size;       /* ... grown to the command block plus a whole net slot */
    uint32_t header_size;    /* mcuboot_pad's size: sign with --header-size this (0: unknown) */
    bool planned;            /* some twinboot partitions were placed by us */
    uint32_t ext_free_off;   /* external_flash (the free space) after planning: where it starts now */
    uint32_t ext_free_end;   /*   and ends (0: untouched; == ext_free_off: none is left) */
};

/* Map PM partitions onto a tb_layout for the DK and check it: TB_OK, or
 * TB_E_INVAL with a sentence in *err (a missing partition, a region in the
 * wrong flash, overlaps, no room for twinboot's partitions, or whatever
 * tb_layout_check refuses). The net application is the net file's app
 * partition; without a net file (net NULL), mcuboot_primary_1 when it lies in
 * the net core's flash, else NCS's default address after b0n's container. */
int tb_pm_map(const struct tb_pm_file *app, const struct tb_pm_file *net, const struct tb_pm_dk *dk,
              struct tb_pm_layout *out, struct tb_pm_error *err);

/* Read FILE (and NETFILE, may be NULL), parse and map it. TB_OK or an error
 * with "FILE:LINE: ..." in msg. */
int tb_pm_load(const char *path, const char *netpath, struct tb_pm_layout *out, char *msg, size_t msglen);

/* A simulated device keeps its layout as DIR/layout.yml (twinboot sim new
 * --layout). tb_pm_sim_read checks FILE (the simulated DK runs both cores:
 * image 1 needed) and gives its bytes, for the device's save; the caller
 * frees them (tb_blob_free). tb_pm_sim_layout gives a device's layout:
 * DIR/layout.yml's, or tb_layout_nrf5340_dk when there is none. TB_OK or an
 * error in msg. */
#define TB_PM_SIM_FILE "layout.yml"
struct tb_blob;
int tb_pm_sim_read(const char *path, struct tb_blob *out, char *msg, size_t msglen);
int tb_pm_sim_layout(const char *dir, struct tb_layout *lay, char *msg, size_t msglen);

/* The pm_static.yml fragment that pins twinboot's planned partitions (and
 * the external_flash free space that is left). */
void tb_pm_write_fragment(FILE *o, const struct tb_pm_layout *l);
/* A C source that defines `const struct tb_layout NAME` (the same contents
 * the simulator gets) and NAME_shmem_base / NAME_shmem_size. */
void tb_pm_write_c(FILE *o, const struct tb_pm_layout *l, const char *name, const char *from);

#endif
