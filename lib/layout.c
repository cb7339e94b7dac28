/* Partition layout checks: a bad layout is refused at start with a sentence
 * that names the image and region, never discovered halfway through a swap. */
#include "twinboot/layout.h"

#include <stdbool.h>

#include "twinboot/error.h"

int tb_region_area(const struct tb_device *dev, const struct tb_region *r, struct tb_area *a)
{
    if (dev == NULL || r == NULL || a == NULL || r->flash >= dev->nflash || dev->flashes[r->flash] == NULL) {
        return TB_E_INVAL;
    }
    a->flash = dev->flashes[r->flash];
    a->off = r->off;
    a->size = r->size;
    return TB_OK;
}

static int fail(struct tb_layout_issue *issue, int image, const char *region, const char *what)
{
    if (issue != NULL) {
        issue->image = image;
        issue->region = region;
        issue->what = what;
    }
    return TB_E_INVAL;
}

static bool overlap(const struct tb_region *a, const struct tb_region *b)
{
    if (a->size == 0 || b->size == 0 || a->flash != b->flash) {
        return false;
    }
    return (uint64_t)a->off < (uint64_t)b->off + b->size && (uint64_t)b->off < (uint64_t)a->off + a->size;
}

/* One region on its own: known flash, inside it, sector-aligned. */
static int check_region(const struct tb_device *dev, const struct tb_region *r, int image, const char *name,
                        struct tb_layout_issue *issue)
{
    if (r->flash >= dev->nflash || dev->flashes[r->flash] == NULL) {
        return fail(issue, image, name, "refers to a flash the device does not have");
    }
    const struct tb_flash *f = dev->flashes[r->flash];
    if ((uint64_t)r->off + r->size > f->size) {
        return fail(issue, image, name, "runs past the end of its flash");
    }
    if (f->sector_size == 0 || r->off % f->sector_size != 0 || r->size % f->sector_size != 0) {
        return fail(issue, image, name, "is not aligned to its flash's sectors");
    }
    return TB_OK;
}

static uint32_t sector_of(const struct tb_device *dev, const struct tb_region *r)
{
    return dev->flashes[r->flash]->sector_size;
}

int tb_layout_check(const struct tb_layout *l, const struct tb_device *dev, struct tb_layout_issue *issue)
{
    static const char *names[4] = {"primary", "secondary", "backup", "status"};
    if (l == NULL || dev == NULL) {
        return fail(issue, -1, "layout", "missing");
    }
    if (l->image_count == 0 || l->image_count > TB_MAX_IMAGES) {
        return fail(issue, -1, "layout", "needs 1 or 2 images");
    }
    if (l->max_align != 8 && l->max_align != 16 && l->max_align != 32) {
        return fail(issue, -1, "layout", "max_align must be 8, 16 or 32");
    }
    for (int i = 0; i < l->image_count; i++) {
        const struct tb_image_layout *im = &l->img[i];
        const struct tb_region *r[4] = {&im->primary, &im->secondary, &im->backup, &im->status};
        if (im->strategy > TB_STRATEGY_HANDOVER) {
            return fail(issue, i, "strategy", "is not swap, overwrite or handover");
        }
        bool need_backup = im->strategy == TB_STRATEGY_SWAP || im->strategy == TB_STRATEGY_HANDOVER;
        bool need_status = im->strategy != TB_STRATEGY_NONE;
        bool need_secondary = im->strategy != TB_STRATEGY_NONE;
        bool need[4] = {true, need_secondary, need_backup, need_status};
        for (int k = 0; k < 4; k++) {
            if (r[k]->size == 0) {
                if (need[k]) {
                    return fail(issue, i, names[k], "is missing for this strategy");
                }
                continue;
            }
            int rc = check_region(dev, r[k], i, names[k], issue);
            if (rc != TB_OK) {
                return rc;
            }
            if (dev->flashes[r[k]->flash]->write_size > l->max_align) {
                return fail(issue, i, names[k], "flash write block is larger than the trailer alignment");
            }
        }
        /* An image needs at least one sector of its own besides the trailer sector. */
        if (im->primary.size < 2 * sector_of(dev, &im->primary)) {
            return fail(issue, i, "primary", "must hold at least two sectors (image + trailer)");
        }
        if (need_secondary && im->secondary.size < 2 * sector_of(dev, &im->secondary)) {
            return fail(issue, i, "secondary", "must hold at least two sectors (image + trailer)");
        }
        if (im->strategy == TB_STRATEGY_SWAP || im->strategy == TB_STRATEGY_OVERWRITE) {
            /* Sector-by-sector copies: every slot cut into the same sector size. */
            uint32_t s = sector_of(dev, &im->primary);
            if (sector_of(dev, &im->secondary) != s || (need_backup && sector_of(dev, &im->backup) != s)) {
                return fail(issue, i, "secondary", "sector size differs from the primary's");
            }
            /* smaller is fine: a compressed image rebuilds into the larger primary */
            if (im->secondary.size > im->primary.size) {
                return fail(issue, i, "secondary", "is larger than the primary slot");
            }
        }
        if (need_backup && im->backup.size < im->primary.size) {
            return fail(issue, i, "backup", "is smaller than the primary slot");
        }
        if (need_status && im->status.size != 2 * sector_of(dev, &im->status)) {
            return fail(issue, i, "status", "must be exactly two sectors");
        }
        /* No region may overlap another, of this image or of any other. */
        for (int j = 0; j <= i; j++) {
            const struct tb_image_layout *o = &l->img[j];
            const struct tb_region *q[4] = {&o->primary, &o->secondary, &o->backup, &o->status};
            for (int a = 0; a < 4; a++) {
                for (int b = 0; b < 4; b++) {
                    if ((j < i || a < b) && overlap(r[a], q[b])) {
                        return fail(issue, i, names[a], j == i ? "overlaps another region of the same image"
                                                               : "overlaps a region of another image");
                    }
                }
            }
        }
    }
    return TB_OK;
}
