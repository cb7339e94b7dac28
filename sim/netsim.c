/* The simulated network core: its bootloader stepping on the net flash,
 * interleaved with the app core's polling by a seed. */
#include <stdlib.h>
#include <string.h>

#include "twinboot/error.h"
#include "twinboot/sim.h"

static uint64_t next_rand(uint64_t *s)
{
    /* splitmix64: small, and the same sequence for the same seed everywhere */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int ctl_hold(void *ctx)
{
    struct tb_simnet *n = ctx;
    if (n->d->power.off) {
        return TB_E_POWER;
    }
    n->running = false;
    return TB_OK;
}

static int ctl_release(void *ctx)
{
    struct tb_simnet *n = ctx;
    if (n->d->power.off) {
        return TB_E_POWER;
    }
    tb_netboot_reset(&n->nb);
    n->now_ns = n->d->power.now_ns; /* out of reset now: it did nothing while held */
    n->running = true;
    n->state = TB_NB_START;
    return TB_OK;
}

/* While the app core waits, the net core runs a few steps. */
static int ctl_wait(void *ctx, uint32_t us)
{
    struct tb_simnet *n = ctx;
    if (n->d->power.off) {
        return TB_E_POWER;
    }
    n->d->power.now_ns += us;
    if (!n->running || n->silent) {
        return TB_OK;
    }
    uint32_t k = 1 + (uint32_t)(next_rand(&n->rng) % 8);
    for (uint32_t i = 0; i < k; i++) {
        int rc = tb_netboot_step(&n->nb);
        n->steps++;
        if (rc < 0) {
            return rc;
        }
        n->state = rc;
        if (rc == TB_NB_JUMP) {
            break;
        }
    }
    /* the app core sees the result of these steps: not before they ended */
    if (n->now_ns > n->d->power.now_ns) {
        n->d->power.now_ns = n->now_ns;
    }
    return TB_OK;
}

void tb_simnet_power_loss(struct tb_simnet *n, uint64_t seed)
{
    uint64_t s = seed ^ 0x5eedULL;
    for (uint32_t i = 0; i < n->ram_size; i++) {
        n->ram[i] = (uint8_t)next_rand(&s);
    }
    n->running = false;
    n->state = TB_NB_START;
}

int tb_simnet_init(struct tb_simnet *n, struct tb_simdev *d, const struct tb_area *net_app, uint32_t ram_size,
                   uint64_t seed)
{
    memset(n, 0, sizeof(*n));
    if (ram_size < TB_NC_WINDOW_OFF) {
        return TB_E_INVAL;
    }
    n->ram = malloc(ram_size);
    if (n->ram == NULL) {
        return TB_E_NOSPACE;
    }
    n->d = d;
    n->ram_size = ram_size;
    n->shm = (struct tb_shmem){n->ram, ram_size};
    n->rng = seed;
    tb_simnet_power_loss(n, seed);
    tb_netboot_init(&n->nb, net_app, &n->shm);
    n->ctl = (struct tb_netctl){ctl_hold, ctl_release, ctl_wait, n};
    d->fl[TB_SIM_NET].cpu_ns = &n->now_ns; /* the net flash stalls the net core, not the app core */
    return TB_OK;
}

void tb_simnet_free(struct tb_simnet *n)
{
    free(n->ram);
    n->ram = NULL;
    if (n->d != NULL && n->d->fl[TB_SIM_NET].cpu_ns == &n->now_ns) {
        n->d->fl[TB_SIM_NET].cpu_ns = NULL;
    }
}

int tb_simnet_settle(struct tb_simnet *n, uint32_t max_steps)
{
    for (uint32_t i = 0; i < max_steps && n->running && !n->silent; i++) {
        if (n->d->power.off) {
            return TB_E_POWER;
        }
        int rc = tb_netboot_step(&n->nb);
        n->steps++;
        if (rc < 0) {
            return rc;
        }
        n->state = rc;
        if (rc == TB_NB_JUMP || rc == TB_NB_IDLE) {
            break;
        }
    }
    return n->state;
}
