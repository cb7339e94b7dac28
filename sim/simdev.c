/* The simulated nRF5340 DK: three flashes on one power supply. Saving to
 * and loading from a device directory is sim/simstore.c. */
#define _POSIX_C_SOURCE 200809L

#include "twinboot/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "twinboot/error.h"

int tb_simdev_init(struct tb_simdev *d)
{
    if (d == NULL)
        return TB_E_INVAL;
    memset(d, 0, sizeof(*d));
    for (int i = 0; i < TB_SIM_NFLASH; i++) {
        const struct tb_sim_part *p = &tb_sim_nrf5340_parts[i];
        int rc = tb_simflash_init(&d->fl[i], p->name, p->size, p->sector_size, p->write_size,
                                  &p->timing, &d->power);
        if (rc != TB_OK) {
            tb_simdev_free(d);
            return rc;
        }
    }
    return TB_OK;
}

void tb_simdev_free(struct tb_simdev *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        tb_simflash_free(&d->fl[i]);
    tb_simdev_forget_disk(d);
}

void tb_simdev_arm_cut(struct tb_simdev *d, uint64_t op, uint64_t seed)
{
    d->power.cut_at = op == 0 ? 0 : d->power.ops + op;
    d->power.seed = seed;
}

/* Back to time 0: no operation running, none pending. */
static void tb_simdev_reset_clock(struct tb_simdev *d)
{
    d->power.now_ns = 0;
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        d->fl[i].busy_until_ns = 0;
}

void tb_simdev_power_on(struct tb_simdev *d)
{
    d->power.off = false;
    d->power.cut_at = 0;
    d->power.ops = 0;
    tb_simdev_reset_clock(d);
}

void tb_simdev_reset_counters(struct tb_simdev *d)
{
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        tb_simflash_reset_counters(&d->fl[i]);
    tb_simdev_reset_clock(d);
}

uint64_t tb_simdev_elapsed_ns(const struct tb_simdev *d)
{
    uint64_t t = d->power.now_ns;
    for (int i = 0; i < TB_SIM_NFLASH; i++)
        if (d->fl[i].busy_until_ns > t)
            t = d->fl[i].busy_until_ns;
    return t;
}
