/* The secondary as the strategies see it: for a compressed image, the image
 * it rebuilds (a read-only view that decodes as it is read, see
 * twinboot/decompress.h). Everything downstream (admission, the journal's
 * sizes and hashes, the sector copies, the net core's window) then works on
 * the rebuilt image exactly as on a plain one. */
#include "boot_priv.h"
#include "twinboot/decompress.h"
#include "twinboot/error.h"

int tb_source_view(const struct tb_boot_ctx *c, struct tb_area *src)
{
    struct tb_image_header h;
    int rc = tb_image_read_header(&c->sec_img, &h);
    if (rc != TB_OK) {
        return rc;
    }
    if (!tb_image_compressed(&h)) {
        *src = c->sec;
        return TB_OK;
    }
    /* the view has the primary's room, cut in the copy's sectors */
    const struct tb_flash *pf = c->pri.flash;
    return tb_decomp_open(&c->sec_img, c->pri_img.size, c->sector, pf->write_size, pf->erased_val, src);
}

int tb_boot_validate_src(struct tb_boot_ctx *c, const struct tb_area *a, bool sig, struct tb_image_info *info)
{
    int rc = tb_boot_validate(c, a, sig, info);
    if (rc != TB_OK || a != &c->sec_img || !tb_image_compressed(&info->hdr)) {
        return rc;
    }
    /* the image as sent is intact (and signed); now what it rebuilds, in
     * full (DECOMP_SHA, DECOMP_SIGNATURE), before anything is written. Its
     * digest is then the trusted one: the primary it is copied into is
     * proved by its hash, as for a plain image. */
    struct tb_area v;
    rc = tb_source_view(c, &v);
    return rc == TB_OK ? tb_boot_validate(c, &v, sig, info) : rc;
}
