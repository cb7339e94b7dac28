/* The net core's reset line on the an521. The first release lets CPU1 out
 * of CPUWAIT at the net bootloader (INITSVTOR1), as FORCEOFF's release lets
 * the nRF5340 net core out of reset. The SSE-200 cannot put a running CPU
 * back in reset, so later holds are emulated: CPU1 stops at its next poll
 * (between two bootloader steps, or in its application's loop), says so,
 * and when released starts its bootloader again from its reset vector. */
#include "an521.h"
#include "tb_m33.h"
#include "twinboot/error.h"

#define HOLD_TIMEOUT_PERIODS 100000u

static int q_hold(void *ctx)
{
    (void)ctx;
    struct tb_q_ctl *c = TB_Q_CTL;
    if (!c->started) {
        return TB_OK; /* still in CPUWAIT since power-on */
    }
    c->hold = 1;
    for (uint32_t i = 0; c->held == 0; i++) {
        if (i >= HOLD_TIMEOUT_PERIODS) {
            return TB_E_IO;
        }
        tb_q_sleep();
    }
    return TB_OK;
}

static int q_release(void *ctx)
{
    (void)ctx;
    struct tb_q_ctl *c = TB_Q_CTL;
    if (!c->started) {
        c->started = 1;
        c->net_state = TB_Q_NET_BOOTING;
        TB_Q_INITSVTOR1 = TB_Q_NET_FLASH_BASE;
        TB_Q_CPUWAIT = 0;
        return TB_OK;
    }
    c->net_state = TB_Q_NET_BOOTING;
    c->held = 0;
    c->gen++; /* the held core leaves its wait even if the next hold comes at once */
    c->hold = 0;
    return TB_OK;
}

static int q_wait(void *ctx, uint32_t us)
{
    (void)ctx;
    uint32_t start = tb_q_ticks(), ticks = us * 20u; /* 20 MHz */
    while (tb_q_ticks() - start < ticks) {
        tb_q_sleep();
    }
    return TB_OK;
}

void tb_q_netctl_init(struct tb_netctl *nc) { *nc = (struct tb_netctl){q_hold, q_release, q_wait, NULL}; }

void tb_q_net_poll(void)
{
    struct tb_q_ctl *c = TB_Q_CTL;
    if (!c->hold) {
        return;
    }
    uint32_t gen = c->gen;
    c->net_state = TB_Q_NET_OFF;
    c->held = 1;
    while (c->gen == gen) {
    }
    tb_m33_jump(TB_Q_NET_FLASH_BASE); /* out of "reset": the net bootloader again */
}
