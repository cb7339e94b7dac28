#include "memflash.h"

#include <string.h>

#include "twinboot/error.h"

static int mem_read(const struct tb_flash *f, uint32_t off, void *buf, uint32_t len)
{
    if (off > f->size || len > f->size - off) {
        return TB_E_RANGE;
    }
    memcpy(buf, (const uint8_t *)f->ctx + off, len);
    return TB_OK;
}

static int mem_program(const struct tb_flash *f, uint32_t off, const void *buf, uint32_t len)
{
    (void)f;
    (void)off;
    (void)buf;
    (void)len;
    return TB_E_UNSUPPORTED;
}

static int mem_erase(const struct tb_flash *f, uint32_t off)
{
    (void)f;
    (void)off;
    return TB_E_UNSUPPORTED;
}

int tb_memflash_init(struct tb_flash *f, struct tb_area *a, const uint8_t *data, size_t len)
{
    if (len >= UINT32_MAX) {
        return TB_E_RANGE;
    }
    memset(f, 0, sizeof(*f));
    f->name = "file";
    f->size = (uint32_t)len;
    f->sector_size = 1;
    f->write_size = 1;
    f->erased_val = 0xff;
    f->read = mem_read;
    f->mapped = data;
    f->program = mem_program;
    f->erase = mem_erase;
    f->ctx = (void *)(uintptr_t)data;
    a->flash = f;
    a->off = 0;
    a->size = (uint32_t)len;
    return TB_OK;
}
