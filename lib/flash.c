/* Bounds-checked access to a window of a flash part. Every device-side read
 * goes through here, so a corrupt length field can never make code read or
 * write outside the slot it was given. */
#include "twinboot/flash.h"

#include <stddef.h>

#include "twinboot/error.h"

int tb_area_check(const struct tb_area *a, uint32_t off, uint32_t len)
{
    if (a == NULL || a->flash == NULL) {
        return TB_E_INVAL;
    }
    if (off > a->size || len > a->size - off) {
        return TB_E_RANGE;
    }
    return TB_OK;
}

int tb_area_read(const struct tb_area *a, uint32_t off, void *buf, uint32_t len)
{
    int rc = tb_area_check(a, off, len);
    if (rc != TB_OK) {
        return rc;
    }
    if (len == 0) {
        return TB_OK;
    }
    return a->flash->read(a->flash, a->off + off, buf, len);
}

int tb_area_program(const struct tb_area *a, uint32_t off, const void *buf, uint32_t len)
{
    int rc = tb_area_check(a, off, len);
    if (rc != TB_OK) {
        return rc;
    }
    if (len == 0) {
        return TB_OK;
    }
    return a->flash->program(a->flash, a->off + off, buf, len);
}

int tb_area_erase(const struct tb_area *a, uint32_t off, uint32_t len)
{
    int rc = tb_area_check(a, off, len);
    if (rc != TB_OK) {
        return rc;
    }
    const uint32_t ss = a->flash->sector_size;
    if (ss == 0 || (a->off + off) % ss != 0 || len % ss != 0) {
        return TB_E_ALIGN;
    }
    for (uint32_t o = 0; o < len; o += ss) {
        rc = a->flash->erase(a->flash, a->off + off + o);
        if (rc != TB_OK) {
            return rc;
        }
    }
    return TB_OK;
}
