/* `twinboot sim boot DIR --qemu`: one reset of a device directory on QEMU's
 * mps2-an521 (port/qemu-an521): the firmware bootloaders read and write
 * DIR's flash files through semihosting, then the test applications run. */
#ifndef TB_QEMU_RUN_H
#define TB_QEMU_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "twinboot/boot.h"
#include "twinboot/image.h"

struct tb_qemu_opts {
    uint64_t cut_insns;  /* cut the power after this many guest instructions (0: no cut) */
    const char *confirm; /* NULL, "0", "1" or "all": the test applications confirm these images */
    int stats;           /* the test application prints instruction and stack figures */
};

/* Runs QEMU on dir (its flashes must be saved), with cfg's keys provisioned
 * to the bootloader. The firmware is built for the DK layout
 * (tb_layout_nrf5340_dk) and MCUboot's defaults (one test boot, no downgrade
 * prevention): a device configured otherwise is refused. Returns a CLI exit
 * code (cli.h); prints what went wrong. */
int tb_qemu_boot(const char *dir, const struct tb_boot_config *cfg, const struct tb_qemu_opts *o);

#endif
