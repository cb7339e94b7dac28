/* The QEMU mps2-an521 stand-in for the nRF5340 DK: where each piece lives
 * (Secure aliases; facts in docs/porting.md, "QEMU"), and the control block
 * the two CPUs share in place of the nRF5340's reset line and IPC.
 *
 *   code SSRAM 0x10000000  "app flash" 1 MiB: bootloader, then image 0's slot (XIP mirror)
 *              0x10100000  "net flash" 256 KiB: net bootloader, then image 1's slot
 *   data SSRAM 0x38000000  app-core RAM (512 KiB)
 *              0x38100000  net-core RAM (64 KiB)
 *              0x38200000  the shared region: command block + window
 *              0x38300000  struct tb_q_ctl
 * The flashes themselves are the device directory's files (app.bin, net.bin,
 * qspi.bin), read and written through semihosting: a run ends (or a power cut
 * stops it) with the files as the flash was. The mirrors only give the CPU
 * something to execute after the jump. */
#ifndef TB_AN521_H
#define TB_AN521_H

#include <stdint.h>

#include "tb_fw.h"
#include "twinboot/boot.h"
#include "twinboot/flash.h"
#include "twinboot/netcore.h"

#define TB_Q_APP_FLASH_BASE 0x10000000u
#define TB_Q_NET_FLASH_BASE 0x10100000u
#define TB_Q_SHM_BASE 0x38200000u
#define TB_Q_CTL_BASE 0x38300000u

#define TB_Q_CPU_IDENTITY (*(volatile uint32_t *)0x4001F000u)
#define TB_Q_INITSVTOR1 (*(volatile uint32_t *)0x50021114u)
#define TB_Q_CPUWAIT (*(volatile uint32_t *)0x50021118u)

/* SysTick runs at 20 MHz; with -icount shift=0 one instruction is 1 ns of
 * virtual time, summed over both CPUs: one tick per 50 instructions. */
#define TB_Q_INSNS_PER_TICK 50u

/* Exit codes of a run (QEMU's status): the CLI's codes. */
enum { TB_Q_EXIT_OK = 0, TB_Q_EXIT_FAIL = 1, TB_Q_EXIT_NO_IMAGE = 3, TB_Q_EXIT_CUT = 4 };

enum { TB_Q_NET_OFF = 0, TB_Q_NET_BOOTING = 1, TB_Q_NET_WAITING = 2, TB_Q_NET_RUNNING = 3 };

/* Shared by the two CPUs and by the bootloaders and the test applications
 * of one run (zero at power-on: QEMU starts with cleared RAM). */
struct tb_q_ctl {
    volatile uint32_t started;   /* CPU1 was let out of CPUWAIT */
    volatile uint32_t hold;      /* app core: the net core must stop (FORCEOFF) */
    volatile uint32_t held;      /* net core: stopped, waiting for the release */
    volatile uint32_t gen;       /* app core: releases so far (a held net core waits for the next) */
    volatile uint32_t net_state; /* TB_Q_NET_* */
    volatile int32_t net_fd;     /* the net core's semihosting handle of net.bin (kept across its resets) */
    volatile uint32_t net_stack; /* net bootloader stack high-water (bytes) */
    volatile uint32_t app_stack; /* app bootloader stack high-water (bytes) */
    volatile uint32_t boot_ticks;   /* ticks when the app bootloader jumped */
    volatile uint32_t ticks;        /* ticks counted so far by CPU0 (carried across the jump) */
    volatile uint32_t cut_ticks;    /* power cut at this tick count (0: none) */
    volatile uint32_t net_ver_valid;
    struct tb_image_version net_ver;
    struct tb_boot_record rec;      /* what the app bootloader decided */
};
#define TB_Q_CTL ((struct tb_q_ctl *)TB_Q_CTL_BASE)

/* The run's parameters, from the semihosting command line:
 * "DIR [cut=TICKS] [confirm=0|1|all] [stats]". */
struct tb_q_args {
    char dir[200];
    uint32_t cut_ticks;
    int confirm0, confirm1, stats;
};
int tb_q_args(struct tb_q_args *a);

/* A flash part backed by a device-directory file. mirror: CPU address the
 * part is mapped at (for tb_q_flash_mirror), 0 for none. */
struct tb_q_flash {
    struct tb_flash flash;
    int fd;
    uint32_t mirror;
};
int tb_q_flash_open(struct tb_q_flash *q, const char *dir, const char *file, const char *name, uint32_t size,
                    uint32_t sector, uint32_t mirror);
/* Reuse a handle (the net core, after an emulated reset). */
void tb_q_flash_attach(struct tb_q_flash *q, int fd, const char *name, uint32_t size, uint32_t sector,
                       uint32_t mirror);
/* Copy [off, off+len) of the part to its mirror, so the CPU can run it. */
int tb_q_flash_mirror(const struct tb_q_flash *q, uint32_t off, uint32_t len);

/* The console: semihosting. */
extern const struct tb_log tb_q_log;

/* CPU0's clock and the power cut: SysTick counts ticks; at cut_ticks the run
 * ends as a power cut (exit 4). */
void tb_q_clock_start(uint32_t ticks, uint32_t cut_ticks);
uint32_t tb_q_ticks(void);
/* Sleep until the next tick period (CPU0). */
void tb_q_sleep(void);

/* The app core's control of CPU1 (struct tb_netctl on the an521). */
void tb_q_netctl_init(struct tb_netctl *nc);
/* The net core side: called between steps and in its application; returns
 * at once unless the app core holds it, then waits for the release and
 * restarts the net bootloader (an emulated reset). */
void tb_q_net_poll(void);

/* The app core's devices (appcore.c): flashes, reset line, shared region, keys. */
int tb_q_app_port(const char *dir, struct tb_fw_app *p);
/* Map [off, off+len) of the app flash for execution. */
int tb_q_app_mirror(uint32_t off, uint32_t len);

#endif
