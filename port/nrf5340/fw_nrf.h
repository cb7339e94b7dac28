/* The two nRF5340 DK bootloader images: what both mains agree on. */
#ifndef TB_FW_NRF_H
#define TB_FW_NRF_H

#include <stddef.h>

#include "twinboot/image.h"

#define TB_NRF_APP_FLASH_BASE 0x00000000u
#define TB_NRF_NET_FLASH_BASE 0x01000000u
/* The shared region (command block + a window that takes a whole net image)
 * is the layout's (tb_layout_nrf5340_dk_shmem_base/size: pcd_sram's place
 * on the DK); the net core reads app RAM at the same addresses.
 * scripts/firmware.sh places the app bootloader's own RAM and the LZMA
 * decoder's RAM (compressed images, TB_DECOMP_RAM bytes, lent only while the
 * bootloader runs) beside it, from the same layout. */
#ifndef TB_NRF_DECOMP_BASE
#error "TB_NRF_DECOMP_BASE comes from scripts/firmware.sh (port/fw/fwlayout.c)"
#endif
#define TB_NRF_RAM_END 0x20080000u

/* The trusted keys, generated at build time from keys/ (scripts/firmware.sh). */
extern const struct tb_key tb_fw_keys[];
extern const size_t tb_fw_nkeys;

#endif
