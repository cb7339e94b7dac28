/* Partition layout: where each image's slots and the engine's own areas
 * live, and which strategy updates the image. Configuration data, checked at
 * start (tb_layout_check), not a compile-time mode. */
#ifndef TWINBOOT_LAYOUT_H
#define TWINBOOT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "twinboot/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TB_MAX_IMAGES 2
#define TB_MAX_FLASHES 4

/* How an image is updated. */
enum tb_strategy {
    TB_STRATEGY_NONE = 0,      /* slot exists, never updated by the engine */
    TB_STRATEGY_SWAP = 1,      /* test / confirm / revert, via a backup of the old image */
    TB_STRATEGY_OVERWRITE = 2, /* copy over the primary, no revert */
    TB_STRATEGY_HANDOVER = 3,  /* network core: hand-over through shared RAM (issue 5) */
};

/* A region of one of the device's flash parts (index into tb_device.flashes). */
struct tb_region {
    uint8_t flash;
    uint32_t off;
    uint32_t size; /* 0: not present */
};

struct tb_image_layout {
    uint8_t strategy;           /* enum tb_strategy */
    struct tb_region primary;   /* where the image runs from; its last sector holds the trailer */
    struct tb_region secondary; /* where uploads land; its last sector holds the trailer */
    struct tb_region backup;    /* SWAP: the previous image, for revert (>= primary size) */
    struct tb_region status;    /* SWAP/OVERWRITE: progress journal, exactly 2 sectors */
};

struct tb_layout {
    uint8_t image_count;
    uint32_t max_align; /* BOOT_MAX_ALIGN of the trailers: 8 (16, 32 with the alternative magic) */
    struct tb_image_layout img[TB_MAX_IMAGES];
};

/* The flash parts a layout's regions refer to. */
struct tb_device {
    const struct tb_flash *flashes[TB_MAX_FLASHES];
    size_t nflash;
};

/* What tb_layout_check found wrong: image (-1: the layout itself), the
 * region's name ("primary", ...) and a sentence. */
struct tb_layout_issue {
    int image;
    const char *region;
    const char *what;
};

/* TB_OK, or TB_E_INVAL with *issue saying what is wrong: unknown flash,
 * region outside its flash, not sector-aligned, overlaps, slot too small for
 * an image sector plus its trailer sector, sector sizes the strategy cannot
 * copy between, a backup smaller than the primary, a status area that is not
 * two sectors, write blocks larger than the trailer alignment. */
int tb_layout_check(const struct tb_layout *l, const struct tb_device *dev, struct tb_layout_issue *issue);

/* An area for a region (no checks beyond the flash index). */
int tb_region_area(const struct tb_device *dev, const struct tb_region *r, struct tb_area *a);

/* The nRF5340 DK: flash 0 app-core NVMC, 1 net-core NVMC, 2 QSPI MX25R64. */
extern const struct tb_layout tb_layout_nrf5340_dk;
/* ... and its shared RAM region (app-core addresses) for net-core hand-overs. */
extern const uint32_t tb_layout_nrf5340_dk_shmem_base;
extern const uint32_t tb_layout_nrf5340_dk_shmem_size;

#ifdef __cplusplus
}
#endif
#endif
