/* The two bootloader images' logic, shared by every board port (the nRF5340
 * DK in port/nrf5340, the QEMU mps2-an521 stand-in in port/qemu-an521). A
 * port brings up its hardware, fills these structs and calls in; it jumps
 * (port/cortex-m33) to what comes back. */
#ifndef TB_FW_H
#define TB_FW_H

#include <stdint.h>

#include "twinboot/boot.h"
#include "twinboot/bootlog.h"
#include "twinboot/flash.h"
#include "twinboot/layout.h"
#include "twinboot/netcore.h"

/* The layout both bootloaders use: the simulator's DK layout (lib/layout.c),
 * one table for the simulator, the chip and the emulator. */
#define TB_FW_LAYOUT tb_layout_nrf5340_dk

/* Static heap for mbedTLS's signature checks (6 KiB covers ECDSA-P256 and
 * RSA-2048, docs/porting.md). */
#define TB_FW_CRYPTO_HEAP 6144u

struct tb_fw_app {
    const struct tb_flash *app;  /* flash 0: this core's NVMC */
    const struct tb_flash *qspi; /* flash 2: the external NOR */
    const struct tb_netctl *net; /* the net core's reset line */
    struct tb_shmem shm;         /* the shared region (block + window) */
    struct tb_keyring keys;      /* the trusted public keys */
    struct tb_log log;           /* the console */
    uint32_t app_flash_base;     /* CPU address of flash 0's offset 0 */
};

/* One reset of the app core: run the boot engine, print the boot log. On
 * TB_OK *vtor is the application's vector table (image 0's primary, after
 * its header). TB_E_BOOT_NO_IMAGE: nothing to boot (the port waits for
 * recovery, it must not reset-loop). Other codes: a flash or layout error.
 * rec is filled as far as the engine got. */
int tb_fw_app_boot(const struct tb_fw_app *p, struct tb_boot_record *rec, uint32_t *vtor);

/* The device the layout refers to: flash 0 app, 1 the net core's (remote),
 * 2 QSPI. The remote net flash is static: one device per image. */
void tb_fw_app_device(const struct tb_fw_app *p, struct tb_device *dev);

/* The net core's flash as the app core sees it: the geometry the layout
 * checks, and no access (the app core cannot reach net flash). */
void tb_fw_remote_net_flash(struct tb_flash *f);

struct tb_fw_net {
    const struct tb_flash *net;  /* this core's NVMC (flash 1 of the layout) */
    struct tb_shmem shm;         /* the shared region, as this core maps it */
    struct tb_log log;
    uint32_t net_flash_base;     /* CPU address of the net flash's offset 0 */
    /* called between steps: a port whose reset line is emulated returns
     * only when the core may go on (NULL on the chip: FORCEOFF resets it) */
    void (*poll)(void);
    /* let a little time pass while waiting for a command */
    void (*idle)(void);
};

/* The net-core bootloader: run lib/netboot.c's step machine until the
 * installed application validates; returns its vector table address. Does
 * not return while there is no valid image (it waits for one). A flash
 * error is reported and ends in waiting too. */
uint32_t tb_fw_net_boot(const struct tb_fw_net *p);

#endif
