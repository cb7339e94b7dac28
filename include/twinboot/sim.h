/* The simulated nRF5340 DK memories (host only).
 *
 * A tb_simflash is a NOR flash with real semantics behind the tb_flash
 * interface: erase sets erased_val, program only clears bits, writes must be
 * aligned, and a write block programmed twice without an erase is an error.
 * All flashes of one tb_simdev share one power supply: operations (program and
 * erase; reads change nothing and are not counted) are numbered from 1 across
 * the device, and a cut can be armed at any operation number. The operation
 * hit by the cut is torn (a reproducible mix of old and new state, from the
 * seed) and every later access fails with TB_E_POWER until power is restored.
 *
 * Elapsed time (beside the busy_ns sums): an operation starts at max(CPU clock
 * power.now_ns, its flash's busy_until_ns) and the CPU waits for its end, except
 * an erase on an async_erase part: the QSPI NOR erases inside the external chip,
 * overlapping internal-flash work; only later accesses to that chip wait for it.
 * The net core is a second CPU with its own clock (struct tb_simnet): its
 * flash operations advance that clock, not the app core's, and the app core
 * catches up with it only when it sees an answer (tb_netctl.wait).
 */
#ifndef TWINBOOT_SIM_H
#define TWINBOOT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twinboot/flash.h"
#include "twinboot/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Datasheet timing of one part; all in nanoseconds. */
struct tb_sim_timing {
    uint64_t erase_ns;      /* one sector erase */
    uint64_t prog_ns;       /* programming prog_unit bytes */
    uint32_t prog_unit;     /* bytes per prog_ns (4 for NVMC words, 256 for a QSPI page) */
    uint64_t read_ns_per_kib; /* reading 1024 bytes (0: memory-mapped, not modelled) */
    bool async_erase;         /* erase runs in the part: the CPU does not wait (QSPI) */
    bool async_program;       /* the last page of a program runs in the part while the CPU goes on (QSPI) */
};

/* The power supply shared by the flashes of one device. */
struct tb_sim_power {
    uint64_t ops;       /* program/erase operations started since power-on */
    uint64_t cut_at;    /* operation number that is torn; 0 = no cut armed */
    bool off;           /* set once the cut happened */
    uint64_t seed;      /* makes torn patterns reproducible */
    uint64_t now_ns;    /* device clock: app-core CPU time since power-on / reset_counters */
};

struct tb_sim_counters {
    uint64_t erases;           /* sector erases */
    uint64_t prog_ops;         /* program calls */
    uint64_t bytes_programmed;
    uint64_t read_ops;
    uint64_t bytes_read;
    uint64_t busy_ns;          /* modelled erase + program time */
    uint64_t read_ns;          /* modelled read time (kept apart: MCUboot's figures exclude it) */
};

struct tb_simflash {
    struct tb_flash flash;     /* hand &flash to device code */
    uint8_t *mem;              /* size bytes */
    uint8_t *written;          /* one flag per write block: programmed since its last erase */
    uint32_t *sector_erases;   /* wear: erases per sector, since creation of the counters */
    struct tb_sim_power *power;
    struct tb_sim_timing timing;
    struct tb_sim_counters cnt;
    uint64_t busy_until_ns;    /* device-clock time at which this part's last operation ends */
    uint64_t *cpu_ns;          /* the clock of the CPU that drives this part; NULL: the app core's
                                * (power->now_ns). The net flash runs on the simulated net core's. */
};

/* Create a flash filled with erased_val. Returns TB_OK or TB_E_INVAL / TB_E_NOSPACE. */
int tb_simflash_init(struct tb_simflash *sf, const char *name, uint32_t size, uint32_t sector_size,
                     uint32_t write_size, const struct tb_sim_timing *timing,
                     struct tb_sim_power *power);
void tb_simflash_free(struct tb_simflash *sf);
/* Counters and wear only: the clock belongs to the device (tb_simdev_reset_counters). */
void tb_simflash_reset_counters(struct tb_simflash *sf);
/* The most erases any one sector has received since the counters were reset. */
uint32_t tb_simflash_max_sector_erases(const struct tb_simflash *sf);

/* The nRF5340 DK: app-core internal flash, net-core internal flash, QSPI NOR. */
enum { TB_SIM_APP = 0, TB_SIM_NET = 1, TB_SIM_QSPI = 2, TB_SIM_NFLASH = 3 };

struct tb_simdev {
    struct tb_sim_power power;
    struct tb_simflash fl[TB_SIM_NFLASH];
    /* sim/simstore.c: what the files of disk_dir hold, so a save writes only what changed */
    uint8_t *disk[TB_SIM_NFLASH];
    char *disk_dir;
    uint32_t save_fault_at; /* tests: the save stops (as a crash) at this disk-changing step; 0 = never */
    uint32_t save_steps;    /* steps of the last save */
};

