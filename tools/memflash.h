/* A read-only tb_flash over a memory buffer: lets the host tools run the
 * device-side validator on a file exactly as the bootloader runs it on a slot. */
#ifndef TB_TOOLS_MEMFLASH_H
#define TB_TOOLS_MEMFLASH_H

#include <stddef.h>
#include <stdint.h>

#include "twinboot/flash.h"

/* The area covers the whole buffer (len bytes, at most 4 GiB - 1). */
int tb_memflash_init(struct tb_flash *f, struct tb_area *a, const uint8_t *data, size_t len);

#endif
