/* The nRF5340 chip port: the drivers a bootloader image links.
 *
 * Compile with -DTB_NRF_NETCORE for the network core. Each driver is written
 * against docs/nrf5340-registers.md (facts cited by section
 * as "regs §n" in the sources); docs/porting.md says what each relies on and
 * what stays unverified on silicon.
 *
 * Every fallible call returns TB_OK or a negative tb_err (twinboot/error.h);
 * every poll of a hardware flag is bounded (TB_E_IO on time-out). */
#ifndef TWINBOOT_NRF5340_PORT_H
#define TWINBOOT_NRF5340_PORT_H

#include <stdint.h>

#include "twinboot/flash.h"
#include "twinboot/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* HFCLK from the 32 MHz crystal (HFXO); the CPU stays at 64 MHz. */
int tb_nrf_clock_init(void);
/* Stop what tb_nrf_clock_init started (before the jump, as sdk-mcuboot does). */
int tb_nrf_clock_deinit(void);

/* UARTE0, 115200 8N1, no flow control. App core: TX P0.20 / RX P0.22 (the
 * DK's VCOM). Net core: TX P1.01 / RX P1.00, which print only once the app
 * core gave those pins to the net core (tb_nrf_console_forward_net). */
int tb_nrf_console_init(void);
/* Blocking, bounded; output is dropped (not an error) if the console is not up. */
void tb_nrf_console_write(const char *s, uint32_t len);
/* Stop and disconnect UARTE0, pins back to their reset state (before the jump). */
int tb_nrf_console_deinit(void);

/* This core's NVMC as a tb_flash named "app" (1 MiB, 4 KiB pages) or "net"
 * (256 KiB, 2 KiB pages); write_size 4. */
int tb_nrf_nvmc_init(struct tb_flash *f);

/* ---- app core only: on the net core these return TB_E_UNSUPPORTED ---- */

/* QSPI + the DK's MX25R6435F as a tb_flash named "qspi" (8 MiB, 4 KiB sectors, write_size 4). */
int tb_nrf_qspi_init(struct tb_flash *f);
/* Deactivate QSPI, release its pins, HFCLK192M divider back to reset (before the jump). */
int tb_nrf_qspi_deinit(void);

/* SPU: the net core's bus accesses become secure and the 8 KiB RAM regions
 * covering [addr, addr+size) readable and writable to them. addr and size
 * must lie in app RAM; both are rounded out to the 8 KiB region grain. */
int tb_nrf_spu_share_ram(uint32_t addr, uint32_t size);
/* Undo the EXTDOMAIN part (net accesses non-secure again), as NCS's PCD does after an update. */
int tb_nrf_spu_unshare(void);

/* Give the net core's console pins (P1.00, P1.01) to the net core (MCUSEL),
 * or take them back (before the jump: the app image assigns pins itself). */
int tb_nrf_console_forward_net(int on);

/* RESET.NETWORK.FORCEOFF behind tb_netctl: hold, release (with erratum
 * 161's sequence where it applies) and a busy wait(). */
int tb_nrf_netctl_init(struct tb_netctl *nc);

/* Busy-wait at least us microseconds (CPU at 64 MHz or less). */
void tb_nrf_delay_us(uint32_t us);

#ifdef __cplusplus
}
#endif
#endif