/* Geometry and timing model of the nRF5340 DK (one table, sim/nrf5340_model.c). */
struct tb_sim_part {
    const char *name;
    const char *file; /* file name in a device directory */
    uint32_t size, sector_size, write_size;
    struct tb_sim_timing timing;
};
extern const struct tb_sim_part tb_sim_nrf5340_parts[TB_SIM_NFLASH];

int tb_simdev_init(struct tb_simdev *d);
void tb_simdev_free(struct tb_simdev *d);
/* ---- the device directory (sim/simstore.c) ---------------------------- */

/* A small file saved together with the flashes (the boot record, counters). */
struct tb_sim_file {
    const char *name;
    const void *data;
    uint32_t len;
};

/* Save every flash (the sectors that differ from the files) and the extra
 * files to dir (created if missing), all or nothing: a redo log committed by
 * one rename, then applied. On failure err says what failed and the files
 * hold the state before the save (or, past the commit, the next load
 * completes it). TB_OK, TB_E_IO, TB_E_INVAL, TB_E_NOSPACE; TB_E_POWER when a
 * test's save_fault_at stopped it. */
int tb_simdev_save_files(struct tb_simdev *d, const char *dir, const struct tb_sim_file *extra, size_t nextra,
                         char *err, size_t errlen);
int tb_simdev_save(struct tb_simdev *d, const char *dir);
/* Finish or drop a save cut short (done by every load). */
int tb_simdev_recover(const char *dir, char *err, size_t errlen);
/* Load every flash from dir; a failed load leaves d untouched and err names
 * the file at fault (missing, wrong size, not a file). */
int tb_simdev_load_err(struct tb_simdev *d, const char *dir, char *err, size_t errlen);
int tb_simdev_load(struct tb_simdev *d, const char *dir);
/* Forget what the files hold (the next save writes every sector). */
void tb_simdev_forget_disk(struct tb_simdev *d);
/* One owner per device directory: an exclusive lock on dir/lock, which holds
 * the owner's PID. TB_OK with *fd (release with tb_simdev_unlock; it also
 * goes when the process dies), TB_E_NOSPACE when taken (*holder: its PID or
 * 0), TB_E_IO when the lock file cannot be made. */
int tb_simdev_lock(const char *dir, int *fd, long *holder);
void tb_simdev_unlock(int fd);
/* Arm a power cut at operation number op (counted from now), torn with seed. 0 disarms. */
void tb_simdev_arm_cut(struct tb_simdev *d, uint64_t op, uint64_t seed);
/* Power back on after a cut (a reset): the counters of operations and the
 * clock (now_ns, every busy_until_ns) restart at 0. */
void tb_simdev_power_on(struct tb_simdev *d);
/* Zero every flash's counters and wear, and the clock. */
void tb_simdev_reset_counters(struct tb_simdev *d);
/* Modelled wall time, in ns, until all flash activity has finished:
 * max(power.now_ns, every busy_until_ns). */
uint64_t tb_simdev_elapsed_ns(const struct tb_simdev *d);

/* The simulated network core: its bootloader (lib/netboot.c) on the net
 * flash, the shared RAM between the cores, and the app core's control of it
 * (struct tb_netctl). The cores are interleaved deterministically: each time
 * the app core waits while polling, the net core runs 1..8 steps, the count
 * drawn from a seeded generator, so a seed picks one interleaving.
 * Time: the net core starts at the app core's time when released and then
 * runs on its own clock (its NVMC stalls it, not the app core); a wait of us
 * moves the app core's clock by us and then to the net core's clock if that
 * is later: what the app core sees of the net core's work cannot be seen
 * before the work is done. Work the app core does between polls (QSPI)
 * therefore overlaps the net core's, and nothing else does. */
struct tb_simnet {
    struct tb_simdev *d;
    uint8_t *ram;           /* the shared region (app-core RAM) */
    uint32_t ram_size;
    struct tb_shmem shm;
    struct tb_netboot nb;
    struct tb_netctl ctl;   /* hand &ctl to the boot engine */
    bool running;           /* released from reset */
    bool silent;            /* a net core that never runs (tests) */
    uint64_t rng;
    uint64_t steps;         /* net-core steps run */
    int state;              /* last result of tb_netboot_step */
    uint64_t now_ns;        /* the net core's clock (same time base as power.now_ns) */
};

/* net_app: the net application slot on d's net flash. */
int tb_simnet_init(struct tb_simnet *n, struct tb_simdev *d, const struct tb_area *net_app, uint32_t ram_size,
                   uint64_t seed);
void tb_simnet_free(struct tb_simnet *n);
/* A power cut: RAM loses its contents (filled from the seed), the net core stops. */
void tb_simnet_power_loss(struct tb_simnet *n, uint64_t seed);
/* After the app core released it for good: run the net core until it jumps
 * to its application or waits for an image (at most max_steps). Its state. */
int tb_simnet_settle(struct tb_simnet *n, uint32_t max_steps);

#ifdef __cplusplus
}
#endif
#endif
