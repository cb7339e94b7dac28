/* The two nRF5340 DK bootloader images: what both mains agree on. */
#ifndef TB_FW_NRF_H
#define TB_FW_NRF_H

#include <stddef.h>

#include "twinboot/image.h"

#define TB_NRF_APP_FLASH_BASE 0x00000000u
#define TB_NRF_NET_FLASH_BASE 0x01000000u
/* The shared region (command block + a window that takes a whole net image)
 * in app RAM after the app bootloader's own 64 KiB; the net core reads app
 * RAM at the same addresses. */
#define TB_NRF_SHM_BASE 0x20010000u
/* The LZMA decoder's RAM (compressed images: TB_DECOMP_RAM, about 158 KiB)
 * after the shared region (which ends below 0x20048100 on the DK layout),
 * inside the 512 KiB of app RAM; lent only while the bootloader runs. */
#define TB_NRF_DECOMP_BASE 0x20050000u
#define TB_NRF_RAM_END 0x20080000u

/* The trusted keys, generated at build time from keys/ (scripts/firmware.sh). */
extern const struct tb_key tb_fw_keys[];
extern const size_t tb_fw_nkeys;

#endif
