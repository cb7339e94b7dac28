/* The nRF5340 DK's layout: the table the simulator uses and, unless the
 * firmware build is given a Partition Manager file (make firmware
 * LAYOUT=pm_static.yml), the one the bootloaders are built with. */
#include <stdint.h>

#include "twinboot/layout.h"

/* The nRF5340 DK as NCS's Partition Manager lays it out (pm_static.yml in
 * docs/nrf5340-facts.md), plus twinboot's backup and journal areas in
 * the QSPI space NCS leaves free, where `twinboot layout` places them: this
 * is what `twinboot layout c tests/layouts/nrf5340dk-partitions.yml` writes
 * (tests/test_layout.c checks it). Image 1's primary is the net core's own
 * flash after its 32 KiB bootloader. */
const struct tb_layout tb_layout_nrf5340_dk = {
    .image_count = 2,
    .max_align = 8,
    .img = {
        {
            .strategy = TB_STRATEGY_SWAP,
            .primary = {0, 0x10000, 0xe0000},
            .secondary = {2, 0x0, 0xe0000},
            .backup = {2, 0x120000, 0xe0000},
            .status = {2, 0x280000, 0x2000},
        },
        {
            .strategy = TB_STRATEGY_HANDOVER,
            .primary = {1, 0x8000, 0x38000},
            .secondary = {2, 0xe0000, 0x40000},
            .backup = {2, 0x200000, 0x80000}, /* two halves: backup + copy of the image installed */
            .status = {2, 0x282000, 0x2000},
        },
    },
};

/* The shared RAM region of net-core hand-overs: pcd_sram's place in NCS's
 * layout, grown to the command block plus a whole net slot (what `layout c`
 * writes for the same file). */
const uint32_t tb_layout_nrf5340_dk_shmem_base = 0x20000000u;
const uint32_t tb_layout_nrf5340_dk_shmem_size = 0x38080u;
